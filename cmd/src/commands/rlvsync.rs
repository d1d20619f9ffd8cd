//! `rlvsync`: incremental backup from snapshots. Each subcommand parses,
//! makes the library calls of `rlvm::sync` and renders; the stream format,
//! the checks and the apply logic live in the library.

use std::ffi::OsString;
use std::io::{BufWriter, IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, CommandFactory, Parser, Subcommand};
use rlvm::ops::snapshots::snapshot_of;
use rlvm::ops::volumes::OpenVg;
use rlvm::sync::{self, ApplyOptions, CowSize, ExportPlan, StreamHeader};
use rlvm::units::parse_size;

use super::lvm_common::{candidate_devices, split_lv};
use super::lvm_options::{CommonArgs, HasCommon};

const FORMAT: &str = "\
STREAM FORMAT (version 2; every integer little-endian)

  header   magic \"RLVSYNC\\0\" (8 bytes), version u32 = 2, header_len u32,
           kind u8 (1 incremental, 2 full, 3 snapback), 3 zero bytes,
           chunk_bytes u32, origin_bytes u64, start_chunk u64,
           records u64, data_bytes u64 (as planned), old_time i64, new_time i64,
           eight strings (u16 length + UTF-8): source VG name, VG UUID,
           origin LV name, LV UUID, OLD name, OLD UUID, NEW name, NEW UUID;
           crc32c u32 of every header byte before it.
  record   chunk index u64, length u32, crc32c u32 of (index, length, data),
           then the chunk's data (the volume's last chunk clipped to its size).
           Records are in strictly ascending chunk order, none below start_chunk.
  trailer  u64 all ones, record count u64, data bytes u64,
           XXH3-128 of every stream byte before the trailer (16 bytes,
           little-endian) and 16 zero bytes, crc32c u32 of the 56 trailer
           bytes before it.

Version 1 streams are still read (apply, verify, info): they differ only in
the version field and in the digest, which is BLAKE3 of every stream byte
before the trailer (32 bytes). Version 2 changed the digest
because BLAKE3 cost as much CPU as reading the data; XXH3-128 detects
accidental damage as well. Neither digest guards against deliberate
tampering (whoever can change the stream can rewrite an unkeyed digest):
send streams over an authenticated channel such as ssh, or sign stream files.

A record is written to the target only after its checksum, length and place
were checked; a bad or cut stream stops apply with an error naming the record.

PROGRESS FILE

apply keeps the stream's identity and how far it got in .NAME.rlvsync beside a
regular-file target, or in $RLVM_DIR/sync/ for a device, LV or NBD target
(--progress-file overrides). It is written after the target is flushed.
apply refuses a stream of another volume or size, or one that does not start
from the snapshot the target last received, unless --force.

RESUMING WITHOUT RE-SENDING

