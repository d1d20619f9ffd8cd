//! lvm2's extent allocator: which free PV areas a new or extended LV gets,
//! linear or striped. The policies are tried in lvm2's order (contiguous,
//! cling, normal, then anywhere when asked for), each over per-PV lists of
//! free areas kept largest first, so the areas picked, how a request is
//! split and how an extension continues come out as lvm2 makes them
//! (`allocation/maximise_cling = 1`, no cling tags, lvm2's defaults).

use thiserror::Error;

use crate::lvm2::model::{Segment, SegmentKind, Vg};
use crate::ops::volumes::free_runs;

/// `--alloc`: how freely extents may be placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Policy {
    /// Each stripe continues right after the previous segment's, or one area.
    Contiguous,
    /// On the PVs the LV already uses.
    Cling,
    /// lvm2's default: largest areas first, parallel stripes on different PVs.
    #[default]
    Normal,
    /// Anywhere, even two stripes on one PV.
    Anywhere,
}

impl Policy {
    /// Parse `--alloc`'s value (`inherit` is the VG's, which is normal).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "contiguous" => Policy::Contiguous,
            "cling" | "cling_by_tags" => Policy::Cling,
            "normal" | "inherit" => Policy::Normal,
            "anywhere" => Policy::Anywhere,
            _ => return None,
        })
    }
}

/// The policy recorded on `lv` (`allocation_policy`), `inherit` when none.
pub fn recorded_policy(lv: &crate::lvm2::model::Lv) -> &str {
    lv.extra
        .iter()
        .find_map(|item| match item {
            crate::lvm2::text::Item::Setting(key, crate::lvm2::text::Value::Str(value))
                if key == "allocation_policy" =>
            {
                Some(value.as_str())
            }
            _ => None,
        })
        .unwrap_or("inherit")
}

/// lv_attr's third character for a recorded policy.
pub fn policy_attr(policy: &str) -> char {
    match policy {
        "contiguous" => 'c',
        "cling" | "cling_by_tags" => 'l',
        "normal" => 'n',
        "anywhere" => 'a',
        _ => 'i',
    }
}

/// A PV the allocation may use, with the extent ranges of it (all when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvChoice {
    /// The PV's key in the VG (`pv0`).
    pub key: String,
    /// (first extent, count) ranges; empty for the whole PV.
    pub ranges: Vec<(u64, u64)>,
}

/// What to allocate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// New extents in all (a multiple of `stripes`).
    pub extents: u64,
    /// Parallel areas (1 for linear).
    pub stripes: usize,
    /// Stripe size in sectors (for more than one stripe).
    pub stripe_size: Option<u64>,
    /// The policy.
    pub policy: Policy,
    /// The PVs allowed, in the order given; `None` for every PV of the VG.
    pub pvs: Option<Vec<PvChoice>>,
}

impl Request {
    /// A linear request of `extents` anywhere in the VG, normal policy.
    pub fn linear(extents: u64) -> Self {
        Request {
            extents,
            stripes: 1,
            stripe_size: None,
            policy: Policy::Normal,
            pvs: None,
        }
    }
}

/// Why an allocation failed, in lvm2's words.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AllocError {
    /// The allowed PVs hold too few free extents in all.
    #[error("Insufficient free space: {needed} extents needed, but only {free} available")]
    NoSpace {
        /// Extents asked for.
        needed: u64,
        /// Free extents on the allowed PVs.
        free: u64,
    },
    /// Enough free extents, but not in areas the policy may use.
    #[error(
        "Insufficient suitable {contiguous}allocatable extents for logical volume {lv}: {more} more required"
    )]
    Unsuitable {
        /// `contiguous ` when the policy cannot split, as lvm2 words it.
        contiguous: &'static str,
        /// The LV.
        lv: String,
        /// Extents still missing.
        more: u64,
    },
}

#[derive(Debug, Clone)]
struct Area {
    start: u64,
    count: u64,
    unreserved: u64,
}

/// One PV's free areas: `order` holds indexes into `areas`, largest first.
#[derive(Debug)]
struct PvMap {
    key: String,
    areas: Vec<Area>,
    order: Vec<usize>,
}

impl PvMap {
    /// Insert area `id` before the first area smaller than it (by its
    /// unreserved extents when `reduced`): equal areas keep their order.
    fn insert(&mut self, id: usize, reduced: bool) -> usize {
        let area = &self.areas[id];
        let key = if reduced { area.unreserved } else { area.count };
        let at = self
            .order
            .iter()
            .position(|&other| key > self.areas[other].count)
            .unwrap_or(self.order.len());
        self.order.insert(at, id);
        at
    }

