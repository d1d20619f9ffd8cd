//! LVM2's on-disk metadata: label, PV header, metadata area header, text metadata.
