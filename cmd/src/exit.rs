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
    let parsed = if lvm2_style {
        parse_lvm::<P>(program.strip_prefix('r').unwrap_or(program), args)
    } else {
        parse::<P>(args)
    };
    let cli = match parsed {
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

/// A value parser's refusal in lvm2's words (`  Invalid units specification`):
/// printed as it is, then lvm2's ``Run `lvs --help' for more information.``
/// line, exit 3, before anything else is said.
#[derive(Debug)]
pub struct BadValue(pub String);

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadValue {}

/// `command` parsing as lvm2's getopt does: an option's value may start
/// with `-` (`--units -1k` is a bad unit, not an unknown option `-1`), and
/// a long option may be shortened to any unambiguous prefix.
pub fn lvm_command(command: clap::Command) -> clap::Command {
    command.infer_long_args(true).mut_args(|arg| {
        let one_value = arg.get_num_args().is_none_or(|n| n.max_values() == 1);
        if !arg.is_positional() && arg.get_action().takes_values() && one_value {
            arg.allow_hyphen_values(true)
        } else {
            arg
        }
    })
}

/// Parse an LVM command's `args`; a bad command line is answered in lvm2's
/// words under lvm2's command `name` (a script greps for those), exit 3.
fn parse_lvm<P: clap::Parser>(name: &str, args: Vec<std::ffi::OsString>) -> Result<P, ExitCode> {
    let mut command = lvm_command(P::command());
    let parsed = command
        .try_get_matches_from_mut(&args)
        .and_then(|mut matches| P::from_arg_matches_mut(&mut matches));
    parsed.map_err(|error| {
        if !error.use_stderr() {
            let _ = error.format(&mut command).print();
            return ExitCode::from(OK);
        }
        let words: Vec<String> = args
            .iter()
            .skip(1)
            .map(|a| a.to_string_lossy().into_owned())
            .take_while(|a| a != "--")
            .collect();
        eprint!("{}", lvm2_parse_error(name, &words, &error, &command));
        ExitCode::from(INVALID_COMMAND_LINE)
    })
}

/// lvm2's text for the bad command line clap found in `words` (the
/// arguments before any `--`): getopt's own line for an unknown option or a
/// missing value, lvm2's for a bad value, a repeated option or an argument
/// the command takes none of.
fn lvm2_parse_error(
    name: &str,
    words: &[String],
    error: &clap::Error,
    command: &clap::Command,
) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => v.first().cloned(),
        _ => None,
    };
    // clap names an option `--units <UNITS>` or `-Z`.
    let invalid = context(ContextKind::InvalidArg).unwrap_or_default();
    let invalid = invalid.split(' ').next().unwrap_or_default().to_string();
    let arg = find_arg(command, &invalid);
    let long_form = |arg: Option<&clap::Arg>| match arg {
        Some(a) => match (a.get_long(), a.get_short()) {
            (Some(long), _) => format!("--{long}"),
            (None, Some(short)) => format!("-{short}"),
            (None, None) => invalid.clone(),
        },
        None => invalid.clone(),
    };
    let parsing = "  Error during parsing of command line.\n";
    let run_help = format!("  Run `{name} --help' for more information.\n");
    match error.kind() {
        ErrorKind::UnknownArgument if invalid.starts_with("--") => {
            let prefix = invalid.split('=').next().unwrap_or_default();
            // getopt lists them in lvm2's option table order, which is alphabetical.
            let mut candidates: Vec<String> = command
                .get_arguments()
                .filter_map(|a| a.get_long())
                .filter(|long| format!("--{long}").starts_with(prefix))
                .map(|long| format!("'--{long}'"))
                .collect();
            candidates.sort();
            if candidates.len() > 1 {
                return format!(
                    "{name}: option '{prefix}' is ambiguous; possibilities: {}\n{parsing}",
                    candidates.join(" ")
                );
            }
            let typed = words
                .iter()
                .find(|w| *w == prefix || w.starts_with(&format!("{prefix}=")))
                .cloned()
                .unwrap_or(invalid.clone());
            format!("{name}: unrecognized option '{typed}'\n{parsing}")
        }
        ErrorKind::UnknownArgument if invalid.len() > 1 && invalid.starts_with('-') => {
            let letter = invalid.chars().nth(1).unwrap_or('-');
            format!("{name}: invalid option -- '{letter}'\n{parsing}")
        }
        ErrorKind::UnknownArgument => format!("  Command does not accept argument: {invalid}.\n"),
        ErrorKind::InvalidValue
            if context(ContextKind::InvalidValue).is_none_or(|v| v.is_empty()) =>
        {
            let typed_short = words.last().is_some_and(|w| !w.starts_with("--"));
            match arg.and_then(|a| a.get_short()) {
                Some(short) if typed_short => {
                    format!("{name}: option requires an argument -- '{short}'\n{parsing}")
                }
                _ => format!(
                    "{name}: option '{}' requires an argument\n{parsing}",
                    long_form(arg)
                ),
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            use std::error::Error as _;
            if let Some(bad) = error.source().and_then(|s| s.downcast_ref::<BadValue>()) {
                return format!("{bad}\n{run_help}");
            }
            let value = context(ContextKind::InvalidValue).unwrap_or_default();
            format!(
                "  Invalid argument for {}: {value}\n{parsing}",
                long_form(arg)
            )
        }
        ErrorKind::NoEquals | ErrorKind::TooManyValues => format!(
            "{name}: option '{}' doesn't allow an argument\n{parsing}",
            long_form(arg)
        ),
        ErrorKind::ArgumentConflict => {
            let prior = context(ContextKind::PriorArg).unwrap_or_default();
            let prior = prior.split(' ').next().unwrap_or_default().to_string();
            let both = |arg: Option<&clap::Arg>| match arg.map(|a| (a.get_short(), a.get_long())) {
                Some((Some(short), Some(long))) => format!("-{short}/--{long}"),
                _ => long_form(arg),
            };
            if prior == invalid || prior.is_empty() {
                format!("  Option {} may not be repeated.\n{parsing}", both(arg))
            } else {
                let short =
                    |arg: Option<&clap::Arg>, shown: &str| match arg.and_then(|a| a.get_short()) {
                        Some(short) => format!("-{short}"),
                        None => shown.to_string(),
                    };
                format!(
                    "  Options {} and {} are incompatible\n{run_help}",
                    short(find_arg(command, &prior), &prior),
                    short(arg, &invalid)
                )
            }
        }
        // lvm2 matches the command line against its command definitions.
        ErrorKind::MissingRequiredArgument => format!(
            "  No command with matching syntax recognised.  Run '{name} --help' for more information.\n"
        ),
        _ => {
            // Whatever else clap finds, in one line of its words.
            let text = error.render().to_string();
            let line = text.lines().next().unwrap_or_default();
            let line = line.strip_prefix("error: ").unwrap_or(line);
            format!("  {line}\n{run_help}")
        }
    }
}

