//! The in-memory exception table: origin chunk → COW chunk, stored as runs.
//!
//! Like the kernel's table (which folds up to 255 consecutive exceptions into
//! one `dm_exception`), a run here covers any number of exceptions whose old
//! and new chunks both advance by one, so a sequential copy-out of a large
//! region costs one entry; scattered exceptions cost one entry each.

use std::collections::BTreeMap;

use super::area::Exception;

/// A run of `len` exceptions starting at COW chunk `new_start`, packed into
/// 12 bytes (4-byte aligned) rather than 16: the table's size is mostly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    new_lo: u32,
    new_hi: u32,
    len: u32,
}

impl Run {
    /// A run, or `None` if `len` does not fit (the caller then keeps runs apart).
    fn new(new_start: u64, len: u64) -> Option<Self> {
        Some(Self {
            new_lo: new_start as u32,
            new_hi: (new_start >> 32) as u32,
            len: u32::try_from(len).ok()?,
        })
    }

    fn new_start(&self) -> u64 {
        u64::from(self.new_hi) << 32 | u64::from(self.new_lo)
    }

    fn len(&self) -> u64 {
        u64::from(self.len)
    }
}

/// Lookup table of committed exceptions, keyed by origin chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExceptionMap {
    runs: BTreeMap<u64, Run>,
    len: u64,
}

impl ExceptionMap {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of exceptions.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are no exceptions.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of runs held (the memory cost is per run).
    pub fn run_count(&self) -> usize {
        self.runs.len()
    }

    /// Remove everything.
    pub fn clear(&mut self) {
        self.runs.clear();
        self.len = 0;
    }

    /// The run holding `old_chunk`, as (run start, run).
    fn containing(&self, old_chunk: u64) -> Option<(u64, Run)> {
        let (&start, &run) = self.runs.range(..=old_chunk).next_back()?;
        (old_chunk - start < run.len()).then_some((start, run))
    }

    /// The COW chunk holding origin chunk `old_chunk`, if it was copied out.
    pub fn get(&self, old_chunk: u64) -> Option<u64> {
        self.containing(old_chunk)
            .map(|(start, run)| run.new_start() + (old_chunk - start))
    }

    /// Record an exception; `false` (and no change) if `old_chunk` is already mapped.
    pub fn insert(&mut self, old_chunk: u64, new_chunk: u64) -> bool {
        if self.containing(old_chunk).is_some() {
            return false;
        }
        let before = self
            .runs
            .range(..old_chunk)
            .next_back()
            .map(|(&s, &r)| (s, r))
            .filter(|&(s, r)| {
                old_chunk - s == r.len() && new_chunk.checked_sub(r.new_start()) == Some(r.len())
            });
        let after = old_chunk.checked_add(1).and_then(|next| {
            let run = *self.runs.get(&next)?;
            (new_chunk.checked_add(1) == Some(run.new_start())).then_some((next, run))
        });
        let both = before
            .zip(after)
            .and_then(|((start, run), (next, next_run))| {
                Some((
                    start,
                    next,
                    Run::new(run.new_start(), run.len() + 1 + next_run.len())?,
                ))
            });
        let grown_before = before
            .and_then(|(start, run)| Some((start, Run::new(run.new_start(), run.len() + 1)?)));
        let grown_after =
            after.and_then(|(next, run)| Some((next, Run::new(new_chunk, run.len() + 1)?)));
        // A run longer than u32::MAX cannot be stored; the exception then starts its own.
        if let Some((start, next, run)) = both {
            self.runs.remove(&next);
            self.runs.insert(start, run);
        } else if let Some((start, run)) = grown_before {
            self.runs.insert(start, run);
        } else if let Some((next, run)) = grown_after {
            self.runs.remove(&next);
            self.runs.insert(old_chunk, run);
        } else {
            let single = Run::new(new_chunk, 1).expect("a run of one fits");
            self.runs.insert(old_chunk, single);
        }
        self.len += 1;
        true
    }

