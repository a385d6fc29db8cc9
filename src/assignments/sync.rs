//! Brings the seats of one subscription in one school in line with its live assignments and the
//! directory. Every ledger change (assign, withdraw, transfer, undo, feed reconcile) records its
//! decision first and then calls [`sync`], so there is one place where seats move.
//!
//! Order of work, which is also the priority between people:
//! 1. seats of people no longer covered are released (the counter gets them back);
//! 2. people the change itself must seat ("strict": a manager's new assignment, an undone
//!    withdrawal) get a seat each, or the whole change is refused: no licence left;
//! 3. people already waiting get freed seats, first come first served;
//! 4. people who joined a live collection get a seat while seats remain, else they wait.
//!
//! Callers hold the ledger lock (`store::audit::lock_chain` inside a write transaction) and load
//! the subscription after taking it, so the counters read here are the current ones.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::json;

use super::author::Author;
use super::error::LedgerError;
use crate::domain::Public;
use crate::domain::assignment::AssignmentTarget;
use crate::domain::audit::{AuditEvent, AuditKind};
use crate::domain::ledger::{PoolCount, pool_of, seat_public};
use crate::domain::licence::PoolPublic;
use crate::domain::{Uai, subscription::AssignmentType};
use crate::store::assignments::{self as ledger, ACTIVE, HeldSeat, NewSeat, SubscriptionFacts, WAITING};
use crate::store::{AnyConnection, audit};

/// People a change must seat, or be refused.
#[derive(Clone, Debug, Default)]
pub(crate) struct Strict {
    /// Everyone these assignments cover.
    pub assignments: HashSet<i64>,
    /// These people, whichever assignment covers them.
    pub persons: HashSet<i64>,
}

impl Strict {
    pub fn assignments(ids: impl IntoIterator<Item = i64>) -> Self {
        Self { assignments: ids.into_iter().collect(), persons: HashSet::new() }
    }
}

/// Seats that moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeatChanges {
    /// Seats taken, waiting people promoted included.
    pub granted: usize,
    pub released: usize,
    /// People put on the waiting list.
    pub waiting: usize,
}

impl std::ops::AddAssign for SeatChanges {
    fn add_assign(&mut self, other: Self) {
        self.granted += other.granted;
        self.released += other.released;
        self.waiting += other.waiting;
    }
}

/// Why a seat was given up, as recorded on the seat (console) and in the audit event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Release {
    /// A manager withdrew the person or the assignment; the text says which operation.
    Withdrawn(&'static str),
    LeftSchool,
    LeftTarget(AssignmentTarget),
    PublicChanged,
    /// The subscription takes no new seat: waiting is pointless.
    Closed,
}

impl Release {
    fn code(&self) -> &'static str {
        match self {
            Release::Withdrawn(_) => "withdrawn",
            Release::LeftSchool => "left_school",
            Release::LeftTarget(_) => "left_target",
            Release::PublicChanged => "public_changed",
            Release::Closed => "subscription_closed",
        }
    }

    fn text(&self) -> String {
        match self {
            Release::Withdrawn(text) => (*text).to_owned(),
            Release::LeftSchool => "a quitté l'établissement".into(),
            Release::LeftTarget(target) => match target {
                AssignmentTarget::Division(code) => format!("a quitté la classe {code}"),
                AssignmentTarget::Group(code) => format!("a quitté le groupe {code}"),
                AssignmentTarget::Divisions(codes) => format!("a quitté les classes {}", codes.join(", ")),
                AssignmentTarget::Mef(code) => format!("a quitté le niveau {code}"),
                AssignmentTarget::SubjectTeachers(code) => format!("n'enseigne plus la matière {code}"),
                AssignmentTarget::Profile(profile) => format!("n'a plus le profil {profile}"),
                AssignmentTarget::Person(_) => "ne fait plus partie de la cible".into(),
            },
            Release::PublicChanged => "n'appartient plus à un public de l'abonnement".into(),
            Release::Closed => "l'abonnement n'accepte plus d'affectation".into(),
        }
    }
}

/// A person some live assignment covers.
struct Wanted {
    gar_id: String,
    public: Public,
    /// Covering assignments, oldest first.
    covering: Vec<i64>,
    strict: bool,
    /// The strict assignment covering them, which their new seat is recorded under.
    strict_assignment: Option<i64>,
}

