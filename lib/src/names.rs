//! lvm2 names and dm names.
