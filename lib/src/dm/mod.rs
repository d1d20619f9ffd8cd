//! The device-mapper table model.
