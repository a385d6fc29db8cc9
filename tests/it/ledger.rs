//! The licence ledger on the demo académie: seats follow the directory (join, leave, waiting
//! lists), withdrawals, transfers and undo, over-allocation, ETABL switches, deletion grace, and
//! entitlement resolution — on SQLite and PostgreSQL.

use chrono::{NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use sesame::assignments::{self, Author, LedgerError};
use sesame::domain::assignment::AssignmentTarget;
use sesame::domain::entitlement::{AllSchools, Clock, Grant, How, Resolution};
use sesame::domain::licence::PoolPublic;
use sesame::domain::pseudonym::Pseudonyms;
use sesame::domain::subscription::Subscription;
use sesame::domain::{Profile, Public, Uai};
use sesame::store::schema::{
    assignment_seats, audit_events, licence_pools, person_groups, person_profiles, persons, school_groups,
    subscriptions,
};
use sesame::store::{AnyConnection, assignments as ledger, entitlements};

pub const COLLEGE: &str = "0990001N";

pub fn uai(code: &str) -> Uai {
    Uai::parse(code).unwrap()
}

pub fn pseudonyms() -> Pseudonyms {
    Pseudonyms::new(b"ledger test secret")
}

/// The collège's first manager.
pub fn manager(pseudonyms: &Pseudonyms) -> Author<'_> {
    Author::manager("Z0", "z0-dir-0001", pseudonyms)
}

/// A new INDIV subscription of the collège for pupils and teachers with the given counts.
pub fn subscription(conn: &mut AnyConnection, id: &str, pupils: u32, teachers: Option<u32>) -> i64 {
    let mut json = serde_json::json!({
        "idAbonnement": id,
        "idDistributeurCom": "999000101_0000000000000000",
        "idRessource": "ark:/99999/demo.fle",
        "typeIdRessource": "ark",
        "libelleRessource": format!("Test {id}"),
        "debutValidite": "2026-09-01T00:00:00",
        "anneeFinValidite": "2026-2027",
        "uaiEtab": [COLLEGE],
        "categorieAffectation": "transferable",
        "typeAffectation": "INDIV",
        "nbLicenceEleve": pupils,
        "publicCible": ["ELEVE", "ENSEIGNANT"]
    });
    if let Some(teachers) = teachers {
        json["nbLicenceEnseignant"] = teachers.into();
    }
    let sub: Subscription = serde_json::from_value(json).unwrap();
    sub.validate().unwrap();
    sesame::store::subscriptions::insert_subscription(conn, &sub).unwrap()
}

/// (total, used) of a counter of the collège.
pub fn pool(conn: &mut AnyConnection, subscription: i64, public: &str) -> (Option<i64>, i64) {
    licence_pools::table
        .filter(licence_pools::subscription_id.eq(subscription))
        .filter(licence_pools::uai.eq(COLLEGE))
        .filter(licence_pools::public.eq(public))
        .select((licence_pools::total, licence_pools::used))
        .first(conn)
        .unwrap()
}

/// The latest seat of a person for a subscription: (status, release reason).
pub fn seat(conn: &mut AnyConnection, subscription: i64, gar_id: &str) -> Option<(String, Option<String>)> {
    assignment_seats::table
        .inner_join(persons::table)
        .filter(assignment_seats::subscription_id.eq(subscription))
        .filter(persons::gar_id.eq(gar_id))
        .order(assignment_seats::id.desc())
        .select((assignment_seats::status, assignment_seats::release_reason))
        .first(conn)
        .optional()
        .unwrap()
}

/// Pupils (GARPersonIdentifiant) of a class of the collège, by id.
pub fn pupils_of(conn: &mut AnyConnection, class: &str) -> Vec<String> {
    person_groups::table
        .inner_join(persons::table)
        .inner_join(school_groups::table)
        .filter(school_groups::uai.eq(COLLEGE))
        .filter(school_groups::code.eq(class))
        .filter(persons::source.eq("ELEVE"))
        .order(persons::id)
        .select(persons::gar_id)
        .load(conn)
        .unwrap()
}

fn person_id(conn: &mut AnyConnection, gar_id: &str) -> i64 {
    persons::table.filter(persons::gar_id.eq(gar_id)).select(persons::id).first(conn).unwrap()
}

