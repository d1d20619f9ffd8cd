//! Arbitrary text as a dm table: parsing never panics, and whatever parses
//! prints back to text that parses to the same table.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlvm::dm::parse_table;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(table) = parse_table(text) {
        let printed: String = table.iter().map(|line| format!("{line}\n")).collect();
        let again = parse_table(&printed).expect("a printed table parses");
        assert_eq!(again, table);
    }
});