impl Wanted {
    fn assignment(&self) -> i64 {
        self.strict_assignment.or(self.covering.first().copied()).unwrap_or_default()
    }
}

/// Syncs one INDIV subscription in one school of ENT project `ent_id`. `withdrawn` is the reason
/// recorded on seats the change itself withdraws.
pub(crate) fn sync(
    conn: &mut AnyConnection,
    author: &Author<'_>,
    ent_id: &str,
    sub: &SubscriptionFacts,
    uai: &Uai,
    strict: &Strict,
    withdrawn: &'static str,
) -> Result<SeatChanges, LedgerError> {
    if sub.assignment_type != AssignmentType::Individual {
        return Ok(SeatChanges::default());
    }
    let mut run = Run {
        conn,
        author,
        ent_id,
        sub,
        uai,
        pool_publics: sub.pool_publics(),
        counts: sub.pools.iter().copied().collect(),
        changes: SeatChanges::default(),
    };
    let live = ledger::live_assignments(run.conn, sub.id, uai)?;
    let excluded = ledger::exclusions(run.conn, sub.id, uai)?;
    let wanted = run.wanted(&live, &excluded, strict)?;
    let seats = ledger::held_seats(run.conn, sub.id, uai)?;

    // 1. Release what nobody covers any more; keep (and re-attach) the rest.
    let live_targets: HashMap<i64, &AssignmentTarget> = live.iter().map(|a| (a.id, &a.target)).collect();
    let mut kept: HashMap<i64, HeldSeat> = HashMap::new();
    let mut gone: Vec<HeldSeat> = Vec::new();
    let mut moves: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for seat in seats {
        match wanted.get(&seat.person_id) {
            Some(w) if run.pool(w.public) == run.pool(seat.public) => {
                if !w.covering.contains(&seat.assignment_id) {
                    moves.entry(w.assignment()).or_default().push(seat.id);
                }
                kept.insert(seat.person_id, seat);
            }
            _ => gone.push(seat),
        }
    }
    for (assignment_id, ids) in &moves {
        ledger::move_seats(run.conn, ids, *assignment_id)?;
    }
    let reasons = run.release_reasons(&gone, &wanted, &live_targets, &excluded, withdrawn)?;
    run.release(gone.into_iter().zip(reasons).collect())?;

    let open = sub.term.takes_new_seats(author.now);
    let strict_people: Vec<(i64, &Wanted)> = wanted
        .iter()
        .filter(|(person, w)| w.strict && kept.get(person).is_none_or(|seat| !seat.active))
        .map(|(person, w)| (*person, w))
        .collect();
    if !strict_people.is_empty() && !open {
        return Err(LedgerError::Closed(sub.id));
    }

    // 2. Strict: everyone or nobody.
    let mut by_pool: BTreeMap<PoolPublic, Vec<(i64, &Wanted)>> = BTreeMap::new();
    for (person, w) in &strict_people {
        by_pool.entry(run.pool(w.public)).or_default().push((*person, *w));
    }
    for (pool, people) in &by_pool {
        let count = run.count(*pool);
        let needed = people.len() as i64;
        if !count.fits(needed) || !ledger::take_seats(run.conn, sub.id, uai, *pool, needed)? {
            return Err(LedgerError::NoLicenceLeft { pool: *pool, needed, free: count.free().unwrap_or(needed) });
        }
        run.counts.insert(*pool, PoolCount { used: count.used + needed, ..count });
    }
    let mut seated: HashSet<i64> = HashSet::new();
    let (promote, fresh): (Vec<_>, Vec<_>) = strict_people.iter().partition(|(person, _)| kept.contains_key(person));
    let promote: Vec<&HeldSeat> = promote.iter().filter_map(|(person, _)| kept.get(person)).collect();
    run.activate(&promote)?;
    run.insert(&fresh, ACTIVE)?;
    seated.extend(strict_people.iter().map(|(person, _)| *person));

    if !open {
        let waiting: Vec<(HeldSeat, Release)> =
            kept.values().filter(|seat| !seat.active).map(|seat| (seat.clone(), Release::Closed)).collect();
        run.release(waiting)?;
        return Ok(run.changes);
    }

    // 3. Waiting people, first come first served (seat ids grow with time).
    let mut waiting: Vec<&HeldSeat> =
        kept.values().filter(|seat| !seat.active && !seated.contains(&seat.person_id)).collect();
    waiting.sort_by_key(|seat| seat.id);
    let mut queues: BTreeMap<PoolPublic, Vec<&HeldSeat>> = BTreeMap::new();
    for seat in waiting {
        queues.entry(run.pool(seat.public)).or_default().push(seat);
    }
    for (pool, queue) in queues {
        let admitted = run.admit(pool, queue.len())?;
        run.activate(&queue[..admitted])?;
    }

    // 4. Newcomers of live collections, by person id: seats while they last, then the waiting list.
    let mut newcomers: BTreeMap<PoolPublic, Vec<(i64, &Wanted)>> = BTreeMap::new();
    for (person, w) in &wanted {
        if !kept.contains_key(person) && !seated.contains(person) {
            newcomers.entry(run.pool(w.public)).or_default().push((*person, w));
        }
    }
    for (pool, people) in newcomers {
        let admitted = run.admit(pool, people.len())?;
        let (now, later) = people.split_at(admitted);
        run.insert(now, ACTIVE)?;
        run.insert(later, WAITING)?;
    }
    Ok(run.changes)
}