    fn remove(&mut self, id: usize) {
        self.order.retain(|&other| other != id);
    }

    fn size(&self) -> u64 {
        self.order.iter().map(|&id| self.areas[id].count).sum()
    }
}

/// A chosen area: (map, area id) and the extents to take from it.
#[derive(Debug, Clone, Copy)]
struct Slot {
    map: usize,
    area: usize,
    used: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    area_count_matches: bool,
    contiguous_to_lvseg: bool,
    cling_to_lvseg: bool,
    cling_to_alloced: bool,
    positional: bool,
    can_split: bool,
}

enum Use {
    Preferred,
    NextPv,
    NextArea,
    Take,
}

/// The LV being extended: its areas per segment, in LE order.
struct Previous {
    /// Per segment: (PV key, first extent, extents per area) per area.
    segments: Vec<Vec<(String, u64, u64)>>,
}

impl Previous {
    fn last(&self) -> &[(String, u64, u64)] {
        self.segments.last().map(Vec::as_slice).unwrap_or(&[])
    }
}

struct Allocator<'a> {
    maps: Vec<PvMap>,
    request: &'a Request,
    previous: Option<Previous>,
    /// Per stripe, the (map, first extent, extents) taken in each round.
    alloced: Vec<Vec<(usize, u64, u64)>>,
    allocated: u64,
    flags: Flags,
    policy: Policy,
    positional: Vec<Option<Slot>>,
    sorted: Vec<Slot>,
}

/// Free (first extent, count) runs of each PV of `vg`, in PV order (every
/// PV listed, a full one with no runs): [`free_runs`] grouped by PV.
fn free_areas(vg: &Vg) -> Vec<(String, Vec<(u64, u64)>)> {
    let runs = free_runs(vg);
    vg.pvs
        .iter()
        .map(|pv| {
            let own = runs
                .iter()
                .filter(|(key, _, _)| key == &pv.key)
                .map(|&(_, start, count)| (start, count))
                .collect();
            (pv.key.clone(), own)
        })
        .collect()
}

/// The free areas each allowed PV offers, as lvm2 builds its PV maps: PVs in
/// the order given (a PV named twice is one map), non-allocatable PVs left out.
fn build_maps(vg: &Vg, pvs: Option<&[PvChoice]>) -> Vec<PvMap> {
    let free = free_areas(vg);
    let all: Vec<PvChoice>;
    let choices = match pvs {
        Some(list) => list,
        None => {
            all = vg
                .pvs
                .iter()
                .map(|pv| PvChoice {
                    key: pv.key.clone(),
                    ranges: vec![],
                })
                .collect();
            &all
        }
    };
    let mut maps: Vec<PvMap> = Vec::new();
    for choice in choices {
        let Some(pv) = vg.pv(&choice.key) else {
            continue;
        };
        if !pv.status.iter().any(|s| s == "ALLOCATABLE") {
            continue;
        }
        let index = match maps.iter().position(|m| m.key == choice.key) {
            Some(index) => index,
            None => {
                maps.push(PvMap {
                    key: choice.key.clone(),
                    areas: vec![],
                    order: vec![],
                });
                maps.len() - 1
            }
        };
        let runs = free
            .iter()
            .find(|(key, _)| key == &choice.key)
            .map(|(_, runs)| runs.as_slice())
            .unwrap_or(&[]);
        let whole = [(0, pv.pe_count)];
        let ranges: &[(u64, u64)] = if choice.ranges.is_empty() {
            &whole
        } else {
            &choice.ranges
        };
        let map = &mut maps[index];
        for &(first, count) in ranges {
            let end = (first + count).min(pv.pe_count);
            for &(start, len) in runs {
                let from = start.max(first);
                let to = (start + len).min(end);
                if from < to {
                    map.areas.push(Area {
                        start: from,
                        count: to - from,
                        unreserved: to - from,
                    });
                    let id = map.areas.len() - 1;
                    map.insert(id, false);
                }
            }
        }
    }
    maps
}

/// Free extents the allowed PVs offer in all.
pub fn free_on(vg: &Vg, pvs: Option<&[PvChoice]>) -> u64 {
    build_maps(vg, pvs).iter().map(PvMap::size).sum()
}