A record is absolute data, so apply --resume may rewrite the few records after
the last checkpoint; it never needs those before it sent again. `rlvsync
progress TARGET` prints the target's progress file; `export --resume-from` (and
`full --resume-from`) reads it (\"-\": stdin), checks it records this very round
(same volume, size, chunk size, OLD and NEW), and sends only the chunks from
where the target stopped, in a stream whose start_chunk says so. apply takes
such a stream only with --resume, and only for the round it belongs to.

  ssh host rlvsync progress /dev/vg/copy |
    rlvsync export --since vg/mon --at vg/new --resume-from - -o - |
    ssh host rlvsync apply --resume - /dev/vg/copy

A BACKUP ROUND

  rlvsync export --since vg/mon -o - | ssh host rlvsync apply - /dev/vg/copy
  rlvremove -f vg/mon     # the new snapshot, printed on stderr, is the next --since
";

/// Incremental backup from snapshots: export the chunks a snapshot's COW lists, apply them to a copy.
#[derive(Debug, Parser)]
#[command(name = "rlvsync", after_long_help = FORMAT)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The chunks in OLD's exception list, read through NEW: the volume as of NEW.
    Export(ExportArgs),
    /// The whole volume as of a snapshot, for the first copy.
    Full(FullArgs),
    /// Write a stream to a file, block device, rlvm LV (VG/LV) or nbd+unix:// URI.
    Apply(ApplyArgs),
    /// Check a stream and that TARGET holds every record of it.
    Verify(VerifyArgs),
    /// Print a stream's header, counts, bytes, source and digest (checking it whole).
    Info(InfoArgs),
    /// Print TARGET's progress file: what export --resume-from needs to send only the rest of a round.
    Progress(ProgressArgs),
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// OLD: the snapshot whose exception list says what changed.
    #[arg(
        long,
        value_name = "VG/OLD",
        required_unless_present = "cow",
        conflicts_with = "cow"
    )]
    since: Option<String>,
    /// NEW: an existing snapshot to read through, or the name to take it under (default ORIGIN_syncN).
    #[arg(long, value_name = "VG/NEW")]
    at: Option<String>,
    /// Offline: OLD's COW image (with --origin: the origin image, read as it is).
    #[arg(long, value_name = "FILE", requires = "origin")]
    cow: Option<PathBuf>,
    /// Offline: the origin image the COW belongs to.
    #[arg(long, value_name = "FILE", requires = "cow")]
    origin: Option<PathBuf>,
    /// Write the stream here ("-": stdout, the default).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE|-",
        default_value = "-"
    )]
    output: String,
    /// COW size of a NEW taken by rlvsync (as rlvcreate -L; default: as big as OLD's).
    #[arg(
        short = 'L',
        long = "size",
        value_name = "SIZE",
        conflicts_with = "extents"
    )]
    size: Option<String>,
    /// COW size of a NEW taken by rlvsync in extents, or N%ORIGIN / N%FREE / N%VG.
    #[arg(short = 'l', long = "extents", value_name = "N[%ORIGIN|%FREE|%VG]")]
    extents: Option<String>,
    /// Chunk size of a NEW taken by rlvsync (default: OLD's).
    #[arg(short = 'c', long = "chunksize", value_name = "SIZE")]
    chunksize: Option<String>,
    /// Only the chunks from this one on: the rest of an interrupted round (see apply --resume).
    #[arg(
        long,
        value_name = "CHUNK",
        requires = "at",
        conflicts_with = "resume_from"
    )]
    from_chunk: Option<u64>,
    /// Only what the target lacks: the rest of the round its progress file (as `rlvsync progress` prints it; "-": stdin) records.
    #[arg(long, value_name = "FILE|-", requires = "at")]
    resume_from: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct FullArgs {
    /// The snapshot.
    #[arg(value_name = "VG/SNAP")]
    snapshot: String,
    /// Write the stream here ("-": stdout, the default).
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FILE|-",
        default_value = "-"
    )]
    output: String,
    /// Only the chunks from this one on: the rest of an interrupted round.
    #[arg(long, value_name = "CHUNK", conflicts_with = "resume_from")]
    from_chunk: Option<u64>,
    /// Only what the target lacks: the rest of the round its progress file (as `rlvsync progress` prints it; "-": stdin) records.
    #[arg(long, value_name = "FILE|-")]
    resume_from: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct ProgressArgs {
    /// The copy (as given to apply).
    #[arg(value_name = "TARGET")]
    target: String,
    /// The progress file (default: as apply finds it).
    #[arg(long, value_name = "FILE")]
    progress_file: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct ApplyArgs {
    /// The stream ("-": stdin).
    #[arg(value_name = "FILE|-")]
    stream: String,
    /// A file (created for a full stream), block device, VG/LV or nbd+unix:///EXPORT?socket=PATH.
    #[arg(value_name = "TARGET")]
    target: String,
    /// First save TARGET's old bytes of every chunk overwritten, as a stream that undoes this round.
    #[arg(long, value_name = "FILE")]
    snapback: Option<PathBuf>,
    /// Continue an interrupted apply from its progress file; records already applied are not rewritten.
    #[arg(long)]
    resume: bool,
    /// Apply even a stream of another volume, size or round, over an existing snapback file.
    #[arg(short = 'f', long)]
    force: bool,
    /// The progress file (default: .TARGET.rlvsync beside a file, $RLVM_DIR/sync/ otherwise).
    #[arg(long, value_name = "FILE")]
    progress_file: Option<PathBuf>,
    /// Data between progress-file updates, each a flush of the target (default 256m).
    #[arg(long, value_name = "SIZE")]
    checkpoint: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The stream ("-": stdin).
    #[arg(value_name = "FILE|-")]
    stream: String,
    /// The copy to compare.
    #[arg(value_name = "TARGET")]
    target: String,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct InfoArgs {
    /// The stream ("-": stdin).
    #[arg(value_name = "FILE|-")]
    stream: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    common: CommonArgs,
}

impl HasCommon for Cli {
    fn common(&self) -> &CommonArgs {
        match &self.command {
            Command::Export(a) => &a.common,
            Command::Full(a) => &a.common,
            Command::Apply(a) => &a.common,
            Command::Verify(a) => &a.common,
            Command::Info(a) => &a.common,
            Command::Progress(a) => &a.common,
        }
    }
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Entry point.
pub fn run(args: Vec<OsString>) -> ExitCode {
    crate::exit::run_lvm("rlvsync", args, |cli: Cli| match cli.command {
        Command::Export(a) => export(a),
        Command::Full(a) => full(a),
        Command::Apply(a) => apply(a),
        Command::Verify(a) => verify(a),
        Command::Info(a) => info(a),
        Command::Progress(a) => progress(a),
    })
}

fn export(a: ExportArgs) -> anyhow::Result<()> {
    sync::timing::mark("export starts");
    if let (Some(cow), Some(origin)) = (&a.cow, &a.origin) {
        let plan = sync::offline_plan(cow, origin)?;
        let plan = resume(plan, a.from_chunk, a.resume_from.as_deref())?;
        return write_plan(&plan, &a.output, a.common.quiet > 0);
    }
    let since = a.since.as_deref().unwrap_or_default();
    let (vg_name, old) = split_lv(since)?;
    let backend = rlvm::backend::open_backend().context("reading the snapshots' devices")?;
    let at = match &a.at {
        Some(at) => {
            let (vg, new) = split_lv(at)?;
            if vg != vg_name {
                bail!("--at {at}: NEW must be in volume group {vg_name}, as OLD is");
            }
            Some(new)
        }
        None => None,
    };
    let existing = at.as_ref().and_then(|new| {
        OpenVg::open_read(&vg_name, &candidate_devices())
            .ok()
            .filter(|open| open.vg.lv(new).is_some())
    });
    let (open, new, taken) = match existing {
        Some(open) => (open, at.unwrap_or_default(), false),
        None => {
            let open = OpenVg::open(&vg_name, &candidate_devices())?;
            let (origin, chunk, _, merging) =
                snapshot_of(&open.vg, &old).ok_or_else(|| sync::SyncError::NotASnapshot {
                    vg: vg_name.clone(),
                    lv: old.clone(),
                })?;
            if merging {
                return Err(sync::SyncError::Merging {
                    vg: vg_name,
                    lv: old,
                }
                .into());
            }
            let name = at.unwrap_or_else(|| {
                (0..)
                    .map(|n| format!("{origin}_sync{n}"))
                    .find(|n| open.vg.lv(n).is_none())
                    .expect("a free name")
            });
            sync::check_old(backend.as_ref(), &open, &old)?;
            let size = cow_size(&a)?;
            let extents = sync::cow_extents(&open, &origin, size, &old);
            let chunk = match &a.chunksize {
                Some(c) => parse_size(c, 'k').with_context(|| format!("--chunksize {c}"))? / 512,
                None => chunk,
            };
            let open = sync::take_snapshot(backend.as_ref(), open, &origin, &name, extents, chunk)
                .with_context(|| format!("taking {vg_name}/{name}"))?;
            (open, name, true)
        }
    };
    if taken {
        // The name goes where the stream does not: scripts need it for the next round.
        let line = format!("{vg_name}/{new}");
        if a.output == "-" {
            eprintln!("{line}");
        } else {
            rlvm::log::print(&line);
        }
    }
    sync::timing::mark("VG read, NEW known");
    let plan = match sync::incremental_plan(backend.as_ref(), &open, &old, &new) {
        Ok(plan) => plan,
        Err(error) if taken => {
            rlvm::log::warning(format!(
                "{vg_name}/{new} was taken for this export and is kept; rlvremove it if it is not wanted."
            ));
            return Err(error.into());
        }
        Err(error) => return Err(error.into()),
    };
    drop(open);
    let plan = resume(plan, a.from_chunk, a.resume_from.as_deref())?;
    write_plan(&plan, &a.output, a.common.quiet > 0)
}

fn cow_size(a: &ExportArgs) -> anyhow::Result<CowSize> {
    if let Some(size) = &a.size {
        return Ok(CowSize::Bytes(
            parse_size(size, 'm').with_context(|| format!("--size {size}"))?,
        ));
    }
    let Some(spec) = &a.extents else {
        return Ok(CowSize::LikeLv);
    };
    let number = |n: &str| -> anyhow::Result<u64> {
        n.parse()
            .with_context(|| format!("--extents {spec}: not a number"))
    };
    Ok(match spec.split_once('%') {
        None => CowSize::Extents(number(spec)?),
        Some((n, "ORIGIN")) => CowSize::PercentOrigin(number(n)?),
        Some((n, "FREE")) => CowSize::PercentFree(number(n)?),
        Some((n, "VG")) => CowSize::PercentVg(number(n)?),
        Some((_, other)) => bail!("--extents {spec}: unknown %{other} (use %ORIGIN, %FREE or %VG)"),
    })
}

fn full(a: FullArgs) -> anyhow::Result<()> {
    let (vg_name, snap) = split_lv(&a.snapshot)?;
    let backend = rlvm::backend::open_backend().context("reading the snapshot's device")?;
    let open = OpenVg::open_read(&vg_name, &candidate_devices())?;
    let plan = sync::full_plan(backend.as_ref(), &open, &snap)?;
    drop(open);
    let plan = resume(plan, a.from_chunk, a.resume_from.as_deref())?;
    write_plan(&plan, &a.output, a.common.quiet > 0)
}

/// The plan cut to the rest of an interrupted round: from a chunk, or from what a target's progress file records.
fn resume(
    plan: ExportPlan,
    first: Option<u64>,
    progress_file: Option<&str>,
) -> anyhow::Result<ExportPlan> {
    if let Some(first) = first {
        return Ok(plan.starting_at(first));
    }
    let Some(file) = progress_file else {
        return Ok(plan);
    };
    let text = if file == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the progress file on stdin")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?
    };
    let name = if file == "-" { "stdin" } else { file };
    let recorded = sync::progress::parse(&text, std::path::Path::new(name))?;
    Ok(plan.resuming(&recorded, name)?)
}

fn progress(a: ProgressArgs) -> anyhow::Result<()> {
    let (path, recorded) = sync::progress_of(&a.target, a.progress_file.as_deref())?;
    match recorded {
        Some(p) => {
            rlvm::log::verbose(1, format!("{}", path.display()));
            // Verbatim, not indented as report lines are: it is the input of export --resume-from.
            use std::io::Write;
            std::io::stdout()
                .write_all(p.encode().as_bytes())
                .context("writing the progress")?;
            Ok(())
        }
        None => bail!(
            "{}: no progress file at {}: nothing was applied to it",
            a.target,
            path.display()
        ),
    }
}

fn write_plan(plan: &ExportPlan, output: &str, quiet: bool) -> anyhow::Result<()> {
    let header = plan.header().clone();
    let mut bar = Bar::new(&header, quiet);
    let trailer = if output == "-" {
        let stdout = std::io::stdout();
        if stdout.is_terminal() {
            bail!("refusing to write a binary stream to a terminal (use -o FILE or a pipe)");
        }
        // Straight to the descriptor: std's stdout is line-buffered, which scans binary data for newlines
        // and splits the library's vectored writes.
        use std::os::fd::AsFd;
        let raw = stdout
            .as_fd()
            .try_clone_to_owned()
            .context("opening stdout")?;
        plan.write_to(
            BufWriter::with_capacity(1 << 20, std::fs::File::from(raw)),
            &mut |d| bar.set(d),
        )?
    } else {
        let file = std::fs::File::create(output).with_context(|| format!("creating {output}"))?;
        let t = plan.write_to(BufWriter::with_capacity(1 << 20, &file), &mut |d| {
            bar.set(d)
        })?;
        // A stream file is made durable; a device or /dev/null cannot be synced that way.
        if file.metadata().is_ok_and(|m| m.is_file()) {
            file.sync_all()
                .with_context(|| format!("writing {output}"))?;
        }
        t
    };
    bar.finish();
    rlvm::log::verbose(
        1,
        format!(
            "{} records, {} data bytes, digest {}",
            trailer.records,
            trailer.data_bytes,
            trailer.digest_hex()
        ),
    );
    Ok(())
}

/// The stream's input, unbuffered: the library's reader makes large reads of its own.
fn open_stream(stream: &str) -> anyhow::Result<Box<dyn Read + Send>> {
    Ok(if stream == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(stream).with_context(|| format!("opening {stream}"))?)
    })
}