/// State of one sync: the connection, what it syncs, the counters as they move.
struct Run<'r, 'a> {
    conn: &'r mut AnyConnection,
    author: &'r Author<'a>,
    ent_id: &'r str,
    sub: &'r SubscriptionFacts,
    uai: &'r Uai,
    pool_publics: Vec<PoolPublic>,
    counts: BTreeMap<PoolPublic, PoolCount>,
    changes: SeatChanges,
}

impl Run<'_, '_> {
    fn pool(&self, public: Public) -> PoolPublic {
        pool_of(public, &self.pool_publics)
    }

    /// A missing counter gives nothing (licensed publics always have one).
    fn count(&self, pool: PoolPublic) -> PoolCount {
        self.counts.get(&pool).copied().unwrap_or(PoolCount { total: Some(0), used: 0 })
    }

    /// People the live assignments cover, with the public their seat counts in.
    fn wanted(
        &mut self,
        live: &[ledger::StoredAssignment],
        excluded: &HashSet<(i64, i64)>,
        strict: &Strict,
    ) -> Result<BTreeMap<i64, Wanted>, LedgerError> {
        let licensed = self.sub.licensed_publics();
        let mut wanted: BTreeMap<i64, Wanted> = BTreeMap::new();
        for assignment in live {
            // A class gone from the directory covers nobody; its assignment stays, live, for its return.
            let members = ledger::members(self.conn, self.uai, &assignment.target)?.unwrap_or_default();
            for member in members {
                if excluded.contains(&(assignment.id, member.person_id)) {
                    continue;
                }
                let Some(public) = seat_public(&member.profiles, &licensed) else { continue };
                let w = wanted.entry(member.person_id).or_insert_with(|| Wanted {
                    gar_id: member.gar_id,
                    public,
                    covering: Vec::new(),
                    strict: strict.persons.contains(&member.person_id),
                    strict_assignment: None,
                });
                w.covering.push(assignment.id);
                if strict.assignments.contains(&assignment.id) {
                    w.strict = true;
                    w.strict_assignment.get_or_insert(assignment.id);
                }
            }
        }
        Ok(wanted)
    }

    /// Why each seat in `gone` is given up.
    fn release_reasons(
        &mut self,
        gone: &[HeldSeat],
        wanted: &BTreeMap<i64, Wanted>,
        live: &HashMap<i64, &AssignmentTarget>,
        excluded: &HashSet<(i64, i64)>,
        withdrawn: &'static str,
    ) -> Result<Vec<Release>, LedgerError> {
        let ids: Vec<i64> = gone.iter().map(|seat| seat.person_id).collect();
        let present: HashMap<i64, Vec<crate::domain::Profile>> =
            ledger::profiled(self.conn, self.uai, &ids)?.into_iter().map(|m| (m.person_id, m.profiles)).collect();
        let licensed = self.sub.licensed_publics();
        Ok(gone
            .iter()
            .map(|seat| {
                let target = live.get(&seat.assignment_id);
                if target.is_none() || excluded.contains(&(seat.assignment_id, seat.person_id)) {
                    Release::Withdrawn(withdrawn)
                } else if !present.contains_key(&seat.person_id) {
                    Release::LeftSchool
                } else if wanted.contains_key(&seat.person_id)
                    || present.get(&seat.person_id).and_then(|p| seat_public(p, &licensed)).is_none()
                {
                    Release::PublicChanged
                } else {
                    Release::LeftTarget(target.map(|t| (*t).clone()).unwrap_or(AssignmentTarget::Person(String::new())))
                }
            })
            .collect())
    }