impl Allocator<'_> {
    fn stripes(&self) -> usize {
        self.request.stripes.max(1)
    }

    fn init_flags(&mut self, policy: Policy) {
        let mut flags = Flags::default();
        let matches = self
            .previous
            .as_ref()
            .is_some_and(|p| p.last().len() == self.stripes());
        if matches {
            flags.area_count_matches = true;
            match policy {
                Policy::Contiguous => {
                    flags.contiguous_to_lvseg = true;
                    flags.positional = true;
                }
                Policy::Cling => {
                    flags.cling_to_lvseg = true;
                    flags.positional = true;
                }
                _ => {}
            }
        } else if policy == Policy::Cling {
            flags.cling_to_alloced = true;
            flags.positional = true;
        }
        if policy == Policy::Normal && self.allocated != self.request.extents {
            flags.cling_to_alloced = true;
        }
        flags.can_split = self.request.policy != Policy::Contiguous;
        self.flags = flags;
        self.policy = policy;
    }

    /// Reserve `slot` in positional slot `s` (whole area, as lvm2 does for
    /// contiguous and cling matches).
    fn reserve_positional(&mut self, s: usize, map: usize, area: usize) {
        let used = self.maps[map].areas[area].count;
        self.positional[s] = Some(Slot { map, area, used });
    }

    /// Whether area `area` of `map` meets `condition` for some area of the
    /// previous LV segments `segments`; reserves the positional slot it fits.
    fn matches_previous(
        &mut self,
        map: usize,
        area: usize,
        whole_lv: bool,
        condition: impl Fn(&(String, u64, u64), &str, &Area) -> bool,
    ) -> bool {
        let Some(previous) = &self.previous else {
            return false;
        };
        let segments: Vec<Vec<(String, u64, u64)>> = if whole_lv {
            previous.segments.clone()
        } else {
            vec![previous.last().to_vec()]
        };
        let key = self.maps[map].key.clone();
        let candidate = self.maps[map].areas[area].clone();
        for segment in &segments {
            for (s, prev) in segment.iter().enumerate() {
                if self.flags.positional && self.positional.get(s).is_some_and(Option::is_some) {
                    continue;
                }
                if !condition(prev, &key, &candidate) {
                    continue;
                }
                if self.flags.positional && s >= self.positional.len() {
                    continue;
                }
                if self.flags.positional {
                    self.reserve_positional(s, map, area);
                }
                return true;
            }
        }
        false
    }

    fn cling_to_alloced(&mut self, map: usize, area: usize) -> bool {
        for s in 0..self.stripes() {
            if self.flags.positional && self.positional.get(s).is_some_and(Option::is_some) {
                continue;
            }
            if self.alloced[s].iter().any(|&(m, _, _)| m == map) {
                if self.flags.positional && s < self.positional.len() {
                    self.reserve_positional(s, map, area);
                }
                return true;
            }
        }
        false
    }

    fn check(&mut self, map: usize, area: usize, still: u64, found_one: bool) -> Use {
        let unreserved = self.maps[map].areas[area].unreserved;
        if unreserved == 0 {
            return Use::NextArea;
        }
        let flags = self.flags;
        if flags.contiguous_to_lvseg || flags.cling_to_lvseg || flags.cling_to_alloced {
            // The first of contiguous, cling to the LV, cling to this
            // allocation that the area meets makes it a match.
            let contiguous = (flags.contiguous_to_lvseg || flags.area_count_matches)
                && self.matches_previous(map, area, false, |prev, key, candidate| {
                    prev.0 == key && prev.1 + prev.2 == candidate.start
                });
            if !contiguous {
                if flags.contiguous_to_lvseg {
                    return Use::NextArea;
                }
                let clings = ((flags.cling_to_lvseg || flags.area_count_matches)
                    && self.matches_previous(map, area, true, |prev, key, _| prev.0 == key))
                    || (flags.cling_to_alloced && self.cling_to_alloced(map, area));
                if !clings {
                    return Use::NextPv;
                }
            }
        } else {
            let anywhere = self.policy == Policy::Anywhere;
            if unreserved * (self.stripes() as u64) < still
                && (!flags.can_split || (found_one && !anywhere))
            {
                return Use::NextPv;
            }
        }
        if flags.positional {
            Use::Preferred
        } else {
            Use::Take
        }
    }

    /// Take what area `area` of `map` gives towards `max` extents; returns
    /// where the area now sits in its map's order (it moves when split).
    fn required(&mut self, map: usize, area: usize, max: u64, at: usize) -> (u64, usize) {
        let mut required = max / self.stripes() as u64;
        let pv = &mut self.maps[map];
        let unreserved = pv.areas[area].unreserved;
        if required >= unreserved {
            required = unreserved;
            pv.areas[area].unreserved = 0;
            (required, at)
        } else {
            pv.areas[area].unreserved -= required;
            pv.remove(area);
            let at = pv.insert(area, true);
            (required, at)
        }
    }

    fn reset_unreserved(&mut self) {
        for map in &mut self.maps {
            let changed: Vec<usize> = map
                .order
                .iter()
                .copied()
                .filter(|&id| map.areas[id].unreserved != map.areas[id].count)
                .collect();
            for id in changed {
                map.areas[id].unreserved = map.areas[id].count;
                map.remove(id);
                map.insert(id, true);
            }
        }
    }

    fn consume(&mut self, map: usize, area: usize, take: u64) {
        let pv = &mut self.maps[map];
        pv.remove(area);
        let a = &mut pv.areas[area];
        if take < a.count {
            a.start += take;
            a.count -= take;
            a.unreserved = a.count;
            pv.insert(area, false);
        } else {
            a.count = 0;
            a.unreserved = 0;
        }
    }

    /// One round: pick one area per stripe and take the same extents from each.
    fn find_some(&mut self, max: u64) {
        let stripes = self.stripes();
        self.reset_unreserved();
        let positional = if !self.flags.positional {
            0
        } else if self.flags.contiguous_to_lvseg || self.flags.cling_to_lvseg {
            self.previous.as_ref().map_or(0, |p| p.last().len())
        } else {
            stripes
        };
        self.positional = vec![None; positional];
        self.sorted.clear();
        let mut preferred = 0;
        loop {
            let last_ix = self.sorted.len();
            for map in 0..self.maps.len() {
                if self.maps[map].order.is_empty() {
                    continue;
                }
                let mut found_one = false;
                let mut at = 0;
                'areas: while at < self.maps[map].order.len() {
                    let area = self.maps[map].order[at];
                    match self.check(map, area, max, found_one) {
                        Use::Preferred => {
                            preferred += 1;
                            break 'areas;
                        }
                        Use::NextPv => break 'areas,
                        Use::NextArea => at += 1,
                        Use::Take => {
                            if !found_one || self.policy == Policy::Anywhere {
                                self.sorted.push(Slot { map, area, used: 0 });
                                found_one = true;
                            }
                            let (used, moved) = self.required(map, area, max, at);
                            *self.sorted.last_mut().expect("pushed above") =
                                Slot { map, area, used };
                            at = moved + 1;
                        }
                    }
                }
                let ix = self.sorted.len();
                if (self.policy == Policy::Anywhere && ix + positional >= stripes)
                    || (preferred == positional && positional == stripes)
                {
                    break;
                }
            }
            let ix = self.sorted.len();
            if !(self.policy == Policy::Anywhere && last_ix != ix && ix < stripes) {
                break;
            }
        }
        let ix = self.sorted.len();
        if preferred < positional && !self.flags.cling_to_alloced && ix == 0 {
            return;
        }
        if ix + preferred < stripes {
            return;
        }
        // Biggest first; a stable sort, as glibc's qsort is on so few areas.
        self.sorted.sort_by_key(|slot| std::cmp::Reverse(slot.used));
        let mut next = 0;
        let mut chosen: Vec<Slot> = Vec::with_capacity(stripes);
        for s in 0..stripes {
            match self.positional.get(s).copied().flatten() {
                Some(slot) => chosen.push(slot),
                None => {
                    let Some(slot) = self.sorted.get(next).copied() else {
                        return;
                    };
                    next += 1;
                    chosen.push(slot);
                }
            }
        }
        let mut len = max / stripes as u64;
        for slot in &chosen {
            len = len.min(slot.used);
        }
        if len == 0 {
            return;
        }
        for (s, slot) in chosen.iter().enumerate() {
            let start = self.maps[slot.map].areas[slot.area].start;
            self.alloced[s].push((slot.map, start, len));
            self.consume(slot.map, slot.area, len);
        }
        self.allocated += len * stripes as u64;
    }

    fn one_policy(&mut self) {
        loop {
            let max = self.request.extents - self.allocated;
            let before = self.allocated;
            self.find_some(max);
            if before == self.allocated {
                if self.policy == Policy::Cling
                    && self.flags.cling_to_lvseg
                    && self.flags.positional
                {
                    self.flags.positional = false;
                } else if self.policy == Policy::Normal && self.flags.cling_to_alloced {
                    self.flags.cling_to_alloced = false;
                } else {
                    break;
                }
            } else if self.policy == Policy::Normal && !self.flags.cling_to_alloced {
                self.flags.cling_to_alloced = true;
            }
            if self.policy == Policy::Contiguous
                || self.allocated == self.request.extents
                || !self.flags.can_split
            {
                break;
            }
        }
    }
}

