//! The kernel's COW exception stores (dm-snap-persistent.c, dm-snap-transient.c), byte for byte.