fn group_id(conn: &mut AnyConnection, class: &str) -> i64 {
    school_groups::table
        .filter(school_groups::uai.eq(COLLEGE))
        .filter(school_groups::code.eq(class))
        .select(school_groups::id)
        .first(conn)
        .unwrap()
}

/// The directory feed moves a pupil into a class.
fn join(conn: &mut AnyConnection, gar_id: &str, class: &str) {
    let (person, group) = (person_id(conn, gar_id), group_id(conn, class));
    diesel::insert_into(person_groups::table)
        .values((person_groups::person_id.eq(person), person_groups::group_id.eq(group)))
        .execute(conn)
        .unwrap();
}

/// The directory feed takes a pupil out of a class.
fn leave(conn: &mut AnyConnection, gar_id: &str, class: &str) {
    let (person, group) = (person_id(conn, gar_id), group_id(conn, class));
    let deleted = diesel::delete(
        person_groups::table.filter(person_groups::person_id.eq(person)).filter(person_groups::group_id.eq(group)),
    )
    .execute(conn)
    .unwrap();
    assert_eq!(deleted, 1);
}

fn reconcile(conn: &mut AnyConnection, pseudonyms: &Pseudonyms) -> assignments::ReconcileSummary {
    assignments::reconcile(conn, "Z0", &[uai(COLLEGE)], &Author::feed("Z0", pseudonyms)).unwrap()
}

fn class(code: &str) -> AssignmentTarget {
    AssignmentTarget::Division(code.into())
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Resource ids a person may open in a school, with how.
fn granted(conn: &mut AnyConnection, gar_id: &str, school: &str, clock: Clock) -> Vec<(String, Vec<Grant>)> {
    match entitlements::resolve(conn, "Z0", gar_id, &uai(school), clock).unwrap() {
        Resolution::Granted(found) => found.resources.into_iter().map(|r| (r.resource_id, r.grants)).collect(),
        other => panic!("{gar_id} in {school}: {other:?}"),
    }
}

crate::storage_test! {
    fn seats_follow_the_directory(db) {
        let conn = &mut db.connect();
        sesame::demo::load(conn).unwrap();
        let pseudonyms = pseudonyms();
        let sub = subscription(conn, "TEST-LIVE", 20, None);
        let class_6a = pupils_of(conn, "6A");
        let class_5a = pupils_of(conn, "5A");
        assert_eq!(class_6a.len(), 18);

        let assigned = assignments::assign(conn, &manager(&pseudonyms), &uai(COLLEGE), sub, class("6A")).unwrap();
        assert_eq!(assigned.changes.granted, 18, "pupils only: the subscription counts no teacher");
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(20), 18));

        // Two newcomers fit, the third waits (they also join the demo's class assignments).
        for pupil in &class_5a[..3] {
            join(conn, pupil, "6A");
        }
        let summary = reconcile(conn, &pseudonyms);
        assert_eq!((summary.waiting, summary.released), (1, 0), "{summary:?}");
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(20), 20));
        assert_eq!(seat(conn, sub, &class_5a[0]).unwrap().0, "ACTIVE");
        assert_eq!(seat(conn, sub, &class_5a[2]).unwrap().0, "WAITING");
        let unchanged = reconcile(conn, &pseudonyms);
        assert_eq!((unchanged.granted, unchanged.released, unchanged.waiting), (0, 0, 0), "{unchanged:?}");

        // A pupil leaves the class: the seat is freed with the reason, and the waiting pupil gets it.
        leave(conn, &class_6a[0], "6A");
        reconcile(conn, &pseudonyms);
        assert_eq!(seat(conn, sub, &class_6a[0]), Some(("RELEASED".into(), Some("a quitté la classe 6A".into()))));
        assert_eq!(seat(conn, sub, &class_5a[2]).unwrap().0, "ACTIVE");
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(20), 20));

        // A pupil leaves the school altogether.
        let leaver = person_id(conn, &class_6a[1]);
        diesel::delete(person_profiles::table.filter(person_profiles::person_id.eq(leaver))).execute(conn).unwrap();
        reconcile(conn, &pseudonyms);
        assert_eq!(seat(conn, sub, &class_6a[1]), Some(("RELEASED".into(), Some("a quitté l'établissement".into()))));
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(20), 19));

        // Every move is an audit event by the ENT feed about a pseudonymous person.
        let feed_events: Vec<(String, Option<String>, String)> = audit_events::table
            .filter(audit_events::actor.eq("ent:Z0"))
            .order(audit_events::seq)
            .select((audit_events::kind, audit_events::subject, audit_events::details))
            .load(conn)
            .unwrap();
        let ours: Vec<&(String, Option<String>, String)> = feed_events
            .iter()
            .filter(|(_, _, details)| serde_json::from_str::<serde_json::Value>(details).unwrap()["subscription"] == sub)
            .collect();
        let kinds: Vec<&str> = ours.iter().map(|(kind, _, _)| kind.as_str()).collect();
        assert_eq!(kinds, ["seat.granted", "seat.granted", "seat.queued", "seat.released", "seat.granted", "seat.released"]);
        assert_eq!(ours[3].1.as_deref(), Some(pseudonyms.audit_subject("Z0", &class_6a[0]).as_str()));
        let details: Vec<String> = audit_events::table.select(audit_events::details).load(conn).unwrap();
        assert!(details.iter().all(|d| !d.contains(&class_6a[0])), "no identifier in clear in audit details");

        // Another ENT project's reconcile leaves this school alone.
        let other = assignments::reconcile(conn, "Z1", &[uai(COLLEGE)], &Author::feed("Z1", &pseudonyms)).unwrap();
        assert_eq!(other.schools, 0);
    }
}

