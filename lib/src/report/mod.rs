//! Reports as lvm2 prints them: sizes in lvm2's units, percentages rounded
//! the way libdevmapper rounds them, `lv_attr` strings, lvm2's field catalog
//! and the values of each field, the rows of lvs/vgs/pvs with selection and
//! sorting, and aligned/separator/JSON output.

pub mod attr;
pub mod catalog;
pub mod display;
pub mod percent;
pub mod query;
pub mod render;
pub mod rows;
pub mod select;
pub mod units;
pub mod values;
