//! An LV's first bytes read and written through the PVs its metadata maps
//! it to, so a new LV or COW is zeroed and wiped before any device exists
//! for it (and on engines that cannot open a device node at all).

use std::path::PathBuf;

use crate::io::{BlockIo, FileDisk};
use crate::lvm2::model::{Lv, SegmentKind, Vg};
use crate::ops::volumes::{OpenVg, VolumeError};

/// How much of a new LV lvm2 zeroes (`-Zy`) and a new COW always gets.
pub const ZERO_BYTES: u64 = 4096;

/// How far into an LV the signatures rlvm knows can lie.
const SIGNATURE_SPAN: u64 = 70 * 1024;

/// One piece of an LV: `len` bytes at `lv_offset` live at `pv_offset` on `path`.
#[derive(Debug, Clone)]
struct Piece {
    path: PathBuf,
    lv_offset: u64,
    pv_offset: u64,
    len: u64,
}

/// The start of an LV as byte ranges on its PVs.
#[derive(Debug, Clone)]
pub struct LvRegion {
    pieces: Vec<Piece>,
    size: u64,
}

fn io_error(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> VolumeError + '_ {
    move |source| VolumeError::Device {
        path: path.to_path_buf(),
        source,
    }
}

impl LvRegion {
    /// The mapping of `lv` in `open`'s VG (linear segments only).
    pub fn of(open: &OpenVg, lv: &Lv) -> Result<Self, VolumeError> {
        Self::of_vg(
            &open.vg,
            &|key| open.path_of(key).map(|p| p.to_path_buf()),
            lv,
        )
    }

    /// The mapping of `lv` in `vg`, PV paths by key from `path_of`.
    pub fn of_vg(
        vg: &Vg,
        path_of: &dyn Fn(&str) -> Option<PathBuf>,
        lv: &Lv,
    ) -> Result<Self, VolumeError> {
        let extent_bytes = vg.extent_size * 512;
        let mut pieces = Vec::new();
        let mut size = 0;
        for seg in &lv.segments {
            let SegmentKind::Striped {
                stripes,
                stripe_size,
            } = &seg.kind
            else {
                return Err(VolumeError::Invalid(format!(
                    "{}/{}: only linear and striped volumes can be zeroed",
                    vg.name, lv.name
                )));
            };
            let mut starts = Vec::with_capacity(stripes.len());
            for (key, pe) in stripes {
                let (path, sector) = crate::ops::volumes::pv_area(vg, lv, key, *pe, path_of)?;
                starts.push((path, sector * 512));
            }
            let lv_offset = seg.start_extent * extent_bytes;
            let len = seg.extent_count * extent_bytes;
            size = size.max(lv_offset + len);
            match (starts.len(), stripe_size) {
                (1, _) | (_, None) => {
                    let (path, pv_offset) = starts.swap_remove(0);
                    pieces.push(Piece {
                        path,
                        lv_offset,
                        pv_offset,
                        len,
                    });
                }
                (n, Some(chunk)) => {
                    // Chunk by chunk as dm-stripe deals them, as far as
                    // signatures and zeroing reach.
                    let chunk = chunk * 512;
                    let reach = len.min(SIGNATURE_SPAN.max(ZERO_BYTES).div_ceil(chunk) * chunk);
                    let n = n as u64;
                    let mut k = 0;
                    while k * chunk < reach {
                        let (path, start) = &starts[(k % n) as usize];
                        pieces.push(Piece {
                            path: path.clone(),
                            lv_offset: lv_offset + k * chunk,
                            pv_offset: start + (k / n) * chunk,
                            len: chunk,
                        });
                        k += 1;
                    }
                }
            }
        }
        Ok(Self { pieces, size })
    }

    /// Size of the LV in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Call `f(path, pv_offset, range in buf)` for each piece of `[offset, offset+len)`.
    fn each(
        &self,
        offset: u64,
        len: u64,
        mut f: impl FnMut(&std::path::Path, u64, std::ops::Range<usize>) -> Result<(), VolumeError>,
    ) -> Result<(), VolumeError> {
        for piece in &self.pieces {
            let start = offset.max(piece.lv_offset);
            let end = (offset + len).min(piece.lv_offset + piece.len);
            if start < end {
                f(
                    &piece.path,
                    piece.pv_offset + (start - piece.lv_offset),
                    (start - offset) as usize..(end - offset) as usize,
                )?;
            }
        }
        Ok(())
    }