crate::storage_test! {
    fn withdrawal_transfer_and_undo(db) {
        let conn = &mut db.connect();
        sesame::demo::load(conn).unwrap();
        let pseudonyms = pseudonyms();
        let author = manager(&pseudonyms);
        let college = uai(COLLEGE);
        let sub = subscription(conn, "TEST-MOVES", 20, None);
        let class_6a = pupils_of(conn, "6A");
        let class_6b = pupils_of(conn, "6B");

        let first = assignments::assign(conn, &author, &college, sub, class("6A")).unwrap();
        // 6B does not fit next to 6A: refused as a whole, counters untouched.
        let refused = assignments::assign(conn, &author, &college, sub, class("6B")).unwrap_err();
        assert!(matches!(refused, LedgerError::NoLicenceLeft { pool: PoolPublic::Public(Public::Pupil), needed: 18, free: 2 }), "{refused}");
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(20), 18));
        let again = assignments::assign(conn, &author, &college, sub, class("6A")).unwrap_err();
        assert!(matches!(again, LedgerError::AlreadyAssigned { .. }), "{again}");

        // Withdrawing one pupil of the live class keeps the class assignment for the others.
        let one = AssignmentTarget::Person(class_6a[0].clone());
        let withdrawn = assignments::withdraw(conn, &author, &college, sub, one.clone()).unwrap();
        assert_eq!((withdrawn.revoked.len(), withdrawn.excluded, withdrawn.changes.released), (0, 1, 1));
        assert_eq!(seat(conn, sub, &class_6a[0]).unwrap().0, "RELEASED");
        assert_eq!(reconcile(conn, &pseudonyms).granted, 0, "a withdrawn pupil stays withdrawn");
        let undone = assignments::undo(conn, &author, &college, withdrawn.history_id).unwrap();
        assert_eq!(undone.changes.granted, 1);
        assert_eq!(seat(conn, sub, &class_6a[0]).unwrap().0, "ACTIVE");
        let twice = assignments::undo(conn, &author, &college, withdrawn.history_id).unwrap_err();
        assert!(matches!(twice, LedgerError::AlreadyUndone(_)), "{twice}");
        let undo_undo = assignments::undo(conn, &author, &college, undone.history_id).unwrap_err();
        assert!(matches!(undo_undo, LedgerError::NotUndoable { .. }), "{undo_undo}");

        // Transfer 6A → 6B in one step: 6A's seats go to 6B.
        let transferred = assignments::transfer(conn, &author, &college, sub, class("6A"), class("6B")).unwrap();
        assert_eq!((transferred.changes.released, transferred.changes.granted), (18, 18));
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(20), 18));
        assert_eq!(seat(conn, sub, &class_6b[0]).unwrap().0, "ACTIVE");
        assert_eq!(
            seat(conn, sub, &class_6a[5]),
            Some(("RELEASED".into(), Some("retirée par le responsable d'affectation".into())))
        );
        // The first assignment was withdrawn by the transfer: undoing it is refused.
        let stale = assignments::undo(conn, &author, &college, first.history_id).unwrap_err();
        assert!(matches!(stale, LedgerError::NotUndoable { .. }), "{stale}");

        // Undoing the transfer gives 6A back its seats.
        assignments::undo(conn, &author, &college, transferred.history_id).unwrap();
        assert_eq!(seat(conn, sub, &class_6a[5]).unwrap().0, "ACTIVE");
        assert_eq!(seat(conn, sub, &class_6b[0]).unwrap().0, "RELEASED");
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(20), 18));

        // Withdraw 6A, give its seats to 6B, then undoing the withdrawal finds no seat left.
        let withdrawn = assignments::withdraw(conn, &author, &college, sub, class("6A")).unwrap();
        assert_eq!(withdrawn.changes.released, 18);
        assignments::assign(conn, &author, &college, sub, class("6B")).unwrap();
        let no_seat = assignments::undo(conn, &author, &college, withdrawn.history_id).unwrap_err();
        assert!(matches!(no_seat, LedgerError::NoLicenceLeft { .. }), "{no_seat}");
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(20), 18), "the refused undo changed nothing");
        let nothing = assignments::withdraw(conn, &author, &college, sub, class("5A")).unwrap_err();
        assert!(matches!(nothing, LedgerError::NothingToWithdraw(_)), "{nothing}");

        // The history lists every change, newest first, naming the manager.
        let history = assignments::history(conn, &college, None, 50).unwrap();
        let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).take(4).collect();
        assert_eq!(actions, ["ASSIGN", "WITHDRAW", "UNDO", "TRANSFER"]);
        assert!(history.iter().all(|h| h.by != "manager:Z0/z0-dir-0001"), "actors are shown by name");
        let managed: i64 = audit_events::table
            .filter(audit_events::actor.eq("manager:Z0/z0-dir-0001"))
            .filter(audit_events::kind.like("assignment.%"))
            .count()
            .get_result(conn)
            .unwrap();
        assert!(managed >= 7, "{managed} assignment events");
    }
}

