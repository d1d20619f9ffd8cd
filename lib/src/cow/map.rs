//! The in-memory exception table: origin chunk → COW chunk, stored as runs.
//!
//! Like the kernel's table (which folds up to 255 consecutive exceptions into
//! one `dm_exception`), a run here covers any number of exceptions whose old
//! and new chunks both advance by one, so a sequential copy-out of a large
//! region costs one entry; scattered exceptions cost one entry each.

use std::collections::BTreeMap;

use super::area::Exception;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    new_start: u64,
    len: u64,
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
        (old_chunk - start < run.len).then_some((start, run))
    }

    /// The COW chunk holding origin chunk `old_chunk`, if it was copied out.
    pub fn get(&self, old_chunk: u64) -> Option<u64> {
        self.containing(old_chunk)
            .map(|(start, run)| run.new_start + (old_chunk - start))
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
                old_chunk - s == r.len && new_chunk.checked_sub(r.new_start) == Some(r.len)
            });
        let after = old_chunk.checked_add(1).and_then(|next| {
            let run = *self.runs.get(&next)?;
            (new_chunk.checked_add(1) == Some(run.new_start)).then_some((next, run))
        });
        match (before, after) {
            (Some((start, run)), Some((next, next_run))) => {
                self.runs.remove(&next);
                self.runs.insert(
                    start,
                    Run {
                        new_start: run.new_start,
                        len: run.len + 1 + next_run.len,
                    },
                );
            }
            (Some((start, run)), None) => {
                self.runs.insert(
                    start,
                    Run {
                        new_start: run.new_start,
                        len: run.len + 1,
                    },
                );
            }
            (None, Some((next, next_run))) => {
                self.runs.remove(&next);
                self.runs.insert(
                    old_chunk,
                    Run {
                        new_start: new_chunk,
                        len: next_run.len + 1,
                    },
                );
            }
            (None, None) => {
                self.runs.insert(
                    old_chunk,
                    Run {
                        new_start: new_chunk,
                        len: 1,
                    },
                );
            }
        }
        self.len += 1;
        true
    }

    /// Forget the exception for `old_chunk` (after a merge); returns its COW chunk.
    pub fn remove(&mut self, old_chunk: u64) -> Option<u64> {
        let (start, run) = self.containing(old_chunk)?;
        let offset = old_chunk - start;
        self.runs.remove(&start);
        if offset > 0 {
            self.runs.insert(
                start,
                Run {
                    new_start: run.new_start,
                    len: offset,
                },
            );
        }
        if offset + 1 < run.len {
            self.runs.insert(
                old_chunk + 1,
                Run {
                    new_start: run.new_start + offset + 1,
                    len: run.len - offset - 1,
                },
            );
        }
        self.len -= 1;
        Some(run.new_start + offset)
    }

    /// Every exception in origin-chunk order.
    pub fn iter(&self) -> impl Iterator<Item = Exception> + '_ {
        self.runs.iter().flat_map(|(&start, &run)| {
            (0..run.len).map(move |i| Exception {
                old_chunk: start + i,
                new_chunk: run.new_start + i,
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
