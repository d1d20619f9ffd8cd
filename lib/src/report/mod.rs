//! Reports as lvm2 prints them: sizes in lvm2's units, percentages rounded
//! the way libdevmapper rounds them, `lv_attr` strings, and the field tables
//! that drive `-o`, headings, the aligned human format and lvm2's JSON.

pub mod attr;
pub mod fields;
pub mod percent;
pub mod render;
pub mod units;
