//! lvdisplay, vgdisplay and pvdisplay's text: the full blocks (with
//! `--maps` segment maps), the colon-separated lines (`-c`) and the short
//! forms (`-s`), laid out as lvm2 2.03 prints them.

use super::attr::VolumeRole;
use super::rows::{LvInfo, PvInfo, VgInfo};
use super::units::format_size_long;
use super::values::format_time;

fn active(lv: &LvInfo) -> Option<bool> {
    lv.device
        .as_ref()
        .map(|d| d.as_ref().is_some_and(|(s, _)| s.live_table))
}

/// The `--- Logical volume ---` block of `lv` (with `--maps`, its segments).
pub fn lv_full(vg: &VgInfo, lv: &LvInfo, maps: bool) -> String {
    let mut out = String::from("  --- Logical volume ---\n");
    let mut line = |key: &str, value: &str| out.push_str(&format!("  {key:<22} {value}\n"));
    line("LV Path", if lv.visible { &lv.path } else { "" });
    line("LV Name", &lv.bare_name);
    line("VG Name", &vg.name);
    line("LV UUID", &lv.uuid);
    line(
        "LV Write Access",
        if lv.writable {
            "read/write"
        } else {
            "read only"
        },
    );
    line(
        "LV Creation host, time",
        &format!(
            "{}, {}",
            lv.host,
            lv.time.map(format_time).unwrap_or_default()
        ),
    );
    let state = |on: Option<bool>| match on {
        Some(true) => "active",
        _ => "INACTIVE",
    };
    match lv.role {
        VolumeRole::Origin { .. } => {
            line("LV snapshot status", "source of");
            for snap in &lv.snapshots {
                let snap_state = vg
                    .lvs
                    .iter()
                    .find(|l| &l.bare_name == snap)
                    .and_then(active);
                out.push_str(&format!("  {:<22} {snap} [{}]\n", "", state(snap_state)));
            }
        }
        VolumeRole::Snapshot { .. } => {
            line(
                "LV snapshot status",
                &format!("{} destination for {}", state(active(lv)), lv.origin),
            );
        }
        VolumeRole::Plain => {}
    }
    let mut line = |key: &str, value: &str| out.push_str(&format!("  {key:<22} {value}\n"));
    let info = lv.device.as_ref().and_then(|d| d.as_ref());
    if let Some(device) = &lv.device {
        line(
            "LV Status",
            if device.is_some() {
                "available"
            } else {
                "NOT available"
            },
        );
        if let Some((state, _)) = device {
            line("# open", if state.open { "1" } else { "0" });
        }
    }
    let extent = lv.extent_size.max(1);
    let snapshot = matches!(lv.role, VolumeRole::Snapshot { .. });
    if snapshot {
        let origin = lv.origin_size_sectors.unwrap_or(0);
        line("LV Size", &format_size_long(origin));
        line("Current LE", &(origin / extent).to_string());
        line("COW-table size", &format_size_long(lv.size_sectors));
        line("COW-table LE", &(lv.size_sectors / extent).to_string());
        if let Some(percent) = lv.data_percent.filter(|_| info.is_some()) {
            line(
                "Allocated to snapshot",
                &format!("{}%", super::percent::format_percent(percent)),
            );
        }
        line("Snapshot chunk size", &format_size_long(lv.chunk_sectors));
    } else {
        line("LV Size", &format_size_long(lv.size_sectors));
        line("Current LE", &(lv.size_sectors / extent).to_string());
    }
    line("Segments", &lv.segments.len().to_string());
    line("Allocation", "inherit");
    line("Read ahead sectors", "auto");
    if let Some(sectors) = info.and_then(|(state, _)| state.read_ahead_sectors) {
        line("- currently set to", &sectors.to_string());
    }
    if let Some((_, info)) = info {
        line("Block device", &format!("{}:{}", info.major, info.minor));
    }
    out.push_str("   \n");
    if maps {
        out.push_str("  --- Segments ---\n");
        for seg in &lv.segments {
            out.push_str(&format!(
                "  Logical extents {} to {}:\n",
                seg.start_extent,
                seg.start_extent + seg.extent_count.max(1) - 1
            ));
            out.push_str(&format!("    Type\t\t{}\n", seg.segtype));
            if seg.stripes.len() == 1 {
                let (pv, pe) = &seg.stripes[0];
                out.push_str(&format!("    Physical volume\t{pv}\n"));
                out.push_str(&format!(
                    "    Physical extents\t{pe} to {}\n",
                    pe + seg.extent_count.max(1) - 1
                ));
            } else {
                out.push_str(&format!("    Stripes\t\t{}\n", seg.stripes.len()));
                out.push_str(&format!(
                    "    Stripe size\t\t{}\n",
                    format_size_long(seg.stripe_size)
                ));
                let per = seg.extent_count / seg.stripes.len().max(1) as u64;
                for (index, (pv, pe)) in seg.stripes.iter().enumerate() {
                    out.push_str(&format!("    Stripe {index}:\n"));
                    out.push_str(&format!("      Physical volume\t{pv}\n"));
                    out.push_str(&format!(
                        "      Physical extents\t{pe} to {}\n",
                        pe + per.max(1) - 1
                    ));
                }
            }
            out.push_str("   \n");
        }
        out.push_str("   \n");
    }
    out
}

