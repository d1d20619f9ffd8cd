//! NBD exports on a unix socket (being written).