    /// Forget the exception for `old_chunk` (after a merge); returns its COW chunk.
    pub fn remove(&mut self, old_chunk: u64) -> Option<u64> {
        let (start, run) = self.containing(old_chunk)?;
        let offset = old_chunk - start;
        let new_start = run.new_start();
        self.runs.remove(&start);
        // Both pieces are shorter than the run they came from, so they fit.
        if offset > 0 {
            if let Some(left) = Run::new(new_start, offset) {
                self.runs.insert(start, left);
            }
        }
        // Only when chunks follow in the run, so `+ 1` cannot overflow.
        if offset + 1 < run.len() {
            if let Some(right) = Run::new(new_start + offset + 1, run.len() - offset - 1) {
                self.runs.insert(old_chunk + 1, right);
            }
        }
        self.len -= 1;
        Some(new_start + offset)
    }

    /// Every exception in origin-chunk order.
    pub fn iter(&self) -> impl Iterator<Item = Exception> + '_ {
        self.runs.iter().flat_map(|(&start, &run)| {
            (0..run.len()).map(move |i| Exception {
                old_chunk: start + i,
                new_chunk: run.new_start() + i,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn consecutive_exceptions_share_one_run() {
        let mut map = ExceptionMap::new();
        for i in 0..1000 {
            assert!(map.insert(100 + i, 2 + i));
        }
        assert_eq!(map.run_count(), 1);
        assert_eq!(map.get(100), Some(2));
        assert_eq!(map.get(1099), Some(1001));
        assert_eq!(map.get(1100), None);
        assert!(!map.insert(500, 7));
        assert_eq!(map.remove(500), Some(402));
        assert_eq!(map.run_count(), 2);
        assert_eq!(map.get(500), None);
        assert_eq!(map.get(501), Some(403));
        assert!(map.insert(500, 402));
        assert_eq!(map.run_count(), 1);
        assert_eq!(map.len(), 1000);
    }

    #[test]
    fn runs_pack_into_twelve_bytes() {
        // The table's footprint (about 31.5 bytes per scattered exception, see benches/cow.rs) depends on it.
        assert_eq!(std::mem::size_of::<Run>(), 12);
        let run = Run::new(0x1_2345_6789, 3).unwrap();
        assert_eq!((run.new_start(), run.len()), (0x1_2345_6789, 3));
        assert!(Run::new(0, u64::from(u32::MAX) + 1).is_none());
    }

    #[test]
    fn extremes_do_not_overflow() {
        let mut map = ExceptionMap::new();
        assert!(map.insert(u64::MAX, u64::MAX));
        assert!(map.insert(u64::MAX - 1, u64::MAX - 1));
        assert_eq!(map.run_count(), 1);
        assert_eq!(map.get(u64::MAX), Some(u64::MAX));
        assert_eq!(map.remove(u64::MAX), Some(u64::MAX));
        assert_eq!(map.get(u64::MAX - 1), Some(u64::MAX - 1));
    }

    proptest! {
        #[test]
        fn behaves_like_a_hash_map(ops in prop::collection::vec((any::<bool>(), 0u64..64, 0u64..64), 0..300)) {
            let mut map = ExceptionMap::new();
            let mut model: HashMap<u64, u64> = HashMap::new();
            for (insert, old, new) in ops {
                if insert {
                    let fresh = !model.contains_key(&old);
                    prop_assert_eq!(map.insert(old, new), fresh);
                    model.entry(old).or_insert(new);
                } else {
                    prop_assert_eq!(map.remove(old), model.remove(&old));
                }
                prop_assert_eq!(map.len(), model.len() as u64);
            }
            for old in 0..64 {
                prop_assert_eq!(map.get(old), model.get(&old).copied());
            }
            let mut listed: Vec<_> = map.iter().map(|e| (e.old_chunk, e.new_chunk)).collect();
            let mut expected: Vec<_> = model.into_iter().collect();
            expected.sort();
            listed.sort();
            prop_assert_eq!(listed, expected);
        }
    }
}
