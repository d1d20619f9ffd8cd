//! Chunk-size rules: the kernel's (what a table load accepts) and lvm2's
//! stricter ones (what `lvcreate --chunksize` accepts).

use super::error::CowError;

/// The kernel's upper bound in sectors: `INT_MAX >> 9`, so a chunk's byte size fits an int.
pub const KERNEL_MAX_CHUNK_SECTORS: u64 = (i32::MAX as u64) >> 9;
/// lvm2's smallest chunk: 8 sectors (4 KiB), also its default.
pub const LVM2_MIN_CHUNK_SECTORS: u64 = 8;
/// lvm2's largest chunk: 1024 sectors (512 KiB).
pub const LVM2_MAX_CHUNK_SECTORS: u64 = 1024;
/// The kernel's chunk size for a fresh COW loaded with chunk size 0: 32 sectors (16 KiB), or the logical block size if larger.
pub const KERNEL_DEFAULT_CHUNK_SECTORS: u64 = 32;

/// Validate `chunk_sectors` as the kernel does at table load: a power of two,
/// a multiple of the device's logical block size, at most `INT_MAX >> 9`.
pub fn validate_kernel(chunk_sectors: u64, logical_block_bytes: u64) -> Result<(), CowError> {
    if !chunk_sectors.is_power_of_two() {
        return Err(CowError::ChunkSizeNotPowerOfTwo {
            chunk_size: chunk_sectors,
        });
    }
    let block_sectors = (logical_block_bytes / 512).max(1);
    if chunk_sectors % block_sectors != 0 {
        return Err(CowError::ChunkSizeNotBlockMultiple {
            chunk_size: chunk_sectors,
            block_sectors,
        });
    }
    if chunk_sectors > KERNEL_MAX_CHUNK_SECTORS {
        return Err(CowError::ChunkSizeTooLarge {
            chunk_size: chunk_sectors,
            limit: KERNEL_MAX_CHUNK_SECTORS,
        });
    }
    Ok(())
}

/// Validate `chunk_sectors` as lvm2 does: a power of two from 8 to 1024 sectors (4 KiB..512 KiB).
pub fn validate_lvm2(chunk_sectors: u64) -> Result<(), CowError> {
    if chunk_sectors.is_power_of_two()
        && (LVM2_MIN_CHUNK_SECTORS..=LVM2_MAX_CHUNK_SECTORS).contains(&chunk_sectors)
    {
        Ok(())
    } else {
        Err(CowError::ChunkSizeOutOfLvm2Range {
            chunk_size: chunk_sectors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_rules() {
        assert!(validate_kernel(8, 512).is_ok());
        assert!(validate_kernel(1, 512).is_ok());
        assert!(matches!(
            validate_kernel(0, 512),
            Err(CowError::ChunkSizeNotPowerOfTwo { chunk_size: 0 })
        ));
        assert!(matches!(
            validate_kernel(12, 512),
            Err(CowError::ChunkSizeNotPowerOfTwo { chunk_size: 12 })
        ));
        assert!(matches!(
            validate_kernel(4, 4096),
            Err(CowError::ChunkSizeNotBlockMultiple {
                chunk_size: 4,
                block_sectors: 8
            })
        ));
        assert!(validate_kernel(1 << 21, 512).is_ok());
        assert!(matches!(
            validate_kernel(1 << 22, 512),
            Err(CowError::ChunkSizeTooLarge { .. })
        ));
    }

    #[test]
    fn lvm2_rules_and_message() {
        for ok in [8, 16, 32, 64, 128, 256, 512, 1024] {
            assert!(validate_lvm2(ok).is_ok(), "{ok}");
        }
        for bad in [0, 1, 4, 12, 2048] {
            let err = validate_lvm2(bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                "Chunk size must be a power of 2 in the range 4K to 512K"
            );
        }
    }
}
