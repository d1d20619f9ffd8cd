//! rlvm's command-line programs. Each program is one module in [`commands`]
//! with a clap derive `Cli` and a `run`, registered in `commands::PROGRAMS`;
//! the one binary `rlvm` runs them by argv[0] (a symlink per program) or as
//! `rlvm <program> ...`.

use std::ffi::OsString;
use std::process::ExitCode;

pub mod commands;
pub mod docs;
pub mod exit;

/// One command-line program: its name, its clap definition and its entry point.
pub struct Program {
    /// Name as installed (`rcow`, `rdmsetup`, ...).
    pub name: &'static str,
    /// The clap definition, the one source for help, man pages and completions.
    pub command: fn() -> clap::Command,
    /// Entry point; `args[0]` is the program name.
    pub run: fn(Vec<OsString>) -> ExitCode,
}

/// Every program rlvm ships, in the order man pages and `rlvm help` list them.
pub fn programs() -> &'static [Program] {
    commands::PROGRAMS
}

/// Look a program up by name.
pub fn find_program(name: &str) -> Option<&'static Program> {
    programs().iter().find(|p| p.name == name)
}

/// Run the program `name` with the process's arguments.
pub fn main_for(name: &str) -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.is_empty() {
        args.push(name.into());
    }
    match find_program(name) {
        Some(program) => (program.run)(args),
        None => {
            eprintln!("{name}: not an rlvm program");
            ExitCode::from(exit::INVALID_COMMAND_LINE)
        }
    }
}
