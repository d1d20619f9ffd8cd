//! The option groups lvm2 gives its commands, defined once: the common
//! options every LVM command takes, and the `--force`/`--autobackup` pair of
//! the commands that change metadata. Each program flattens the groups it
//! needs, so help, man pages and completions describe them identically.

use clap::{ArgAction, Args, ValueEnum};

/// lvm2's `y|n` option values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum YesNo {
    /// Yes.
    Y,
    /// No.
    N,
}

impl YesNo {
    /// Whether the answer is yes.
    pub fn yes(self) -> bool {
        self == YesNo::Y
    }
}

/// The options lvm2 accepts on every command (lvm(8), "Common options").
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Common options")]
pub struct CommonArgs {
    /// Set debug level; repeat for more (-dddddd at most).
    #[arg(short = 'd', long = "debug", action = ArgAction::Count)]
    pub debug: u8,
    /// Suppress output and log messages; repeat (-qq) to also answer prompts with no.
    #[arg(short = 'q', long = "quiet", action = ArgAction::Count)]
    pub quiet: u8,
    /// Set verbose level; repeat for more detail on stderr.
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// Run in test mode: no metadata is written and no device is (de)activated.
    #[arg(short = 't', long = "test")]
    pub test: bool,
    /// Answer yes to every prompt.
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,
    /// Configuration in lvm.conf syntax applied over the configuration file (repeatable).
    #[arg(long = "config", value_name = "STRING", value_parser = config_arg)]
    pub config: Vec<String>,
    /// A command profile: `profile/NAME.profile` beside the configuration file must exist (its settings are not applied yet).
    #[arg(long = "commandprofile", value_name = "NAME")]
    pub commandprofile: Option<String>,
    /// A metadata or command profile (accepted; rlvm has no profile directory yet).
    #[arg(long = "profile", value_name = "NAME")]
    pub profile: Option<String>,
    /// Whether the device-mapper driver is used: n limits the command to metadata.
    #[arg(long = "driverloaded", value_name = "y|n", value_enum)]
    pub driverloaded: Option<YesNo>,
    /// Take no locks (lvm2: only for emergencies).
    #[arg(long = "nolocking")]
    pub nolocking: bool,
    /// Lock options for lvmlockd (accepted; rlvm uses local file locks).
    #[arg(long = "lockopt", value_name = "STRING")]
    pub lockopt: Option<String>,
    /// Do not use the hints file to limit the devices scanned.
    #[arg(long = "nohints")]
    pub nohints: bool,
    /// Restrict the command to these devices (repeatable, or comma-separated).
    #[arg(long = "devices", value_name = "PV", value_delimiter = ',')]
    pub devices: Vec<String>,
    /// A devices file other than the default.
    #[arg(long = "devicesfile", value_name = "FILE")]
    pub devicesfile: Option<String>,
    /// Journal options (accepted; rlvm logs to stderr and syslog).
    #[arg(long = "journal", value_name = "STRING")]
    pub journal: Vec<String>,
    /// Display version information (lvm2's layout).
    #[arg(long = "version")]
    pub version: bool,
    /// Display long help text.
    #[arg(long = "longhelp")]
    pub longhelp: bool,
}

/// `--config`, refused while parsing when it is not lvm.conf syntax, in lvm2's words.
fn config_arg(value: &str) -> Result<String, crate::exit::BadValue> {
    rlvm::config::Config::default()
        .merge_text(value, "--config")
        .map(|()| value.to_string())
        .map_err(|e| {
            crate::exit::BadValue(format!(
                "  {e}\n  Failed to set overridden configuration entries."
            ))
        })
}

impl CommonArgs {
    /// Fail as lvm2 fails (exit 5, before anything else is said) when the
    /// `--commandprofile` file is missing.
    pub fn check_profile(&self) -> anyhow::Result<()> {
        let Some(name) = &self.commandprofile else {
            return Ok(());
        };
        let path = rlvm::config::Config::profile_file(name);
        if let Err(e) = std::fs::metadata(&path) {
            let reason = std::io::Error::from_raw_os_error(e.raw_os_error().unwrap_or(0));
            let reason = reason.to_string();
            let reason = reason.split(" (os error").next().unwrap_or_default();
            return Err(crate::exit::Lvm2Failure {
                message: format!(
                    "  {}: stat failed: {reason}\n  Failed to apply command profile {name}.",
                    path.display()
                ),
                code: crate::exit::COMMAND_FAILED,
            }
            .into());
        }
        Ok(())
    }

    /// Apply the options that hold for the whole process: message levels;
    /// `read_only` (lvm2's `--readonly`) uses no device-mapper, so lvm2 has
    /// no activation to warn about.
    pub fn apply(&self, read_only: bool) {
        rlvm::log::configure(rlvm::log::Levels {
            quiet: self.quiet,
            verbose: self.verbose,
            debug: self.debug,
        });
        // lvm2 says these before anything else, -q or not; the one place
        // the test-mode banner is printed for every command.
        if self.test {
            eprintln!("  {}", rlvm::ops::lvm::TEST_MODE_BANNER);
            rlvm::io::set_dry_run(true);
        }
        if self.driverloaded == Some(YesNo::N) && !read_only {
            eprintln!(
                "  WARNING: Activation disabled. No device-mapper interaction will be attempted."
            );
        }
    }
}

