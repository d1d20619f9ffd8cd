//! The mapper directory over FUSE (being written).
