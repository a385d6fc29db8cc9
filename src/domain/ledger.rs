//! Licence ledger rules: which counter a person's seat comes from, and what a counter has left.

use serde::Serialize;

use super::licence::PoolPublic;
use super::{Profile, Public};

/// The publics of a subscription that can hold a seat in a school: with a global counter, every
/// `publicCible`; otherwise the publics that have a counter of their own. A public listed in
/// `publicCible` without a counter has no licence to give (RG1 gives counts either globally or
/// per public), so its people are not covered rather than kept waiting forever.
pub fn licensed_publics(public_cible: &[Public], pools: &[PoolPublic]) -> Vec<Public> {
    let global = pools.contains(&PoolPublic::Global);
    Public::ALL
        .into_iter()
        .filter(|public| public_cible.contains(public) && (global || pools.contains(&PoolPublic::Public(*public))))
        .collect()
}

/// The public a person's seat counts in: the first of their publics in the school (pupil, teacher,
/// librarian, other staff) that the subscription licenses. A head who also teaches counts as a teacher.
pub fn seat_public(profiles: &[Profile], licensed: &[Public]) -> Option<Public> {
    Public::ALL
        .into_iter()
        .find(|public| licensed.contains(public) && profiles.iter().any(|profile| profile.public() == *public))
}

/// The counter a seat of `public` is taken from.
pub fn pool_of(public: Public, pools: &[PoolPublic]) -> PoolPublic {
    if pools.contains(&PoolPublic::Global) { PoolPublic::Global } else { PoolPublic::Public(public) }
}

/// One counter of a school: `total` (None = ILLIMITE) against seats in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PoolCount {
    pub total: Option<i64>,
    pub used: i64,
}

impl PoolCount {
    /// Seats that can still be taken: None when unlimited, 0 when over-allocated.
    pub fn free(self) -> Option<i64> {
        self.total.map(|total| (total - self.used).max(0))
    }

    /// A distributor lowered the total below the seats in use: no new seat until back under it.
    pub fn is_over_allocated(self) -> bool {
        self.total.is_some_and(|total| self.used > total)
    }

    /// At least `percent` of a non-empty counter is used (over-allocation is reported on its own).
    pub fn is_nearly_exhausted(self, percent: u8) -> bool {
        match self.total {
            Some(total) if total > 0 && !self.is_over_allocated() => self.used * 100 >= total * i64::from(percent),
            _ => false,
        }
    }

    /// Whether `needed` more seats fit.
    pub fn fits(self, needed: i64) -> bool {
        self.free().is_none_or(|free| needed <= free)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licensed_publics_follow_the_counters() {
        let cible = [Public::Pupil, Public::Teacher, Public::OtherStaff];
        assert_eq!(licensed_publics(&cible, &[PoolPublic::Global]), cible);
        assert_eq!(
            licensed_publics(&cible, &[PoolPublic::Public(Public::Pupil), PoolPublic::Public(Public::Librarian)]),
            [Public::Pupil]
        );
        assert!(licensed_publics(&cible, &[]).is_empty());
    }

    #[test]
    fn a_seat_counts_in_the_first_licensed_public() {
        let head_teacher = [Profile::Management, Profile::Teacher];
        assert_eq!(seat_public(&head_teacher, &Public::ALL), Some(Public::Teacher));
        assert_eq!(seat_public(&head_teacher, &[Public::OtherStaff]), Some(Public::OtherStaff));
        assert_eq!(seat_public(&head_teacher, &[Public::Pupil]), None);
        assert_eq!(seat_public(&[], &Public::ALL), None);
        assert_eq!(pool_of(Public::Teacher, &[PoolPublic::Global]), PoolPublic::Global);
        assert_eq!(pool_of(Public::Teacher, &[]), PoolPublic::Public(Public::Teacher));
    }

    #[test]
    fn counters() {
        let unlimited = PoolCount { total: None, used: 500 };
        assert_eq!(unlimited.free(), None);
        assert!(unlimited.fits(10_000) && !unlimited.is_over_allocated() && !unlimited.is_nearly_exhausted(90));

        let nearly = PoolCount { total: Some(30), used: 27 };
        assert_eq!(nearly.free(), Some(3));
        assert!(nearly.is_nearly_exhausted(90) && !nearly.is_nearly_exhausted(95));
        assert!(nearly.fits(3) && !nearly.fits(4));

        let over = PoolCount { total: Some(20), used: 25 };
        assert_eq!(over.free(), Some(0));
        assert!(over.is_over_allocated() && !over.is_nearly_exhausted(90) && !over.fits(1) && over.fits(0));
        assert!(!PoolCount { total: Some(0), used: 0 }.is_nearly_exhausted(90));
    }
}