fn apply(a: ApplyArgs) -> anyhow::Result<()> {
    let checkpoint_bytes = match &a.checkpoint {
        Some(c) => parse_size(c, 'm').with_context(|| format!("--checkpoint {c}"))?,
        None => sync::DEFAULT_CHECKPOINT_BYTES,
    };
    let options = ApplyOptions {
        resume: a.resume,
        force: a.force,
        snapback: a.snapback.clone(),
        progress_file: a.progress_file.clone(),
        checkpoint_bytes: checkpoint_bytes.max(1),
    };
    let input = open_stream(&a.stream)?;
    let quiet = a.common.quiet > 0;
    let mut bar: Option<Bar> = None;
    let report = sync::apply(input, &a.target, &options, &mut |done, total| {
        bar.get_or_insert_with(|| Bar::with_len(Some(total), quiet))
            .set(done)
    })?;
    if let Some(b) = bar {
        b.finish();
    }
    rlvm::log::verbose(
        1,
        format!(
            "{}: {} records written, {} already there, {} saved to the snapback; progress in {}",
            a.target,
            report.written,
            report.skipped,
            report.snapback_records,
            report.progress_file.display()
        ),
    );
    Ok(())
}

fn verify(a: VerifyArgs) -> anyhow::Result<()> {
    let report = sync::verify(open_stream(&a.stream)?, &a.target)?;
    rlvm::log::print(format!(
        "{}: {} records match (volume as of {})",
        a.target,
        report.records,
        report.header.new.describe()
    ));
    Ok(())
}

