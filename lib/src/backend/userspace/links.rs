//! `$RLVM_DIR/VG/LV` links to the mapper files, as udev's lvm2 rules make
//! `/dev/VG/LV` for a top-level LV (dm UUID `LVM-` and no layer suffix), so
//! that an LV's path exists on the engine as it does on a kernel host.

use std::path::{Path, PathBuf};

use crate::names::{split_dm_name, DM_UUID_PREFIX};

/// `VG/LV` for a device udev would link: an LVM UUID without a layer
/// suffix, a dm name of two parts, no hidden (`_`-prefixed) LV.
fn vg_lv(name: &str, uuid: &str) -> Option<(String, String)> {
    let body = uuid.strip_prefix(DM_UUID_PREFIX)?;
    if body.contains('-') {
        return None;
    }
    let split = split_dm_name(name)?;
    if !split.layer.is_empty() || split.lv.is_empty() || split.lv.starts_with('_') {
        return None;
    }
    Some((split.vg, split.lv))
}

/// The link of device `name` under `state_dir`, when it gets one.
pub(crate) fn link_path(state_dir: &Path, name: &str, uuid: &str) -> Option<PathBuf> {
    let (vg, lv) = vg_lv(name, uuid)?;
    // lvm2 refuses a VG whose /dev entry is taken; here the state
    // directory's own entries are taken.
    if matches!(vg.as_str(), "mapper" | "." | "..") || vg.starts_with("rdmd") {
        return None;
    }
    Some(state_dir.join(vg).join(lv))
}

/// Make the link of `name` (to `../mapper/NAME`); best effort, as udev's.
pub(crate) fn add(state_dir: &Path, name: &str, uuid: &str) {
    let Some(link) = link_path(state_dir, name, uuid) else {
        return;
    };
    let Some(vg_dir) = link.parent() else { return };
    if std::fs::create_dir_all(vg_dir).is_err() {
        return;
    }
    let target = Path::new("../mapper").join(name);
    if std::fs::read_link(&link).is_ok() {
        let _ = std::fs::remove_file(&link);
    }
    let _ = std::os::unix::fs::symlink(target, &link);
}

/// Take the link of `name` away (only a link we made), and its VG directory once empty.
pub(crate) fn remove(state_dir: &Path, name: &str, uuid: &str) {
    let Some(link) = link_path(state_dir, name, uuid) else {
        return;
    };
    if std::fs::read_link(&link).is_ok_and(|t| t == Path::new("../mapper").join(name)) {
        let _ = std::fs::remove_file(&link);
        if let Some(vg_dir) = link.parent() {
            let _ = std::fs::remove_dir(vg_dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "LVM-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn only_top_level_lvs_get_links() {
        let dir = Path::new("/s");
        assert_eq!(
            link_path(dir, "my--vg-my--lv", UUID),
            Some(PathBuf::from("/s/my-vg/my-lv"))
        );
        assert_eq!(
            link_path(dir, "vg-base-real", &format!("{UUID}-real")),
            None
        );
        assert_eq!(link_path(dir, "vg-snap-cow", &format!("{UUID}-cow")), None);
        assert_eq!(link_path(dir, "vg-lv", "CRYPT-abc"), None);
        assert_eq!(link_path(dir, "vg-lv", ""), None);
        assert_eq!(link_path(dir, "mapper-lv", UUID), None);
    }

    #[test]
    fn links_come_and_go() {
        let dir = tempfile::tempdir().unwrap();
        add(dir.path(), "vg-lv", UUID);
        let link = dir.path().join("vg/lv");
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            Path::new("../mapper/vg-lv")
        );
        remove(dir.path(), "vg-lv", UUID);
        assert!(!dir.path().join("vg").exists());
    }
}
