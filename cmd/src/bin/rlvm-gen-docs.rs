//! Regenerates `man/` and `completions/` from the clap definitions:
//! `cargo run -p rlvm-cmd --bin rlvm-gen-docs -- .` from the repository root.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    match rlvm_cmd::docs::write_all(&root) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("rlvm-gen-docs: {e:#}");
            ExitCode::from(rlvm_cmd::exit::COMMAND_FAILED)
        }
    }
}
