//! `rcow`: the persistent COW exception store from the shell.
//!
//! Each subcommand parses, makes one library call and renders; `dump`,
//! `check` and `cat` open their devices read-only, and `create` writes only
//! after every refusal has been ruled out.

use std::ffi::OsString;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context};
use clap::{CommandFactory, Parser, Subcommand};
use rlvm::cow::{self, ExceptionStore, PersistentStore, SnapshotView};
use rlvm::io::{BlockIo, FileDisk};

use crate::exit;

/// Inspect and build dm-snapshot persistent COW stores.
#[derive(Debug, Parser)]
#[command(name = "rcow", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a fresh persistent store (header and zeroed first metadata area).
    Create {
        /// The COW device or file (must exist; its size is the store's size).
        cow: PathBuf,
        /// Chunk size, lvm2 syntax (default unit k): a power of 2 from 4k to 512k.
        #[arg(short = 'c', long, value_name = "SIZE", default_value = "4k")]
        chunk_size: String,
        /// Overwrite a device that already holds a COW store.
        #[arg(short, long)]
        force: bool,
    },
    /// Print the header, geometry, usage and every exception in on-disk order.
    Dump {
        /// The COW device or file.
        cow: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify a store offline; exit 1 and list every problem if it is damaged.
    Check {
        /// The COW device or file.
        cow: PathBuf,
    },
    /// Write the snapshot's contents (origin plus exceptions) to stdout or a file.
    Cat {
        /// The origin device or file the snapshot was taken of.
        #[arg(long, value_name = "ORIGIN")]
        origin: PathBuf,
        /// The COW device or file.
        cow: PathBuf,
        /// Write here instead of stdout.
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// A failure and the exit status it maps to.
struct Failure {
    error: anyhow::Error,
    code: u8,
}

impl Failure {
    fn invalid(error: anyhow::Error) -> Self {
        Self {
            error,
            code: exit::INVALID_COMMAND_LINE,
        }
    }
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(error: E) -> Self {
        Self {
            error: error.into(),
            code: exit::COMMAND_FAILED,
        }
    }
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    let cli = match exit::parse::<Cli>(args) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let result = match cli.command {
        Command::Create {
            cow,
            chunk_size,
            force,
        } => create(&cow, &chunk_size, force),
        Command::Dump { cow, json } => dump(&cow, json),
        Command::Check { cow } => check(&cow),
        Command::Cat {
            origin,
            cow,
            output,
        } => cat(&origin, &cow, output.as_deref()),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(failure) => exit::report("rcow", &failure.error, failure.code),
    }
}

fn open_read_only(path: &Path) -> anyhow::Result<FileDisk> {
    FileDisk::open_read_only(path).with_context(|| path.display().to_string())
}

/// `--chunk-size` in sectors, by lvm2's rules.
fn chunk_sectors(arg: &str) -> Result<u32, Failure> {
    let bad = |reason: String| Failure::invalid(anyhow!("--chunk-size {arg}: {reason}"));
    let bytes = rlvm::units::parse_size(arg, 'k').map_err(|e| bad(e.to_string()))?;
    let sectors = bytes / 512;
    if bytes % 512 != 0 {
        return Err(bad(cow::CowError::ChunkSizeOutOfLvm2Range {
            chunk_size: 0,
        }
        .to_string()));
    }
    cow::validate_chunk_size_lvm2(sectors).map_err(|e| bad(e.to_string()))?;
    u32::try_from(sectors).map_err(|e| bad(e.to_string()))
}

fn create(path: &Path, chunk_arg: &str, force: bool) -> Result<u8, Failure> {
    let chunk = chunk_sectors(chunk_arg)?;
    let name = path.display().to_string();
    let disk = FileDisk::open(path).with_context(|| name.clone())?;
    // A device holding anything but a store (or zeros) is fair game, as lvcreate wipes it;
    // an existing store is refused, since that would drop a snapshot's data.
    if let Ok(Some(header)) = cow::read_header(&disk) {
        if !force {
            return Err(anyhow!(
                "{name}: already holds a COW store (SnAp header, chunk size {}); use --force to overwrite",
                header.chunk_size
            )
            .into());
        }
    }
    let chunk_bytes = u64::from(chunk) * 512;
    let needed = chunk_bytes * 3;
    let device_bytes = disk.size_bytes().with_context(|| name.clone())?;
    if device_bytes < needed {
        return Err(anyhow!(
            "{name}: {device_bytes} bytes is too small for a COW store with {chunk_bytes}-byte chunks (header, metadata area and one data chunk need {needed})"
        )
        .into());
    }
    let store = PersistentStore::create(disk, chunk).with_context(|| name.clone())?;
    let usage = store.usage().with_context(|| name.clone())?;
    print_lines(&[format!(
        "{name}: created COW store, chunk size {chunk} sectors, usage {usage}"
    )])?;
    Ok(exit::OK)
}

fn dump(path: &Path, json: bool) -> Result<u8, Failure> {
    let name = path.display().to_string();
    let disk = open_read_only(path)?;
    let dump = cow::dump(&disk).with_context(|| name.clone())?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &dump)?;
        writeln!(out)?;
    } else {
        let h = &dump.header;
        let g = &dump.geometry;
        writeln!(out, "magic: {}", h.magic)?;
        writeln!(out, "valid: {}", h.valid)?;
        writeln!(out, "version: {}", h.version)?;
        writeln!(
            out,
            "chunk_size: {} sectors ({} bytes)",
            h.chunk_size, g.chunk_bytes
        )?;
        writeln!(out, "exceptions_per_area: {}", g.exceptions_per_area)?;
        writeln!(out, "device_sectors: {}", g.device_sectors)?;
        writeln!(out, "areas: {}", g.areas)?;
        writeln!(out, "status: {}", dump.status)?;
        writeln!(out, "exceptions: {}", dump.exceptions.len())?;
        for e in &dump.exceptions {
            writeln!(
                out,
                "  area {} entry {}: {} -> {}",
                e.area, e.index, e.old_chunk, e.new_chunk
            )?;
        }
    }
    out.flush()?;
    Ok(exit::OK)
}

