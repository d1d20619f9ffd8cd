//! A VG on its PVs: read the newest valid copy from every metadata area,
//! and commit a new version to all of them as lvm2 does (seqno + 1; each
//! area committed in lvm2's crash-safe order).

use super::error::Lvm2Error;
use super::label::Label;
use super::mda::MdaHeader;
use super::model::{MetadataError, Vg};
use crate::io::BlockIo;

/// A PV opened for metadata: its label and its metadata area headers.
pub struct PvDevice<'a> {
    /// The device.
    pub disk: &'a dyn BlockIo,
    /// Its label and PV header.
    pub label: Label,
    /// Its metadata areas.
    pub mdas: Vec<MdaHeader>,
}

/// Why a VG could not be read or committed.
#[derive(Debug, thiserror::Error)]
pub enum VgError {
    /// The on-disk structures are damaged or unreadable.
    #[error(transparent)]
    Format(#[from] Lvm2Error),
    /// The metadata text is not a usable VG.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
}

/// A metadata area whose copy is older than, or different from, the one used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleCopy {
    /// PV UUID of the area.
    pub pv_uuid: String,
    /// Byte offset of the area.
    pub mda_start: u64,
    /// Its seqno, when it had a readable copy.
    pub seqno: Option<u64>,
}

impl<'a> PvDevice<'a> {
    /// Open `disk` as a PV: `Ok(None)` when it carries no LVM2 label.
    pub fn open(disk: &'a dyn BlockIo) -> Result<Option<Self>, Lvm2Error> {
        let Some(label) = Label::read(disk)? else {
            return Ok(None);
        };
        let mdas = label
            .metadata_areas
            .iter()
            .map(|area| MdaHeader::read(disk, area.offset))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Self { disk, label, mdas }))
    }
}

/// The newest VG found in the metadata areas of `pvs`, and the areas holding
/// an older or unreadable copy (to repair on the next commit).
pub fn read_vg(pvs: &[PvDevice<'_>]) -> Result<Option<(Vg, Vec<StaleCopy>)>, VgError> {
    let mut copies = Vec::new();
    let mut last_error = None;
    for pv in pvs {
        for mda in &pv.mdas {
            let copy = mda
                .read_committed(pv.disk)
                .map_err(VgError::from)
                .and_then(|text| {
                    text.map(|t| Vg::parse(&t))
                        .transpose()
                        .map_err(VgError::from)
                });
            match copy {
                Ok(vg) => copies.push((pv.label.pv_uuid.clone(), mda.start, vg)),
                Err(e) => {
                    copies.push((pv.label.pv_uuid.clone(), mda.start, None));
                    last_error = Some(e);
                }
            }
        }
    }
    let newest = copies
        .iter()
        .filter_map(|(_, _, vg)| vg.as_ref())
        .max_by_key(|vg| vg.seqno)
        .cloned();
    let Some(vg) = newest else {
        return match last_error {
            Some(e) => Err(e),
            None => Ok(None),
        };
    };
    let stale = copies
        .into_iter()
        .filter(|(_, _, copy)| copy.as_ref() != Some(&vg))
        .map(|(pv_uuid, mda_start, copy)| StaleCopy {
            pv_uuid,
            mda_start,
            seqno: copy.map(|c| c.seqno),
        })
        .collect();
    Ok(Some((vg, stale)))
}

/// Commit `vg` as its next version (seqno + 1) to every metadata area of `pvs`.
pub fn commit_vg(pvs: &mut [PvDevice<'_>], vg: &mut Vg) -> Result<(), VgError> {
    vg.seqno += 1;
    let text = vg.to_text();
    for pv in pvs.iter_mut() {
        for mda in pv.mdas.iter_mut() {
            *mda = mda.commit_text(pv.disk, &text)?;
        }
    }
    Ok(())
}
