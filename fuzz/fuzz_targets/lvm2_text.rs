//! Arbitrary metadata text: parsing never panics, and a text that parses
//! as a VG emits text that parses to the same VG.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlvm::lvm2::model::Vg;
use rlvm::lvm2::text;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(items) = text::parse(input) {
        let again = text::parse(&text::emit(&items)).expect("emitted text parses");
        assert_eq!(again.len(), items.len());
    }
    if let Ok(vg) = Vg::parse(input) {
        assert_eq!(Vg::parse(&vg.to_text()).expect("emitted VG parses"), vg);
    }
});