fn check(path: &Path) -> Result<u8, Failure> {
    let name = path.display().to_string();
    let disk = open_read_only(path)?;
    let report = cow::check(&disk);
    if report.is_clean() {
        print_lines(&[format!("{name}: clean, {} exceptions", report.exceptions)])?;
        return Ok(exit::OK);
    }
    let lines: Vec<String> = report
        .problems
        .iter()
        .map(|problem| format!("{name}: {problem}"))
        .collect();
    print_lines(&lines)?;
    Ok(exit::FAILED_CHECK)
}

/// Result lines on stdout; a full or closed stdout is an error (the work is
/// already done), never println!'s panic.
fn print_lines(lines: &[String]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}").context("writing to stdout")?;
    }
    out.flush().context("writing to stdout")?;
    Ok(())
}

fn cat(origin: &Path, cow_path: &Path, output: Option<&Path>) -> Result<u8, Failure> {
    let origin_disk = open_read_only(origin)?;
    let cow_disk = open_read_only(cow_path)?;
    let view = SnapshotView::open(origin_disk, cow_disk)
        .with_context(|| cow_path.display().to_string())?;
    // The output is created only once the view has opened, so a refusal writes nothing.
    match output {
        Some(out_path) => {
            let file =
                std::fs::File::create(out_path).with_context(|| out_path.display().to_string())?;
            let mut out = BufWriter::new(file);
            view.copy_to(&mut out)
                .with_context(|| out_path.display().to_string())?;
            out.flush()
                .with_context(|| out_path.display().to_string())?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            view.copy_to(&mut out)
                .with_context(|| cow_path.display().to_string())?;
            out.flush()?;
        }
    }
    Ok(exit::OK)
}