/// `lvdisplay -c`'s line of `lv`.
pub fn lv_colon(lv: &LvInfo) -> String {
    let info = lv.device.as_ref().and_then(|d| d.as_ref());
    let access = if lv.writable { 3 } else { 1 };
    let (open, major, minor) = match info {
        Some((state, info)) => (
            i32::from(state.open),
            i64::from(info.major),
            i64::from(info.minor),
        ),
        None => (0, -1, -1),
    };
    format!(
        "  {}:{}:{}:{}:-1:{open}:{}:{}:-1:0:-1:{major}:{minor}\n",
        lv.path,
        lv.vg_name,
        access,
        i32::from(info.is_some()),
        lv.size_sectors,
        lv.size_sectors / lv.extent_size.max(1),
    )
}

/// The `--- Volume group ---` block.
pub fn vg_full(vg: &VgInfo) -> String {
    let mut out = String::from("  --- Volume group ---\n");
    let mut line = |key: &str, value: String| out.push_str(&format!("  {key:<21} {value}\n"));
    let open = vg
        .lvs
        .iter()
        .filter(|l| {
            l.device
                .as_ref()
                .and_then(|d| d.as_ref())
                .is_some_and(|(s, _)| s.open)
        })
        .count();
    let alloc = vg.extent_count - vg.free_count;
    line("VG Name", vg.name.clone());
    line("System ID", String::new());
    line("Format", "lvm2".into());
    line(
        "Metadata Areas",
        vg.pvs.iter().map(|p| p.mda_count).sum::<u64>().to_string(),
    );
    line("Metadata Sequence No", vg.seqno.to_string());
    line(
        "VG Access",
        if vg.writable { "read/write" } else { "read" }.into(),
    );
    line(
        "VG Status",
        if vg.resizeable { "resizable" } else { "" }.into(),
    );
    line("MAX LV", vg.max_lv.to_string());
    line("Cur LV", vg.lv_count.to_string());
    line("Open LV", open.to_string());
    line("Max PV", vg.max_pv.to_string());
    line("Cur PV", vg.pv_count.to_string());
    line("Act PV", vg.pv_count.to_string());
    line("VG Size", format_size_long(vg.size_sectors));
    line("PE Size", format_size_long(vg.extent_sectors));
    line("Total PE", vg.extent_count.to_string());
    line(
        "Alloc PE / Size",
        format!("{alloc} / {}", format_size_long(alloc * vg.extent_sectors)),
    );
    line(
        "Free  PE / Size",
        format!("{} / {}", vg.free_count, format_size_long(vg.free_sectors)),
    );
    line("VG UUID", vg.uuid.clone());
    out.push_str("   \n");
    out
}

/// `vgdisplay -c`'s line.
pub fn vg_colon(vg: &VgInfo) -> String {
    let open = 0;
    format!(
        "  {}:{}:{}:-1:{}:{}:{open}:-1:{}:{}:{}:{}:{}:{}:{}:{}:{}\n",
        vg.name,
        if vg.writable { "r/w" } else { "r" },
        if vg.resizeable { 772 } else { 768 },
        vg.max_lv,
        vg.lv_count,
        vg.max_pv,
        vg.pv_count,
        vg.pv_count,
        vg.size_sectors / 2,
        vg.extent_sectors / 2,
        vg.extent_count,
        vg.extent_count - vg.free_count,
        vg.free_count,
        vg.uuid
    )
}

