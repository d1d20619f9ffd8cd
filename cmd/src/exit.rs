//! Exit statuses, by class, as lvm2's `tools/errors.h` numbers them.

use std::process::ExitCode;

/// Success.
pub const OK: u8 = 0;
/// The command found what it checks for to be damaged (`rcow check`), or dmsetup's generic failure.
pub const FAILED_CHECK: u8 = 1;
/// The command line was invalid (lvm2 EINVALID_CMD_LINE).
pub const INVALID_COMMAND_LINE: u8 = 3;
/// The command was understood but failed (lvm2 ECMD_FAILED).
pub const COMMAND_FAILED: u8 = 5;

/// A failure already worded as lvm2 words it: its lines go to stderr as
/// they are (no program prefix), and it exits with its own status (lvm2's
/// 3 for a bad command line, 5 for a failed command). Empty lines: the
/// messages were printed as the command went.
#[derive(Debug)]
pub struct Lvm2Failure {
    /// The message, lvm2's indentation included; may be empty.
    pub message: String,
    /// The exit status.
    pub code: u8,
}

impl std::fmt::Display for Lvm2Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Lvm2Failure {}

/// Print `error` as one line on stderr, prefixed by the program name, and return `code`.
///
/// A broken pipe (output piped into `head`) is not an error worth reporting.
pub fn report(program: &str, error: &anyhow::Error, code: u8) -> ExitCode {
    if let Some(failure) = error.downcast_ref::<Lvm2Failure>() {
        if !failure.message.is_empty() {
            eprintln!("{}", failure.message);
        }
        return ExitCode::from(failure.code);
    }
    let broken_pipe = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return ExitCode::from(OK);
    }
    eprintln!("{program}: {error:#}");
    ExitCode::from(code)
}

/// Parse `args` with clap, turning a bad command line into exit status 3 (help and version exit 0).
pub fn parse<P: clap::Parser>(args: Vec<std::ffi::OsString>) -> Result<P, ExitCode> {
    parse_or_exit_with(args, INVALID_COMMAND_LINE)
}

/// As [`parse`], with the status a bad command line exits with (dmsetup uses 1 for everything).
pub fn parse_or_exit_with<P: clap::Parser>(
    args: Vec<std::ffi::OsString>,
    invalid: u8,
) -> Result<P, ExitCode> {
    P::try_parse_from(args).map_err(|e| {
        let code = if e.use_stderr() { invalid } else { OK };
        let _ = e.print();
        ExitCode::from(code)
    })
}

/// Parse, run `body`, and map its error to one stderr line and lvm2's "command failed" status.
pub fn run<P: clap::Parser>(
    program: &str,
    args: Vec<std::ffi::OsString>,
    body: impl FnOnce(P) -> anyhow::Result<()>,
) -> ExitCode {
    let cli = match parse::<P>(args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match body(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(program, &error, COMMAND_FAILED),
    }
}

/// [`run`] for the LVM commands: `--version` first, in lvm2's layout,
/// whatever else the command line holds, as lvm2 answers it.
///
/// The common options are applied before the body runs, and a result line
/// that could not be written (closed stdout) fails the command once its
/// work is done.
pub fn run_lvm<P: clap::Parser + crate::commands::lvm_options::HasCommon>(
    program: &str,
    args: Vec<std::ffi::OsString>,
    body: impl FnOnce(P) -> anyhow::Result<()>,
) -> ExitCode {
    use crate::commands::lvm_options::{asks_for_version, version_text};
    if asks_for_version(&args) {
        print!("{}", version_text());
        return ExitCode::SUCCESS;
    }
    let code = run(program, args, |cli: P| {
        cli.common().apply();
        body(cli)
    });
    if code == ExitCode::SUCCESS && rlvm::log::output_failed() {
        return ExitCode::from(COMMAND_FAILED);
    }
    code
}