crate::storage_test! {
    fn lowered_counts_over_allocate_without_cutting_access(db) {
        let conn = &mut db.connect();
        sesame::demo::load(conn).unwrap();
        let pseudonyms = pseudonyms();
        let author = manager(&pseudonyms);
        let college = uai(COLLEGE);
        let sub = subscription(conn, "TEST-LOWERED", 20, None);
        let class_6a = pupils_of(conn, "6A");
        assignments::assign(conn, &author, &college, sub, class("6A")).unwrap();

        // The distributor lowers the count to 15: nobody loses access, the pool is over-allocated.
        diesel::update(licence_pools::table.filter(licence_pools::subscription_id.eq(sub)))
            .set(licence_pools::total.eq(Some(15i64)))
            .execute(conn)
            .unwrap();
        let clock = Clock::new(now(), 15);
        assert!(granted(conn, &class_6a[17], COLLEGE, clock).iter().any(|(id, _)| id == "ark:/99999/demo.fle"));
        let settings = assignments::overview::Settings::new(&sesame::config::Config::default(), now());
        let dashboard = assignments::overview::dashboard(conn, &college, &settings).unwrap();
        assert!(dashboard.alerts.iter().any(|a| a.subscription_id == sub
            && a.kind == assignments::overview::AlertKind::OverAllocated));

        // No new seat until back under the total: a newcomer waits, a single pupil is refused.
        let newcomer = pupils_of(conn, "5A")[0].clone();
        join(conn, &newcomer, "6A");
        assert_eq!(reconcile(conn, &pseudonyms).waiting, 1);
        let single = AssignmentTarget::Person(pupils_of(conn, "5A")[1].clone());
        let refused = assignments::assign(conn, &author, &college, sub, single);
        assert!(matches!(refused, Err(LedgerError::NoLicenceLeft { free: 0, .. })), "{refused:?}");

        // Withdrawing three pupils (18 → 15) still leaves no free seat: the newcomer keeps waiting.
        for pupil in &class_6a[..3] {
            assignments::withdraw(conn, &author, &college, sub, AssignmentTarget::Person(pupil.clone())).unwrap();
        }
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(15), 15));
        assert_eq!(seat(conn, sub, &newcomer).unwrap().0, "WAITING");
        // One more frees a seat, which the waiting newcomer gets at once.
        assignments::withdraw(conn, &author, &college, sub, AssignmentTarget::Person(class_6a[3].clone())).unwrap();
        assert_eq!(seat(conn, sub, &newcomer).unwrap().0, "ACTIVE");
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(15), 15));

        // The distributor raises the count: reconciling the subscription changes nothing more here.
        diesel::update(licence_pools::table.filter(licence_pools::subscription_id.eq(sub)))
            .set(licence_pools::total.eq(Some(30i64)))
            .execute(conn)
            .unwrap();
        let raised = assignments::reconcile_subscription(conn, sub, &Author::new(
            sesame::domain::audit::Actor::distributor("999000101_0000000000000000"), &pseudonyms)).unwrap();
        assert_eq!(raised.schools, 1);
    }
}