/// The option clap shows as `shown` (`--units`, `-Z`) in `command`.
fn find_arg<'a>(command: &'a clap::Command, shown: &str) -> Option<&'a clap::Arg> {
    command.get_arguments().find(|a| {
        if let Some(long) = shown.strip_prefix("--") {
            a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|v| v.contains(&long))
        } else if let Some(short) = shown.strip_prefix('-') {
            a.get_short().is_some_and(|s| short.starts_with(s))
        } else {
            a.get_value_names()
                .is_some_and(|names| names.iter().any(|n| format!("<{n}>") == shown))
        }
    })
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
            cli.common().check_profile()?;
            cli.common().apply(cli.read_only());
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
    let autobackup = lvm_command(P::command())
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// A command shaped like lvm2's: flags, a short-and-long flag, options with values.
    #[derive(Debug, Parser)]
    #[command(name = "rlvs")]
    struct Cli {
        #[arg(short, long)]
        all: bool,
        #[arg(long)]
        noheadings: bool,
        #[arg(long)]
        readonly: bool,
        #[arg(short = 'o', long = "options")]
        options: Vec<String>,
        #[arg(long)]
        units: Option<String>,
        #[arg(long, value_parser = ["basic", "json"])]
        reportformat: Option<String>,
        #[arg(long, value_parser = |v: &str| -> Result<String, BadValue> {
            Err(BadValue(format!("  Bad {v}")))
        })]
        checked: Option<String>,
        #[arg(short = 'e', long, conflicts_with = "none")]
        exported: bool,
        #[arg(short = 'n', long)]
        none: bool,
    }

    /// What lvm2 prints for `words` given to lvs.
    fn text(words: &[&str]) -> String {
        let mut command = lvm_command(Cli::command_for_update());
        let mut args = vec!["rlvs".to_string()];
        args.extend(words.iter().map(|w| w.to_string()));
        let error = command.try_get_matches_from_mut(&args).unwrap_err();
        lvm2_parse_error("lvs", &args[1..], &error, &command)
    }

    #[test]
    fn clap_errors_read_as_getopt_and_lvm2_word_them() {
        let parsing = "  Error during parsing of command line.\n";
        let cases: &[(&[&str], String)] = &[
            (&["--bogus"], format!("lvs: unrecognized option '--bogus'\n{parsing}")),
            (&["--bogus=3"], format!("lvs: unrecognized option '--bogus=3'\n{parsing}")),
            (&["-aZ"], format!("lvs: invalid option -- 'Z'\n{parsing}")),
            (&["x"], "  Command does not accept argument: x.\n".into()),
            (&["--units"], format!("lvs: option '--units' requires an argument\n{parsing}")),
            (&["-o"], format!("lvs: option requires an argument -- 'o'\n{parsing}")),
            (
                &["--reportformat", "yaml"],
                format!("  Invalid argument for --reportformat: yaml\n{parsing}"),
            ),
            (
                &["--nohead=x"],
                format!("lvs: option '--noheadings' doesn't allow an argument\n{parsing}"),
            ),
            (
                &["--re"],
                format!("lvs: option '--re' is ambiguous; possibilities: '--readonly' '--reportformat'\n{parsing}"),
            ),
            (&["-a", "-a"], format!("  Option -a/--all may not be repeated.\n{parsing}")),
            (
                &["--checked", "x"],
                "  Bad x\n  Run `lvs --help' for more information.\n".into(),
            ),
            (
                &["-e", "-n"],
                "  Options -n and -e are incompatible\n  Run `lvs --help' for more information.\n"
                    .into(),
            ),
        ];
        for (words, wanted) in cases {
            assert_eq!(&text(words), wanted, "{words:?}");
        }
    }

    #[test]
    fn option_values_may_start_with_a_dash_as_getopt_takes_them() {
        let command = lvm_command(Cli::command_for_update());
        let matches = command
            .try_get_matches_from(["rlvs", "--units", "-1k", "-o", "-lv_name"])
            .unwrap();
        assert_eq!(matches.get_one::<String>("units").unwrap(), "-1k");
    }
}