    /// Read `buf.len()` bytes from LV offset `offset` (clamped to the LV).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), VolumeError> {
        self.each(offset, buf.len() as u64, |path, at, range| {
            let disk = FileDisk::open_read_only(path).map_err(io_error(path))?;
            forget_cached(&disk, at, range.len());
            disk.read_exact_at(&mut buf[range], at)
                .map_err(io_error(path))
        })
    }

    /// Write `data` at LV offset `offset` (clamped to the LV) and make it durable.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), VolumeError> {
        self.each(offset, data.len() as u64, |path, at, range| {
            let disk = FileDisk::open(path).map_err(io_error(path))?;
            forget_cached(&disk, at, range.len());
            disk.write_all_at(&data[range], at)
                .map_err(io_error(path))?;
            disk.flush().map_err(io_error(path))
        })
    }

    /// Zero the first [`ZERO_BYTES`] (less for a smaller LV).
    pub fn zero_start(&self) -> Result<(), VolumeError> {
        let len = ZERO_BYTES.min(self.size) as usize;
        self.write(0, &vec![0u8; len])
    }

    /// The known signatures the LV's start carries, by blkid's names.
    pub fn signatures(&self) -> Result<Vec<Signature>, VolumeError> {
        let mut head = vec![0u8; SIGNATURE_SPAN.min(self.size) as usize];
        self.read(0, &mut head)?;
        Ok(find_signatures(&head))
    }

    /// Erase each signature's magic bytes, as wipefs does.
    pub fn wipe(&self, signatures: &[Signature]) -> Result<(), VolumeError> {
        for signature in signatures {
            self.write(signature.offset, &vec![0u8; signature.len])?;
        }
        Ok(())
    }
}

/// Drop the PV's cached pages of a range before using it: on a block
/// device, the LV's devices wrote that space through their own cache, so
/// the PV's pages may be stale (clean pages only; nothing of ours is dirty).
fn forget_cached(disk: &FileDisk, offset: u64, len: usize) {
    use std::os::fd::AsRawFd;
    let page = 4096;
    let start = offset / page * page;
    let end = (offset + len as u64).div_ceil(page) * page;
    // SAFETY: the descriptor is open for the call; the advice only drops clean cache.
    unsafe {
        libc::posix_fadvise(
            disk.file().as_raw_fd(),
            start as libc::off_t,
            (end - start) as libc::off_t,
            libc::POSIX_FADV_DONTNEED,
        );
    }
}

/// A signature found: blkid's type name and where its magic lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// blkid's name (`xfs`, `ext4`, `DM_snapshot_cow`, ...).
    pub kind: &'static str,
    /// Byte offset of the magic.
    pub offset: u64,
    /// Length of the magic.
    pub len: usize,
}

/// The signatures (blkid's names and magics) found in `head`, an LV's first bytes.
pub fn find_signatures(head: &[u8]) -> Vec<Signature> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    let mut found = Vec::new();
    let mut add = |kind, offset: usize, len| {
        found.push(Signature {
            kind,
            offset: offset as u64,
            len,
        })
    };
    for sector in 0..4 {
        if at(sector * 512, b"LABELONE") {
            add("LVM2_member", sector * 512, 8);
        }
    }
    if at(0, b"SnAp") {
        add("DM_snapshot_cow", 0, 4);
    }
    if at(0, b"XFSB") {
        add("xfs", 0, 4);
    }
    if at(0, b"LUKS\xba\xbe") {
        add("crypto_LUKS", 0, 6);
    }
    if at(1080, &[0x53, 0xef]) {
        let word = |o: usize| {
            head.get(o..o + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        // s_feature_compat (journal) and s_feature_incompat (extents, 64bit, flex_bg).
        let kind = if word(1120) & (0x40 | 0x80 | 0x200) != 0 {
            "ext4"
        } else if word(1116) & 0x4 != 0 {
            "ext3"
        } else {
            "ext2"
        };
        add(kind, 1080, 2);
    }
    if at(4086, b"SWAPSPACE2") || at(4086, b"SWAP-SPACE") {
        add("swap", 4086, 10);
    }
    if at(512, b"EFI PART") {
        add("PMBR", 510, 2);
        add("gpt", 512, 8);
    } else if at(510, &[0x55, 0xaa]) && head[446..510].iter().any(|&b| b != 0) {
        add("dos", 510, 2);
    }
    if at(65600, b"_BHRfS_M") {
        add("btrfs", 65600, 8);
    }
    if at(32769, b"CD001") {
        add("iso9660", 32769, 5);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_found_by_blkid_name() {
        let mut head = vec![0u8; SIGNATURE_SPAN as usize];
        head[0..4].copy_from_slice(b"SnAp");
        assert_eq!(
            find_signatures(&head),
            vec![Signature {
                kind: "DM_snapshot_cow",
                offset: 0,
                len: 4
            }]
        );
        head[0..4].copy_from_slice(b"XFSB");
        head[1080..1082].copy_from_slice(&[0x53, 0xef]);
        head[1120] = 0x40;
        let kinds: Vec<_> = find_signatures(&head).iter().map(|s| s.kind).collect();
        assert_eq!(kinds, vec!["xfs", "ext4"]);
        assert!(find_signatures(&[0u8; 100]).is_empty());
    }
}