crate::storage_test! {
    fn school_wide_access_and_deletion_grace(db) {
        let conn = &mut db.connect();
        sesame::demo::load(conn).unwrap();
        let pseudonyms = pseudonyms();
        let author = manager(&pseudonyms);
        let college = uai(COLLEGE);
        let encyclopedia = "ark:/99999/demo.encyclopedie";
        let etabl: i64 = subscriptions::table
            .filter(subscriptions::external_id.eq("DEMO-2026-ENCYCLO-Z0"))
            .select(subscriptions::id)
            .first(conn)
            .unwrap();
        let pupil = pupils_of(conn, "6A")[0].clone();
        let clock = Clock::new(now(), 15);
        let school_wide = |conn: &mut AnyConnection, gar_id: &str, school: &str, clock| {
            granted(conn, gar_id, school, clock)
                .into_iter()
                .any(|(id, grants)| id == encyclopedia && grants == [Grant { subscription_id: etabl, how: How::SchoolWide }])
        };
        // A new ETABL subscription grants at once, with no assignment.
        assert!(school_wide(conn, &pupil, COLLEGE, clock));
        // The lycée professionnel's manager switched its other staff off (demo fixture).
        let lp_staff: String = person_profiles::table
            .inner_join(persons::table)
            .filter(person_profiles::uai.eq("0990003R"))
            .filter(person_profiles::profile.eq(Profile::SchoolStaff.code()))
            .select(persons::gar_id)
            .first(conn)
            .unwrap();
        assert!(!school_wide(conn, &lp_staff, "0990003R", clock));

        let off = assignments::set_school_wide(conn, &author, &college, etabl, Public::Pupil, false).unwrap();
        assert!(!school_wide(conn, &pupil, COLLEGE, clock));
        assert!(school_wide(conn, "z0-ens-0001", COLLEGE, clock), "teachers keep it");
        assignments::undo(conn, &author, &college, off.history_id.unwrap()).unwrap();
        assert!(school_wide(conn, &pupil, COLLEGE, clock));

        // The distributor deletes it: still granted during the grace period, not after.
        let sub = subscription(conn, "TEST-DELETED", 30, None);
        assignments::assign(conn, &author, &college, sub, class("6A")).unwrap();
        let deleted_at = now();
        diesel::update(subscriptions::table.filter(subscriptions::id.eq_any([etabl, sub])))
            .set(subscriptions::deleted_at.eq(Some(deleted_at)))
            .execute(conn)
            .unwrap();
        assert!(school_wide(conn, &pupil, COLLEGE, clock));
        assert!(granted(conn, &pupil, COLLEGE, clock).iter().any(|(_, g)| g.contains(&Grant { subscription_id: sub, how: How::Seat })));
        let after_grace = Clock::new(deleted_at + TimeDelta::days(15) + TimeDelta::seconds(1), 15);
        assert!(granted(conn, &pupil, COLLEGE, after_grace).iter().all(|(_, grants)| grants
            .iter()
            .all(|g| g.subscription_id != sub && g.subscription_id != etabl)));
        let closed = assignments::assign(conn, &author, &college, sub, class("6B")).unwrap_err();
        assert!(matches!(closed, LedgerError::Closed(_)), "{closed}");
        let settings = assignments::overview::Settings::new(&sesame::config::Config::default(), now());
        let dashboard = assignments::overview::dashboard(conn, &college, &settings).unwrap();
        let deleted = dashboard.alerts.iter().find(|a| a.subscription_id == sub).unwrap();
        assert_eq!(deleted.kind, assignments::overview::AlertKind::Deleted);
        let grace_end = (deleted_at + TimeDelta::days(15)).format("%d/%m/%Y").to_string();
        assert!(deleted.message.contains(&grace_end), "{}", deleted.message);
    }
}

