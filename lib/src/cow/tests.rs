//! Store-level tests: kernel figures, commit order, crash consistency, hostile bytes.
