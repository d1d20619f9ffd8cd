//! Arbitrary device bytes as a PV. The input's checksums are fixed up first
//! (label CRC and sector field, each metadata area header's CRC and size,
//! the committed text's CRC), so the mutations reach the decoders behind
//! them: label, area headers, text, VG parse and validation must end in a
//! typed error or a value, and what decodes encodes back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rlvm::io::MemDisk;
use rlvm::lvm2::crc::lvm2_crc;
use rlvm::lvm2::label::{Label, LABEL_ID, SECTOR};
use rlvm::lvm2::mda::{MdaHeader, MDA_MAGIC};
use rlvm::lvm2::store::{newest_vg, read_copies, PvDevice};
use rlvm::lvm2::validate::validate;

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// Make the checksums and self-references of `image` right, so only the
/// contents the fuzzer chose can be wrong.
fn fix_up(image: &mut [u8]) {
    for sector in 0..4usize {
        let at = sector * SECTOR;
        if image.len() < at + SECTOR || &image[at..at + 8] != LABEL_ID {
            continue;
        }
        image[at + 8..at + 16].copy_from_slice(&(sector as u64).to_le_bytes());
        let crc = lvm2_crc(&image[at + 20..at + SECTOR]);
        image[at + 16..at + 20].copy_from_slice(&crc.to_le_bytes());
        let sector_bytes: [u8; SECTOR] = image[at..at + SECTOR].try_into().unwrap();
        let Ok(Some(label)) = Label::decode(&sector_bytes, sector as u64) else {
            return;
        };
        for area in &label.metadata_areas {
            let Ok(start) = usize::try_from(area.offset) else {
                continue;
            };
            if start.checked_add(512).is_none_or(|end| end > image.len()) {
                continue;
            }
            let header = &mut image[start..start + 512];
            if &header[4..20] != MDA_MAGIC {
                continue;
            }
            header[24..32].copy_from_slice(&area.offset.to_le_bytes());
            // The area must fit the device; keep the fuzzer's size when it does.
            let room = (image.len() - start) as u64;
            let size = le64(&image[start..], 32);
            if size > room {
                image[start + 32..start + 40].copy_from_slice(&room.to_le_bytes());
            }
            let (offset, text_size) = (le64(&image[start..], 40), le64(&image[start..], 48));
            let text_at = (start as u64).checked_add(offset);
            if let Some(end) = text_at.and_then(|t| t.checked_add(text_size)) {
                if end <= image.len() as u64 && text_size > 0 {
                    let text = &image[text_at.unwrap() as usize..end as usize];
                    let crc = lvm2_crc(text);
                    image[start + 56..start + 60].copy_from_slice(&crc.to_le_bytes());
                }
            }
            let crc = lvm2_crc(&image[start + 4..start + 512]);
            image[start..start + 4].copy_from_slice(&crc.to_le_bytes());
        }
        return;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut image = data.to_vec();
    fix_up(&mut image);
    let disk = MemDisk::from_bytes(image.clone());
    if let Ok(Some(pv)) = PvDevice::open(&disk) {
        let sector = pv.label.sector as usize * SECTOR;
        let encoded = pv.label.encode().expect("a decoded label encodes");
        assert_eq!(
            Label::decode(&encoded, pv.label.sector).unwrap().as_ref(),
            Some(&pv.label)
        );
        assert_eq!(encoded[..8], image[sector..sector + 8]);
        for header in &pv.mdas {
            assert_eq!(
                &MdaHeader::decode(&header.encode(), header.start).unwrap(),
                header
            );
            assert!(header.start + header.size <= image.len() as u64);
        }
        if let Ok(Some((vg, _))) = newest_vg(read_copies(&pv)) {
            let _ = validate(&vg);
        }
    }
    if data.len() >= 512 {
        let sector: [u8; 512] = data[..512].try_into().unwrap();
        if let Ok(header) = MdaHeader::decode(&sector, 0) {
            assert_eq!(MdaHeader::decode(&header.encode(), 0).unwrap(), header);
        }
    }
});