crate::storage_test! {
    fn resolution_tells_every_case_apart(db) {
        let conn = &mut db.connect();
        sesame::demo::load(conn).unwrap();
        let clock = Clock::new(now(), 15);
        let college = uai(COLLEGE);
        let resolve = |conn: &mut AnyConnection, ent: &str, gar_id: &str, school: &str| {
            entitlements::resolve(conn, ent, gar_id, &uai(school), clock).unwrap()
        };
        assert_eq!(resolve(conn, "Z0", "z0-elv-9999", COLLEGE), Resolution::UnknownPerson);
        assert_eq!(resolve(conn, "Z1", "z0-elv-0001", COLLEGE), Resolution::UnknownPerson, "ids are per ENT project");
        assert_eq!(resolve(conn, "Z0", "z0-elv-0001", "0990011Z"), Resolution::UnknownSchool, "a Z1 school");
        assert_eq!(resolve(conn, "Z0", "z0-elv-0001", "0999999A"), Resolution::UnknownSchool);
        assert_eq!(resolve(conn, "Z0", "z0-elv-0001", "0990002P"), Resolution::NotInSchool);

        // A 6A pupil of the demo: maths 6e by seat (class assignment), the encyclopedia school-wide.
        let pupil = pupils_of(conn, "6A")[0].clone();
        let Resolution::Granted(found) = resolve(conn, "Z0", &pupil, COLLEGE) else { panic!() };
        assert_eq!(found.profiles, [Profile::Pupil]);
        let ids: Vec<&str> = found.resources.iter().map(|r| r.resource_id.as_str()).collect();
        assert_eq!(ids, ["ark:/99999/demo.encyclopedie", "ark:/99999/demo.maths6"]);
        assert_eq!(found.resource("ark:/99999/demo.maths6").unwrap().grants[0].how, How::Seat);

        // Removed from the directory: unknown.
        diesel::update(persons::table.filter(persons::gar_id.eq(&pupil)))
            .set(persons::removed_at.eq(Some(now())))
            .execute(conn)
            .unwrap();
        assert_eq!(resolve(conn, "Z0", &pupil, COLLEGE), Resolution::UnknownPerson);

        // The shared teacher works in two schools: one answer per school.
        let shared: String = persons::table
            .filter(persons::ent_id.eq("Z0"))
            .filter(persons::id.eq_any(
                person_profiles::table
                    .filter(person_profiles::uai.eq("0990002P"))
                    .select(person_profiles::person_id),
            ))
            .filter(persons::id.eq_any(
                person_profiles::table.filter(person_profiles::uai.eq(COLLEGE)).select(person_profiles::person_id),
            ))
            .select(persons::gar_id)
            .first(conn)
            .unwrap();
        let AllSchools::Schools { schools } = entitlements::resolve_all(conn, "Z0", &shared, clock).unwrap() else { panic!() };
        let uais: Vec<&str> = schools.iter().map(|(uai, _)| uai.as_str()).collect();
        assert_eq!(uais, [COLLEGE, "0990002P"]);
        for (school, entitlements) in &schools {
            assert_eq!(Resolution::Granted(entitlements.clone()), resolve(conn, "Z0", &shared, school.as_str()));
        }
        assert_eq!(entitlements::resolve_all(conn, "Z1", &shared, clock).unwrap(), AllSchools::UnknownPerson);

        // Preview: "uses N licences, M left, K already have it".
        let pseudonyms = pseudonyms();
        let sub = subscription(conn, "TEST-PREVIEW", 30, Some(10));
        let author = manager(&pseudonyms);
        let first_of_6b = AssignmentTarget::Person(pupils_of(conn, "6B")[0].clone());
        assignments::assign(conn, &author, &college, sub, first_of_6b).unwrap();
        let preview = assignments::preview(conn, &author, &college, sub, class("6B")).unwrap();
        assert_eq!((preview.already, preview.waiting), (1, 0));
        let pupils = preview.pools.iter().find(|p| p.pool == PoolPublic::Public(Public::Pupil)).unwrap();
        assert_eq!((pupils.needed, pupils.left_after), (17, Some(12)));
        assert!(preview.fits && preview.eligible > 18, "the class's teachers are counted too: {preview:?}");
        assert!(preview.summary_fr().contains("1 personne l'a déjà"), "{}", preview.summary_fr());
        assert_eq!(pool(conn, sub, "ELEVE"), (Some(30), 1), "a preview writes nothing");
        let ledger_facts = ledger::find_subscription(conn, sub, &college).unwrap().unwrap();
        assert_eq!(ledger_facts.licensed_publics(), [Public::Pupil, Public::Teacher]);
    }
}

