//! Write a persistent COW store through the library, as a snapshot target would.
//!
//! ```sh
//! cargo run -p rlvm-cmd --example cow_write -- COW --chunk-size 8 --origin 4096 --chunks 0,5,300 --seed 7
//! cargo run -p rlvm-cmd --bin rcow -- dump COW
//! ```
//!
//! Creates (or truncates) the file COW, sized to fit exactly: header, the
//! metadata areas the exceptions need, and one data chunk per exception (plus
//! the next area when the last one is exactly full, which the kernel zeroes).
//! Then, for each listed origin chunk in order, allocates a COW chunk, fills
//! it with the pattern below, and commits the exception (all in one batch).
//!
//! # Data pattern (a contract: keep it stable)
//!
//! Within the data chunk saved for origin chunk `c`, the 8-byte little-endian
//! word at byte offset `o` (o = 0, 8, 16, ...) is
//!
//! ```text
//! (seed << 56) ^ (c << 24) ^ o
//! ```
//!
//! A QEMU test in a parallel branch loads this COW under a real kernel
//! `snapshot <origin> <cow> P <chunk>` table (origin of `--origin` sectors)
//! and checks that the snapshot device shows exactly these bytes for those
//! chunks (the last origin chunk clipped to the origin size) and the origin's
//! bytes elsewhere.

use std::fs::File;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Parser;
use rlvm::cow::{Exception, ExceptionStore, Geometry, PersistentStore};
use rlvm::io::{BlockIo, FileDisk};

/// Create a persistent COW store holding one exception per listed origin chunk.
#[derive(Debug, Parser)]
struct Args {
    /// The COW file to create (truncated if it exists).
    cow: PathBuf,
    /// Chunk size in sectors (kernel rules: a power of 2).
    #[arg(long, default_value_t = 8)]
    chunk_size: u32,
    /// Origin size in sectors; every listed chunk must lie inside it.
    #[arg(long)]
    origin: u64,
    /// Origin chunks to record, comma-separated, in commit order.
    #[arg(long, value_delimiter = ',', required = true)]
    chunks: Vec<u64>,
    /// Seed mixed into the data pattern's top byte.
    #[arg(long, default_value_t = 0)]
    seed: u8,
}

/// The pattern documented above for one chunk.
fn pattern(seed: u8, origin_chunk: u64, chunk_bytes: usize) -> Vec<u8> {
    (0..chunk_bytes as u64)
        .step_by(8)
        .flat_map(|o| ((u64::from(seed) << 56) ^ (origin_chunk << 24) ^ o).to_le_bytes())
        .collect()
}

/// Chunks the file needs for `n` exceptions: the last data chunk, or the next
/// area when the last one fills (the kernel zeroes it during that commit).
fn chunks_needed(geometry: &Geometry, n: u64) -> u64 {
    let mut next_free = 2;
    for _ in 0..n {
        next_free = geometry.skip_metadata(next_free + 1);
    }
    let epa = geometry.exceptions_per_area();
    let last_data = next_free.max(2);
    if n > 0 && n % epa == 0 {
        last_data.max(geometry.area_location(n / epa) + 1)
    } else {
        last_data
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    rlvm::cow::validate_chunk_size_kernel(u64::from(args.chunk_size), 512)?;
    let geometry = Geometry::new(args.chunk_size);
    let origin_chunks = args.origin.div_ceil(geometry.chunk_sectors());
    let mut seen = std::collections::HashSet::new();
    for &c in &args.chunks {
        if c >= origin_chunks {
            bail!("chunk {c} lies outside an origin of {origin_chunks} chunks");
        }
        if !seen.insert(c) {
            bail!("chunk {c} is listed twice");
        }
    }
    let chunks = chunks_needed(&geometry, args.chunks.len() as u64);
    let name = args.cow.display().to_string();
    let file = File::create(&args.cow).with_context(|| name.clone())?;
    file.set_len(chunks * geometry.chunk_bytes())
        .with_context(|| name.clone())?;
    drop(file);
    let disk = Arc::new(FileDisk::open(&args.cow).with_context(|| name.clone())?);
    let mut store = PersistentStore::create(disk.clone(), args.chunk_size)?;
    let chunk_bytes = geometry.chunk_bytes() as usize;
    let mut batch = Vec::new();
    for &old_chunk in &args.chunks {
        let new_chunk = store.allocate()?;
        let offset = store.chunk_offset(new_chunk).context("chunk offset")?;
        disk.write_all_at(&pattern(args.seed, old_chunk, chunk_bytes), offset)
            .with_context(|| format!("{name}: writing chunk {new_chunk}"))?;
        batch.push(Exception {
            old_chunk,
            new_chunk,
        });
    }
    store.commit_batch(&batch)?;
    println!(
        "{name}: {} bytes, chunk size {} sectors, status {}",
        chunks * geometry.chunk_bytes(),
        args.chunk_size,
        store.usage()?
    );
    for e in &batch {
        println!(
            "  origin chunk {} -> COW chunk {}",
            e.old_chunk, e.new_chunk
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cow_write: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_the_documented_one() {
        let bytes = pattern(7, 300, 4096);
        assert_eq!(bytes.len(), 4096);
        let word = |o: usize| u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
        assert_eq!(word(0), 0x0700_0000_0000_0000 ^ (300 << 24));
        assert_eq!(word(4088), 0x0700_0000_0000_0000 ^ (300 << 24) ^ 4088);
    }

    #[test]
    fn sizes_fit_the_kernels_layout() {
        let g = Geometry::new(8);
        assert_eq!(chunks_needed(&g, 0), 2);
        assert_eq!(chunks_needed(&g, 3), 5);
        // 256 fill area 0 (data 2..257); the commit zeroes area 1 at chunk 258.
        assert_eq!(chunks_needed(&g, 256), 259);
        assert_eq!(chunks_needed(&g, 257), 260);
    }
}
