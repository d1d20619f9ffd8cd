//! The dm operations behind one trait, implemented by the kernel and by the userspace engine.