/// `vgdisplay -s`'s line.
pub fn vg_short(vg: &VgInfo) -> String {
    format!(
        // lvm2 pads the first two sizes to nine columns (`29.36 MB ` with --units H).
        "  \"{}\" {:<9} [{:<9} used / {} free]\n",
        vg.name,
        format_size_long(vg.size_sectors),
        format_size_long(vg.size_sectors - vg.free_sectors),
        format_size_long(vg.free_sectors)
    )
}

/// The line lvm2 puts before a PV in no VG.
pub fn pv_new_line(pv: &PvInfo) -> String {
    format!(
        "  \"{}\" is a new physical volume of \"{}\"\n",
        pv.name,
        format_size_long(pv.dev_size_sectors)
    )
}

/// The `--- Physical volume ---` block (with `--maps`, its segments); a PV
/// in no VG is announced first unless `quiet` (lvm2's `-qq` silences that line).
pub fn pv_full(vg: Option<&VgInfo>, pv: &PvInfo, maps: bool, quiet: bool) -> String {
    let mut out = String::new();
    let orphan = vg.is_none();
    if orphan {
        if !quiet {
            out.push_str(&pv_new_line(pv));
        }
        out.push_str("  --- NEW Physical volume ---\n");
    } else {
        out.push_str("  --- Physical volume ---\n");
    }
    let mut line = |key: &str, value: String| out.push_str(&format!("  {key:<21} {value}\n"));
    line("PV Name", pv.name.clone());
    line("VG Name", pv.vg_name.clone());
    if orphan {
        line("PV Size", format_size_long(pv.dev_size_sectors));
    } else {
        let unusable = pv
            .dev_size_sectors
            .saturating_sub(pv.pe_count * pv.extent_size);
        line(
            "PV Size",
            format!(
                "{} / not usable {}",
                format_size_long(pv.dev_size_sectors),
                format_size_long(unusable)
            ),
        );
    }
    line(
        "Allocatable",
        match (orphan, pv.allocatable, pv.free_sectors) {
            (true, _, _) | (false, false, _) => "NO".into(),
            (false, true, 0) => "yes (but full)".into(),
            (false, true, _) => "yes ".into(),
        },
    );
    line("PE Size", format_size_long(pv.extent_size));
    line("Total PE", pv.pe_count.to_string());
    line("Free PE", (pv.pe_count - pv.pe_alloc_count).to_string());
    line("Allocated PE", pv.pe_alloc_count.to_string());
    line("PV UUID", pv.uuid.clone());
    out.push_str("   \n");
    if maps && !orphan {
        out.push_str("  --- Physical Segments ---\n");
        for seg in &pv.segments {
            out.push_str(&format!(
                "  Physical extent {} to {}:\n",
                seg.start,
                seg.start + seg.size.max(1) - 1
            ));
            let used = vg.zip(seg.used_by).and_then(|(vg, (l, s))| {
                let lv = vg.lvs.get(l)?;
                Some((lv, lv.segments.get(s)?))
            });
            match used {
                Some((lv, lvseg)) => {
                    out.push_str(&format!("    Logical volume\t{}\n", lv.path));
                    // Where this PV's run falls in the LV's extents.
                    let first = lvseg.start_extent;
                    out.push_str(&format!(
                        "    Logical extents\t{first} to {}\n",
                        first + seg.size.max(1) - 1
                    ));
                }
                None => out.push_str("    FREE\n"),
            }
        }
        out.push_str("   \n");
    } else if maps {
        out.push_str("   \n");
    }
    out
}

/// `pvdisplay -c`'s line (after the new-PV line for a PV in no VG, unless `quiet`).
pub fn pv_colon(pv: &PvInfo, quiet: bool) -> String {
    let orphan = pv.vg_name.is_empty();
    let mut out = String::new();
    if orphan && !quiet {
        out.push_str(&pv_new_line(pv));
    }
    let status = if orphan { 0 } else { 8 };
    out.push_str(&format!(
        "  {}:{}:{}:-1:{status}:{status}:-1:{}:{}:{}:{}:{}\n",
        pv.name,
        pv.vg_name,
        pv.dev_size_sectors,
        pv.extent_size / 2,
        pv.pe_count,
        pv.pe_count - pv.pe_alloc_count,
        pv.pe_alloc_count,
        pv.uuid
    ));
    out
}

/// `pvdisplay -s`'s line.
pub fn pv_short(pv: &PvInfo) -> String {
    format!(
        "  Device \"{}\" has a capacity of {}\n",
        pv.name,
        format_size_long(pv.free_sectors)
    )
}
