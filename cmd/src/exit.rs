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
    run_styled(program, args, body, false)
}

/// [`run`], with errors printed as lvm2 prints them (`  message`) when
/// `lvm2_style`, else prefixed by the program's name.
fn run_styled<P: clap::Parser>(
    program: &str,
    args: Vec<std::ffi::OsString>,
    body: impl FnOnce(P) -> anyhow::Result<()>,
    lvm2_style: bool,
) -> ExitCode {
    let cli = match parse::<P>(args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    match body(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = if is_usage(&error) {
                INVALID_COMMAND_LINE
            } else {
                COMMAND_FAILED
            };
            if lvm2_style && error.downcast_ref::<Lvm2Failure>().is_none() {
                let mut message = format!("  {error:#}");
                if code == INVALID_COMMAND_LINE {
                    // lvm2 follows every bad-command-line failure with this line.
                    let lvm2_name = program.strip_prefix('r').unwrap_or(program);
                    message.push_str(&format!(
                        "\n  Run `{lvm2_name} --help' for more information."
                    ));
                }
                let failure: anyhow::Error = Lvm2Failure { message, code }.into();
                return report(program, &failure, code);
            }
            report(program, &error, code)
        }
    }
}

/// Whether `error` is one lvm2 answers with "bad command line" (exit 3).
fn is_usage(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<rlvm::ops::lvm::LvmError>()
            .is_some_and(rlvm::ops::lvm::LvmError::is_usage)
            || cause
                .downcast_ref::<rlvm::ops::volumes::VolumeError>()
                .is_some_and(rlvm::ops::volumes::VolumeError::is_usage)
    })
}

/// [`run`] for the LVM commands: `--version` first, in lvm2's layout,
/// whatever else the command line holds, as lvm2 answers it; failures in
/// lvm2's words and indentation (`  Volume group "x" not found`).
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
    let backup_policy = backup_policy::<P>(program, &args);
    // lvm2's own commands word failures as lvm2 does; rlvm's own tools
    // (rlvsync) keep their name in front.
    let lvm2_style = program != "rlvsync";
    let code = run_styled(
        program,
        args,
        |cli: P| {
            cli.common().apply();
            backup_policy(cli.common())?;
            body(cli)
        },
        lvm2_style,
    );
    if code == ExitCode::SUCCESS && rlvm::log::output_failed() {
        return ExitCode::from(COMMAND_FAILED);
    }
    code
}

/// How this invocation archives and backs up metadata (lvm2's `backup/*`
/// settings, `-A/--autobackup` of the commands that take it), set for the
/// library before the command's body runs; the files' descriptions quote
/// the command line as given, under the program's name.
fn backup_policy<P: clap::CommandFactory>(
    program: &str,
    args: &[std::ffi::OsString],
) -> impl FnOnce(&crate::commands::lvm_options::CommonArgs) -> anyhow::Result<()> {
    use crate::commands::lvm_options::YesNo;
    let autobackup = P::command()
        .try_get_matches_from(args)
        .ok()
        .and_then(|m| m.try_get_one::<YesNo>("autobackup").ok().flatten().copied())
        .is_none_or(YesNo::yes);
    let mut words: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if let Some(first) = words.first_mut() {
        *first = program.to_string();
    }
    let command_line = rlvm::lvm2::backup::quote_command_line(&words);
    move |common| {
        let config = rlvm::config::Config::load(&common.config)?;
        let policy = rlvm::lvm2::backup::Policy::from_config(&config, autobackup);
        rlvm::lvm2::backup::configure(Some(policy), &command_line);
        Ok(())
    }
}
