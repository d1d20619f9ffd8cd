//! `rcow`: the persistent COW exception store from the shell.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

/// Inspect and build dm-snapshot persistent COW stores.
#[derive(Debug, Parser)]
#[command(name = "rcow", version)]
pub struct Cli {}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    match crate::exit::parse::<Cli>(args) {
        Ok(_cli) => ExitCode::SUCCESS,
        Err(code) => code,
    }
}