/// Where new extents go: `-i`, `-I` and `--alloc` (lvcreate, lvextend), with
/// the command's PV arguments.
#[derive(Debug, Args)]
pub struct PlacementArgs {
    /// Stripe over this many PVs (default: 1 for a new LV, as the last segment when extending).
    #[arg(short = 'i', long = "stripes", value_name = "N")]
    pub stripes: Option<u32>,
    /// Stripe size, a power of 2 of 4k or more (default unit KiB; default: 64k for a new LV, the last segment's when extending).
    #[arg(short = 'I', long = "stripesize", value_name = "SIZE")]
    pub stripesize: Option<String>,
    /// Allocation policy: contiguous, cling, normal (the default), anywhere, inherit.
    #[arg(long = "alloc", value_name = "POLICY", value_parser = ["contiguous", "cling", "cling_by_tags", "normal", "anywhere", "inherit"])]
    pub alloc: Option<String>,
}

impl PlacementArgs {
    /// The allocator's request for these options and `pvs`; `contiguous`
    /// (lvcreate's `-C y`) stands for `--alloc contiguous` when no policy is given.
    pub fn placement(
        &self,
        pvs: &[String],
        contiguous: bool,
    ) -> anyhow::Result<rlvm::ops::lvm::Placement> {
        let stripe_size = match &self.stripesize {
            Some(text) => Some(
                rlvm::units::parse_size(text, 'k')
                    .map_err(|_| {
                        anyhow::Error::from(rlvm::ops::lvm::LvmError::Usage(format!(
                            "Invalid argument for --stripesize: {text}"
                        )))
                    })?
                    .div_ceil(512),
            ),
            None => None,
        };
        let alloc = self.alloc.as_deref().or(contiguous.then_some("contiguous"));
        let placement = rlvm::ops::lvm::Placement {
            stripes: self.stripes,
            stripe_size,
            pvs: pvs.to_vec(),
            policy: alloc
                .and_then(rlvm::ops::alloc::Policy::parse)
                .unwrap_or_default(),
            policy_name: alloc.map(str::to_string),
        };
        rlvm::ops::lvm::place::check_options(&placement)?;
        Ok(placement)
    }
}

/// What every LVM command's clap definition carries, so [`crate::exit::run_lvm`]
/// can apply it before the command's body runs.
pub trait HasCommon {
    /// The common options of this invocation.
    fn common(&self) -> &CommonArgs;

    /// Whether the command was told `--readonly` (the reporting commands).
    fn read_only(&self) -> bool {
        false
    }
}

/// Gives a command module its [`HasCommon`] impl for `Cli` (from its `common`
/// field; with `reporting`, `--readonly` from its `report` group) and its
/// `command()`, so the 27 LVM programs do not each spell them out.
macro_rules! lvm_cli {
    ($cli:ident) => {
        impl $crate::commands::lvm_options::HasCommon for $cli {
            fn common(&self) -> &$crate::commands::lvm_options::CommonArgs {
                &self.common
            }
        }
        $crate::commands::lvm_options::lvm_cli!(@command $cli);
    };
    ($cli:ident, reporting) => {
        impl $crate::commands::lvm_options::HasCommon for $cli {
            fn common(&self) -> &$crate::commands::lvm_options::CommonArgs {
                &self.common
            }

            fn read_only(&self) -> bool {
                self.report.readonly
            }
        }
        $crate::commands::lvm_options::lvm_cli!(@command $cli);
    };
    (@command $cli:ident) => {
        /// The clap definition.
        pub fn command() -> clap::Command {
            <$cli as clap::CommandFactory>::command()
        }
    };
}
pub(crate) use lvm_cli;

/// `-f/--force` and `-A/--autobackup` of the commands that change metadata.
#[derive(Debug, Clone, Default, Args)]
pub struct ChangeArgs {
    /// Override various checks and confirmations; repeat (-ff) to force more.
    #[arg(short = 'f', long = "force", action = ArgAction::Count)]
    pub force: u8,
    /// Back up the metadata after a change (y, the default) or not (n).
    #[arg(short = 'A', long = "autobackup", value_name = "y|n", value_enum)]
    pub autobackup: Option<YesNo>,
}

impl ChangeArgs {
    /// Whether `-f` was given at least once.
    pub fn forced(&self) -> bool {
        self.force > 0
    }
}

/// lvm2's answer to `--version`, with rlvm's own version.
pub fn version_text() -> String {
    let version = env!("CARGO_PKG_VERSION");
    format!(
        "  LVM version:     rlvm {version}\n  Library version: rlvm {version}\n  Driver version:  {}\n",
        driver_version()
    )
}

fn driver_version() -> String {
    match rlvm::backend::open_backend() {
        Ok(backend) => backend
            .driver_version()
            .map(|[major, minor, patch]| format!("{major}.{minor}.{patch}"))
            .unwrap_or_else(|_| "unknown".into()),
        Err(_) => "unknown".into(),
    }
}

/// Whether `args` ask for `--version` (before any `--`), which lvm2 answers
/// even when the rest of the command line would be incomplete.
pub fn asks_for_version(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--version")
}