crate::storage_test! {
    fn the_school_wide_index_follows_whoever_writes_subscriptions(db) {
        let conn = &mut db.connect();
        sesame::demo::load(conn).unwrap();
        let clock = Clock::new(now(), 15);
        let pupil = pupils_of(conn, "6A")[0].clone();
        let fle = "ark:/99999/demo.fle";
        let has_fle = |conn: &mut AnyConnection| granted(conn, &pupil, COLLEGE, clock).iter().any(|(id, _)| id == fle);
        let sub = subscription(conn, "TEST-RETYPED", 30, None);
        assert!(!has_fle(conn), "an unassigned INDIV subscription grants nothing");

        // Retyped ETABL (as a distributor's update might): the triggers list it for its schools.
        diesel::update(subscriptions::table.filter(subscriptions::id.eq(sub)))
            .set(subscriptions::assignment_type.eq("ETABL"))
            .execute(conn)
            .unwrap();
        assert!(has_fle(conn));
        // Its school taken off the subscription: gone from the school.
        use sesame::store::schema::subscription_establishments as se;
        diesel::delete(se::table.filter(se::subscription_id.eq(sub))).execute(conn).unwrap();
        assert!(!has_fle(conn));
        // A new ETABL subscription inserted with its schools is listed at once.
        let fresh: Subscription = serde_json::from_value(serde_json::json!({
            "idAbonnement": "TEST-NEW-ETABL", "idDistributeurCom": "999000101_0000000000000000",
            "idRessource": fle, "typeIdRessource": "ark", "libelleRessource": "FLE",
            "debutValidite": "2026-09-01T00:00:00", "anneeFinValidite": "2026-2027", "uaiEtab": [COLLEGE],
            "categorieAffectation": "transferable", "typeAffectation": "ETABL", "nbLicenceGlobale": "ILLIMITE",
            "publicCible": ["ELEVE"]
        })).unwrap();
        fresh.validate().unwrap();
        let fresh_id = sesame::store::subscriptions::insert_subscription(conn, &fresh).unwrap();
        assert!(granted(conn, &pupil, COLLEGE, clock).iter().any(|(id, grants)| id == fle
            && grants == &[Grant { subscription_id: fresh_id, how: How::SchoolWide }]));
        assert!(!granted(conn, "z0-ens-0001", COLLEGE, clock).iter().any(|(id, _)| id == fle), "pupils only");
        // Its publics change: taking ELEVE off removes it, giving it back restores it.
        use sesame::store::schema::subscription_publics as sp;
        diesel::delete(sp::table.filter(sp::subscription_id.eq(fresh_id))).execute(conn).unwrap();
        assert!(!has_fle(conn));
        diesel::insert_into(sp::table)
            .values((sp::subscription_id.eq(fresh_id), sp::public.eq("ELEVE")))
            .execute(conn)
            .unwrap();
        assert!(has_fle(conn));
        // A manager's switch-off and switch-on, through the ledger.
        let pseudonyms = pseudonyms();
        let author = manager(&pseudonyms);
        assignments::set_school_wide(conn, &author, &uai(COLLEGE), fresh_id, Public::Pupil, false).unwrap();
        assert!(!has_fle(conn));
        assignments::set_school_wide(conn, &author, &uai(COLLEGE), fresh_id, Public::Pupil, true).unwrap();
        assert!(has_fle(conn));
    }
}
