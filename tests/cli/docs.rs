//! The checked-in man pages and completions match the clap definitions.

use std::path::Path;

#[test]
fn generated_docs_match_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stale = Vec::new();
    for (relative, bytes) in rlvm_cmd::docs::render_all().expect("rendering docs") {
        let on_disk = std::fs::read(root.join(&relative)).unwrap_or_default();
        if on_disk != bytes {
            stale.push(relative.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "out of date (run `cargo run -p rlvm-cmd --bin rlvm-gen-docs -- .`): {}",
        stale.join(", ")
    );
}

#[test]
fn every_program_definition_is_consistent() {
    for program in rlvm_cmd::programs() {
        (program.command)().debug_assert();
    }
}