    /// How many of `waiting` more seats a counter can give now, taken at once.
    fn admit(&mut self, pool: PoolPublic, waiting: usize) -> Result<usize, LedgerError> {
        let count = self.count(pool);
        let admitted = count.free().map_or(waiting, |free| waiting.min(usize::try_from(free).unwrap_or(0)));
        if admitted > 0 {
            let n = admitted as i64;
            if !ledger::take_seats(self.conn, self.sub.id, self.uai, pool, n)? {
                return Ok(0);
            }
            self.counts.insert(pool, PoolCount { used: count.used + n, ..count });
        }
        Ok(admitted)
    }

    fn release(&mut self, seats: Vec<(HeldSeat, Release)>) -> Result<(), LedgerError> {
        let mut returned: BTreeMap<PoolPublic, i64> = BTreeMap::new();
        let mut by_text: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (seat, reason) in &seats {
            if seat.active {
                *returned.entry(self.pool(seat.public)).or_default() += 1;
            }
            by_text.entry(reason.text()).or_default().push(seat.id);
        }
        for (pool, n) in returned {
            ledger::return_seats(self.conn, self.sub.id, self.uai, pool, n)?;
            let count = self.count(pool);
            self.counts.insert(pool, PoolCount { used: count.used - n, ..count });
        }
        for (text, ids) in &by_text {
            ledger::release_seats(self.conn, ids, text, self.author.now)?;
        }
        for (seat, reason) in seats {
            let details = json!({
                "subscription": self.sub.id,
                "assignment": seat.assignment_id,
                "public": seat.public.code(),
                "was": if seat.active { ACTIVE } else { WAITING },
                "reason": reason.code(),
            });
            self.audit(AuditKind::SeatReleased, &seat.gar_id, details)?;
            self.changes.released += 1;
        }
        Ok(())
    }

    fn activate(&mut self, seats: &[&HeldSeat]) -> Result<(), LedgerError> {
        let ids: Vec<i64> = seats.iter().map(|seat| seat.id).collect();
        ledger::activate_seats(self.conn, &ids, self.author.now)?;
        for seat in seats {
            let details = json!({
                "subscription": self.sub.id,
                "assignment": seat.assignment_id,
                "public": seat.public.code(),
                "from": WAITING,
            });
            self.audit(AuditKind::SeatGranted, &seat.gar_id, details)?;
            self.changes.granted += 1;
        }
        Ok(())
    }

    fn insert(&mut self, people: &[(i64, &Wanted)], status: &'static str) -> Result<(), LedgerError> {
        let rows: Vec<NewSeat<'_>> = people
            .iter()
            .map(|(person, w)| NewSeat {
                assignment_id: w.assignment(),
                subscription_id: self.sub.id,
                uai: self.uai.as_str(),
                person_id: *person,
                public: w.public.code(),
                status,
                granted_at: self.author.now,
                released_at: None,
                release_reason: None,
            })
            .collect();
        ledger::insert_seats(self.conn, &rows)?;
        let kind = if status == ACTIVE { AuditKind::SeatGranted } else { AuditKind::SeatQueued };
        for (_, w) in people {
            let details =
                json!({ "subscription": self.sub.id, "assignment": w.assignment(), "public": w.public.code() });
            self.audit(kind, &w.gar_id, details)?;
        }
        if status == ACTIVE {
            self.changes.granted += people.len();
        } else {
            self.changes.waiting += people.len();
        }
        Ok(())
    }

    fn audit(&mut self, kind: AuditKind, gar_id: &str, details: serde_json::Value) -> Result<(), LedgerError> {
        let event = AuditEvent::new(kind, self.author.actor.clone(), details)
            .ent(self.ent_id)
            .uai(self.uai.as_str())
            .subject(self.author.subject(self.ent_id, gar_id));
        audit::append_at(self.conn, &event, self.author.now)?;
        Ok(())
    }
}
