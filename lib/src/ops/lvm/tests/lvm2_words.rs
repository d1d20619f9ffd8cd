//! What lvcreate, lvremove and lvconvert do where lvm2's behaviour is
//! observed (`lvm ... --driverloaded n` on loop devices): refusals without
//! a driver, zeroing of inactive LVs, recorded attributes, name checks and
//! which LVs a VG or a tag selects.

use super::*;
use crate::ops::vg_change::tags;

fn linear(name: &str, activate: bool, prepare: Prepare) -> LinearRequest {
    LinearRequest {
        name: Some(name.into()),
        size: SizeRequest::Extents(1),
        activate,
        prepare,
        read_only: false,
    }
}

#[test]
fn without_a_driver_snapshots_and_merges_are_refused_and_nothing_is_written() {
    let bed = Bed::new(64);
    bed.create("base", 4);
    bed.snapshot("base", "snap", 2).unwrap();
    let before = std::fs::read(&bed.pv).unwrap();
    let mut session = Session::open(&bed.vg, &bed.candidates(), None, false)
        .unwrap()
        .driverloaded(false);
    let refused = session.create_snapshot(&SnapshotRequest {
        origin: "base".into(),
        name: Some("s2".into()),
        size: SizeRequest::Extents(1),
        chunk_sectors: DEFAULT_CHUNK,
        read_only: false,
    });
    assert_eq!(
        refused.unwrap_err().to_string(),
        "Can't create snapshot without using device-mapper kernel driver."
    );
    let sparse = session.create_sparse(&SparseRequest {
        name: Some("sp".into()),
        virtual_bytes: 64 * MIB,
        size: SizeRequest::Extents(1),
        chunk_sectors: DEFAULT_CHUNK,
        activate: false,
    });
    assert!(matches!(sparse, Err(LvmError::Refused(_))), "{sparse:?}");
    let merge = session.merge("snap").unwrap_err().to_string();
    assert_eq!(
        merge,
        "Can't initialize snapshot merge. Missing support in kernel?"
    );
    // The origin's absence is still named first, in lvm2's words.
    let missing = session.create_snapshot(&SnapshotRequest {
        origin: "nosuch".into(),
        name: None,
        size: SizeRequest::Extents(1),
        chunk_sectors: DEFAULT_CHUNK,
        read_only: false,
    });
    assert!(missing
        .unwrap_err()
        .to_string()
        .starts_with("Snapshot origin LV nosuch not found in Volume group"));
    assert!(std::fs::read(&bed.pv).unwrap() == before, "a refusal wrote");
}

#[test]
fn inactive_and_driverless_lvs_are_not_zeroed_as_in_lvm2() {
    let none = Prepare {
        zero: false,
        wipe: false,
    };
    assert_eq!(Prepare::for_new_lv(None, None, false, true).unwrap(), none);
    assert_eq!(
        Prepare::for_new_lv(Some(false), Some(true), false, true).unwrap(),
        none
    );
    for (zero, wipe) in [
        (Some(true), None),
        (None, Some(true)),
        (Some(true), Some(false)),
    ] {
        assert!(matches!(
            Prepare::for_new_lv(zero, wipe, false, true),
            Err(LvmError::ZeroInactive)
        ));
    }
    let (prepare, said) = capture(|| Prepare::for_new_lv(None, None, true, false).unwrap());
    assert_eq!(prepare, none);
    assert!(
        said.iter()
            .any(|m| matches!(m, Message::Warning(w) if w.starts_with("Skipping zeroing"))),
        "{said:?}"
    );
    assert_eq!(
        Prepare::for_new_lv(None, None, true, true).unwrap(),
        Prepare::default()
    );

    let bed = Bed::new(64);
    let (_, said) = capture(|| {
        bed.session()
            .create_linear(&linear("cold", false, none))
            .unwrap()
    });
    assert!(
        said.iter().any(|m| matches!(m, Message::Warning(w)
            if w == &format!("Logical volume {}/cold not zeroed.", bed.vg))),
        "{said:?}"
    );
    // In test mode lvm2 never reaches the zeroing step, nor its warning.
    let (_, said) = capture(|| {
        bed.test_session()
            .create_linear(&linear("dry", false, none))
            .unwrap()
    });
    assert!(
        !said.iter().any(|m| matches!(m, Message::Warning(_))),
        "{said:?}"
    );
}