fn info(a: InfoArgs) -> anyhow::Result<()> {
    let info = sync::info(open_stream(&a.stream)?)?;
    if a.json {
        rlvm::log::print(serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    let h = &info.header;
    let lines = [
        format!("kind          {}", h.kind.as_str()),
        format!("version       {}", info.version),
        format!(
            "source        {}/{} (VG {}, LV {})",
            h.source.vg_name, h.source.lv_name, h.source.vg_uuid, h.source.lv_uuid
        ),
        format!("origin bytes  {}", h.origin_bytes),
        format!("chunk bytes   {}", h.chunk_bytes),
        format!("start chunk   {}", h.start_chunk),
        format!("old           {}", h.old.describe()),
        format!("new           {}", h.new.describe()),
        format!("records       {}", info.records),
        format!("data bytes    {}", info.data_bytes),
        format!("stream bytes  {}", info.stream_bytes),
        format!(
            "digest        {}:{}",
            info.digest_kind.as_str(),
            info.digest
        ),
    ];
    for line in lines {
        rlvm::log::print(line);
    }
    Ok(())
}

/// indicatif's bar on stderr when it is a terminal and -q was not given; nothing otherwise.
struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn new(header: &StreamHeader, quiet: bool) -> Self {
        Self::with_len(Some(header.data_bytes), quiet)
    }

    fn with_len(len: Option<u64>, quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = match len {
            Some(len) => indicatif::ProgressBar::new(len).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bytes}/{total_bytes} {wide_bar} {binary_bytes_per_sec} ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template("{spinner} {bytes} {binary_bytes_per_sec}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            ),
        };
        Self(Some(bar))
    }

    fn set(&mut self, done: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(done);
        }
    }

    fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}
