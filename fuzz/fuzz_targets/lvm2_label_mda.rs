//! Arbitrary device bytes as a PV: label and metadata area headers decode
//! to a typed error or a value that encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlvm::io::MemDisk;
use rlvm::lvm2::label::Label;
use rlvm::lvm2::mda::MdaHeader;

fuzz_target!(|data: &[u8]| {
    let disk = MemDisk::from_bytes(data.to_vec());
    if let Ok(Some(label)) = Label::read(&disk) {
        let _ = label.encode();
        for area in &label.metadata_areas {
            if let Ok(header) = MdaHeader::read(&disk, area.offset) {
                let _ = header.read_committed(&disk);
            }
        }
    }
    if data.len() >= 512 {
        let sector: [u8; 512] = data[..512].try_into().unwrap();
        if let Ok(header) = MdaHeader::decode(&sector, 0) {
            assert_eq!(MdaHeader::decode(&header.encode(), 0).unwrap(), header);
        }
    }
});
