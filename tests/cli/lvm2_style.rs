//! lvm2's test-script idioms on rlvm (tests/scenarios/lvm2-style.sh):
//! `-aey`, `--type snapshot`, `-V`, `pvcreate --metadatacopies 0`, `@tag`
//! and a VG as arguments, and lvm2's exact messages grepped for, all on
//! the userspace engine over image files.

use std::path::Path;
use std::process::Command;

use crate::support::{assert_exit, bin, StateDir};

#[test]
fn an_lvm2_style_script_runs_on_the_engine() {
    let state = StateDir::new();
    let work = state.scratch().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/lvm2-style.sh");
    let output = Command::new("sh")
        .arg(script)
        .env("RLVM", bin("rlvm"))
        .env("RLVM_DIR", state.path())
        .env("RLVM_BACKEND", "userspace")
        .env("RLVM_RDMD", bin("rdmd"))
        .env_remove("RLVM_DEVICES")
        .env("WORK", &work)
        .output()
        .expect("running sh");
    assert_exit(&output, 0);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("== lvm2-style: all passed"), "{stdout}");
}