#[test]
fn attributes_are_recorded_as_lvm2_writes_them() {
    let bed = Bed::new(64);
    let attributes = LvAttributes {
        tags: vec!["t1".into(), "a0".into()],
        contiguous: true,
        read_ahead: Some(ReadAhead::Sectors(250)),
        persistent: Some(Persistent {
            major: Some(253),
            minor: Some(90),
        }),
    };
    let (_, said) = capture(|| {
        bed.session()
            .create_linear_with(&linear("new", false, Prepare::default()), &attributes)
            .unwrap()
    });
    let warnings: Vec<&str> = said
        .iter()
        .filter_map(|m| match m {
            Message::Warning(w) => Some(w.as_str()),
            _ => None,
        })
        .collect();
    assert!(warnings.contains(&"Overriding readahead to 256 sectors, a multiple of 4K page size."));
    assert!(warnings
        .iter()
        .any(|w| w.starts_with("Ignoring supplied major number 253")));
    let session = bed.session();
    let lv = session.vg().lv("new").unwrap();
    assert_eq!(lv.status, ["READ", "WRITE", "FIXED_MINOR", "VISIBLE"]);
    assert_eq!(tags(&lv.extra), ["t1", "a0"]);
    let text = session.vg().to_text();
    let at = |key: &str| {
        text.find(key)
            .unwrap_or_else(|| panic!("no {key} in {text}"))
    };
    // lvm2's order: after the creation host, before segment_count.
    assert!(at("creation_host") < at("allocation_policy = \"contiguous\""));
    assert!(at("allocation_policy") < at("read_ahead = 256"));
    assert!(at("read_ahead") < at("major = 0"));
    assert!(at("major = 0") < at("minor = 90"));
    assert!(at("minor = 90") < at("segment_count"));
    // The VG's lock goes with the session.
    drop(session);
    let refused = bed.session().create_linear_with(
        &linear("other", false, Prepare::default()),
        &LvAttributes {
            persistent: Some(Persistent {
                major: None,
                minor: None,
            }),
            ..LvAttributes::default()
        },
    );
    assert_eq!(
        refused.unwrap_err().to_string(),
        "Please specify minor number with --minor when using -My."
    );
}

#[test]
fn new_names_are_refused_in_lvm2s_words() {
    let bed = Bed::new(64);
    for (name, said) in [
        (
            "pvmove0",
            "Names starting \"pvmove\" are reserved. Please choose a different LV name.",
        ),
        (
            "x_cdata",
            "Names including \"_cdata\" are reserved. Please choose a different LV name.",
        ),
        ("a.b!", "Logical volume name \"a.b!\" is invalid."),
        ("-x", "Logical volume name \"-x\" is invalid."),
    ] {
        let error = bed
            .session()
            .create_linear(&linear(name, false, Prepare::default()))
            .unwrap_err();
        assert!(error.is_usage(), "{name}: {error}");
        assert_eq!(error.to_string(), said);
    }
    bed.create("span", 2);
    let error = bed.session().rename("span", "a!").unwrap_err();
    assert_eq!(
        error.to_string(),
        "New logical volume name \"a!\" is invalid"
    );
}

#[test]
fn a_vg_or_a_tag_selects_lvm2s_visible_lvs() {
    let bed = Bed::new(64);
    bed.create("base", 4);
    bed.create("span", 2);
    bed.snapshot("base", "snap", 2).unwrap();
    let mut open = crate::ops::volumes::OpenVg::open(&bed.vg, &bed.candidates()).unwrap();
    crate::ops::vg_change::lv_change(
        &mut open,
        "span",
        &crate::ops::vg_change::LvChange {
            tags: crate::ops::vg_change::TagChange {
                add: vec!["web".into()],
                del: vec![],
            },
            writable: None,
        },
        None,
    )
    .unwrap();
    let vg = open.vg.clone();
    // The COW LV stands for its snapshot; the snapshotN record never appears.
    assert_eq!(lvs_selected(&vg, None), ["base", "span", "snap"]);
    assert_eq!(lvs_selected(&vg, Some("web")), ["span"]);
    assert!(lvs_selected(&vg, Some("nosuch")).is_empty());
}
