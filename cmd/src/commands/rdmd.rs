//! `rdmd`: the userspace device-mapper engine for one state directory.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{CommandFactory, Parser};
use rlvm::backend::userspace::client::{connect_or_start, stop_daemon};
use rlvm::backend::userspace::daemon::{self, Exports};
use rlvm::backend::{state_dir, BackendError};

/// Run the userspace device-mapper engine: dm tables over image files, shown
/// as files under DIR/mapper (FUSE) and as NBD exports on DIR/nbd.sock.
///
/// Commands start it on demand; run it with --foreground under a service
/// manager. Its devices live as long as it runs, as kernel devices live until
/// a reboot: activation builds them again from the metadata.
#[derive(Debug, Parser)]
#[command(name = "rdmd", version)]
pub struct Cli {
    /// Stay in the foreground (for systemd and other service managers).
    #[arg(short, long)]
    foreground: bool,
    /// State directory [default: $RLVM_DIR, /var/lib/rlvm for root, ~/.local/state/rlvm otherwise].
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Do not mount the FUSE mapper directory.
    #[arg(long)]
    no_fuse: bool,
    /// Do not serve NBD.
    #[arg(long)]
    no_nbd: bool,
    /// Stop the running daemon of the directory (its devices go); refused
    /// while a program holds a device open, unless --force.
    #[arg(long, conflicts_with = "foreground")]
    stop: bool,
    /// With --stop: stop even while devices are open (their openers get I/O errors).
    #[arg(long, requires = "stop")]
    force: bool,
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run("rdmd", args, |cli: Cli| {
        let dir = cli.dir.unwrap_or_else(state_dir);
        if cli.stop {
            match stop_daemon(&dir, cli.force) {
                Ok(true) => {}
                Ok(false) => eprintln!("rdmd: no daemon runs for {}", dir.display()),
                Err(BackendError::DeviceBusy { name, reason }) => bail!(
                    "not stopping: {name}: Device or resource busy ({reason}); close it or use --force"
                ),
                Err(e) => return Err(e.into()),
            }
            return Ok(());
        }
        if cli.foreground {
            let exports = Exports {
                fuse: !cli.no_fuse,
                nbd: !cli.no_nbd,
            };
            daemon::run(&dir, exports, || {
                eprintln!("rdmd: serving {}", dir.display());
            })
            .with_context(|| format!("rdmd for {}", dir.display()))?;
            return Ok(());
        }
        connect_or_start(&dir).with_context(|| format!("starting rdmd for {}", dir.display()))?;
        // A closed or full stdout fails the command once the daemon runs, never a panic.
        let mut out = std::io::stdout().lock();
        writeln!(out, "rdmd runs for {}", dir.display())
            .and_then(|()| out.flush())
            .context("writing to stdout")?;
        Ok(())
    })
}