/// The PV areas of `segment`, per area: (PV key, first extent, extents).
fn segment_areas(segment: &Segment) -> Option<Vec<(String, u64, u64)>> {
    match &segment.kind {
        SegmentKind::Striped { stripes, .. } => {
            let per = segment.extent_count / stripes.len().max(1) as u64;
            Some(
                stripes
                    .iter()
                    .map(|(pv, pe)| (pv.clone(), *pe, per))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// Allocate `request` in `vg` for LV `lv` (named for messages): a new LV
/// when `lv` is not in `vg`, else an extension after its last segment.
/// Returns the new segments, starting at the LV's current end, as lvm2
/// records them (adjacent pieces not yet merged: see [`merge_segments`]).
pub fn allocate(vg: &Vg, lv: &str, request: &Request) -> Result<Vec<Segment>, AllocError> {
    let existing = vg.lv(lv);
    let first_le: u64 = existing
        .map(|l| l.segments.iter().map(|s| s.extent_count).sum())
        .unwrap_or(0);
    let previous = existing.and_then(|l| {
        let segments: Option<Vec<_>> = l.segments.iter().map(segment_areas).collect();
        segments
            .filter(|s| !s.is_empty())
            .map(|segments| Previous { segments })
    });
    let maps = build_maps(vg, request.pvs.as_deref());
    let stripes = request.stripes.max(1);
    let mut state = Allocator {
        maps,
        request,
        previous,
        alloced: vec![Vec::new(); stripes],
        allocated: 0,
        flags: Flags::default(),
        policy: Policy::Contiguous,
        positional: vec![],
        sorted: vec![],
    };
    for policy in [
        Policy::Contiguous,
        Policy::Cling,
        Policy::Normal,
        Policy::Anywhere,
    ] {
        if policy > request.policy {
            break;
        }
        let free: u64 = state.maps.iter().map(PvMap::size).sum();
        let needed = request.extents - state.allocated;
        if needed > free {
            return Err(AllocError::NoSpace { needed, free });
        }
        state.init_flags(policy);
        state.one_policy();
        if state.allocated == request.extents {
            break;
        }
    }
    if state.allocated != request.extents {
        return Err(AllocError::Unsuitable {
            contiguous: if request.policy == Policy::Contiguous {
                "contiguous "
            } else {
                ""
            },
            lv: lv.to_string(),
            more: request.extents - state.allocated,
        });
    }
    let mut segments = Vec::new();
    let mut le = first_le;
    for round in 0..state.alloced[0].len() {
        let len = state.alloced[0][round].2;
        let areas = (0..stripes)
            .map(|s| {
                let (map, pe, _) = state.alloced[s][round];
                (state.maps[map].key.clone(), pe)
            })
            .collect();
        segments.push(Segment {
            start_extent: le,
            extent_count: len * stripes as u64,
            kind: SegmentKind::Striped {
                stripe_size: if stripes > 1 {
                    request.stripe_size
                } else {
                    None
                },
                stripes: areas,
            },
            extra: vec![],
        });
        le += len * stripes as u64;
    }
    Ok(segments)
}

/// Join segments that continue each other, as lvm2's `lv_merge_segments`
/// does: same stripe count and size, each stripe's area right after the
/// previous one's on the same PV.
pub fn merge_segments(segments: Vec<Segment>) -> Vec<Segment> {
    let mut merged: Vec<Segment> = Vec::with_capacity(segments.len());
    for seg in segments {
        if let Some(last) = merged.last_mut() {
            if let (
                SegmentKind::Striped {
                    stripe_size: size_a,
                    stripes: a,
                },
                SegmentKind::Striped {
                    stripe_size: size_b,
                    stripes: b,
                },
            ) = (&last.kind, &seg.kind)
            {
                let per = last.extent_count / a.len().max(1) as u64;
                if a.len() == b.len()
                    && size_a == size_b
                    && last.start_extent + last.extent_count == seg.start_extent
                    && last.extra == seg.extra
                    && a.iter().zip(b).all(|(x, y)| x.0 == y.0 && x.1 + per == y.1)
                {
                    last.extent_count += seg.extent_count;
                    continue;
                }
            }
        }
        merged.push(seg);
    }
    merged
}

#[cfg(test)]
mod tests;
