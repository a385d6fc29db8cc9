//! The demo académie: generated deterministically, loaded in one transaction, consistent in the database.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use sesame::assignments::{self, Author, LedgerError};
use sesame::demo::{self, DemoError, Fixtures};
use sesame::domain::assignment::AssignmentTarget;
use sesame::domain::pseudonym::Pseudonyms;
use sesame::domain::subscription::Subscription;
use sesame::domain::{Public, Uai};
use sesame::store::catalogue;
use sesame::store::directory::insert_directory;
use sesame::store::{AnyConnection, partners, subscriptions};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `SELECT COUNT(*) AS n …`.
fn count(conn: &mut AnyConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).n
}

const TABLES: [&str; 24] = [
    "ent_projects",
    "distributors",
    "publishers",
    "establishments",
    "persons",
    "person_establishments",
    "person_profiles",
    "teacher_posts",
    "mefs",
    "subjects",
    "school_groups",
    "group_divisions",
    "person_groups",
    "teacher_group_subjects",
    "person_mefs",
    "person_mefstat4",
    "pupil_subjects",
    "assignment_managers",
    "assignment_manager_establishments",
    "resources",
    "subscriptions",
    "licence_pools",
    "assignments",
    "assignment_seats",
];

fn row_counts(conn: &mut AnyConnection) -> Vec<(&'static str, i64)> {
    TABLES.iter().map(|table| (*table, count(conn, &format!("SELECT COUNT(*) AS n FROM {table}")))).collect()
}

fn college() -> Uai {
    Uai::parse("0990001N").unwrap()
}

fn pseudonyms() -> Pseudonyms {
    Pseudonyms::new(b"test secret")
}

fn assign(
    conn: &mut AnyConnection,
    subscription: i64,
    uai: &Uai,
    target: &AssignmentTarget,
) -> Result<assignments::Assigned, LedgerError> {
    let pseudonyms = pseudonyms();
    let author = Author::manager("Z0", "z0-dir-0001", &pseudonyms);
    assignments::assign(conn, &author, uai, subscription, target.clone())
}

crate::storage_test! {
    fn demo_loads_a_consistent_academie(db) {
        let conn = &mut db.connect();
        let loaded = demo::load(conn).unwrap();
        let c = loaded.counts;

        assert_eq!(loaded.ents, ["Z0", "Z1"]);
        assert_eq!(loaded.callers().len(), 4, "2 ENT projects and 2 distributors get certificates");
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM ent_projects"), 2);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM establishments"), 5);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM establishments WHERE degree = 1"), 2);
        assert_eq!((c.first_degree_schools, c.second_degree_schools), (2, 3));

        let persons = count(conn, "SELECT COUNT(*) AS n FROM persons");
        assert_eq!(persons, c.persons() as i64);
        assert!((350..=450).contains(&persons), "about 400 persons, got {persons}");
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM persons WHERE source = 'ELEVE'"), c.pupils as i64);
        assert!(c.teachers >= 35 && c.other_staff >= 10, "{c:?}");

        // Every class holds exactly the configured number of pupils.
        let fixtures = Fixtures::embedded().unwrap();
        #[derive(QueryableByName)]
        struct ClassSize {
            #[diesel(sql_type = Text)]
            uai: String,
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let sizes: Vec<ClassSize> = diesel::sql_query(
            "SELECT g.uai AS uai, COUNT(*) AS n FROM school_groups g \
             JOIN person_groups pg ON pg.group_id = g.id JOIN persons p ON p.id = pg.person_id \
             WHERE g.status = 'DIVISION' AND p.source = 'ELEVE' GROUP BY g.uai, g.code",
        )
        .load(conn)
        .unwrap();
        assert_eq!(sizes.len(), c.classes);
        for size in sizes {
            let school = fixtures.settings.establishments.iter().find(|e| e.uai.as_str() == size.uai).unwrap();
            assert_eq!(size.n, i64::from(school.class_size), "a class of {}", size.uai);
        }
        // Every pupil is in exactly one class.
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM persons p WHERE p.source = 'ELEVE' AND 1 <> \
                (SELECT COUNT(*) FROM person_groups pg JOIN school_groups g ON g.id = pg.group_id \
                 WHERE pg.person_id = p.id AND g.status = 'DIVISION')"),
            0
        );

        // A profile in each school a person belongs to, and no profile elsewhere.
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM person_establishments pe WHERE NOT EXISTS \
                (SELECT 1 FROM person_profiles pp WHERE pp.person_id = pe.person_id AND pp.uai = pe.uai)"),
            0
        );
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM person_profiles pp WHERE NOT EXISTS \
                (SELECT 1 FROM person_establishments pe WHERE pp.person_id = pe.person_id AND pp.uai = pe.uai)"),
            0
        );
        // Someone works in two schools; second-degree staff have a mail, first-degree staff none (1D schema).
        assert!(count(conn, "SELECT COUNT(*) AS n FROM (SELECT person_id FROM person_establishments \
            GROUP BY person_id HAVING COUNT(*) > 1) AS multi") >= 1);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM persons WHERE source = 'ENSEIGNANT' AND ent_id = 'Z0' \
            AND mails = '[]'"), 0);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM persons WHERE ent_id = 'Z1' AND mails <> '[]'"), 0);
        // 2nd degree: MEFs and subjects; 1st degree: MEFSTAT4 only.
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM mefs m JOIN establishments e ON e.uai = m.uai \
            WHERE e.degree = 1"), 0);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM person_mefstat4 m JOIN establishments e ON e.uai = m.uai \
            WHERE e.degree = 2"), 0);
        assert!(count(conn, "SELECT COUNT(*) AS n FROM person_mefstat4") > 0);
        assert!(count(conn, "SELECT COUNT(*) AS n FROM teacher_posts WHERE kind = 'SPECIALITE'") > 0);
        assert!(count(conn, "SELECT COUNT(*) AS n FROM teacher_group_subjects") > 0);
        assert!(count(conn, "SELECT COUNT(*) AS n FROM group_divisions") > 0);
        let names: Vec<String> =
            sesame::store::schema::persons::table.select(sesame::store::schema::persons::other_first_names)
                .load(conn).unwrap();
        assert!(names.iter().all(|json| !serde_json::from_str::<Vec<String>>(json).unwrap().is_empty()));

        // Assignment managers: at least one per school, attached to it, present in the directory.
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM assignment_managers"), c.assignment_managers as i64);
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM establishments e WHERE NOT EXISTS \
                (SELECT 1 FROM assignment_manager_establishments m WHERE m.uai = e.uai)"),
            0
        );
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM assignment_managers m WHERE NOT EXISTS \
                (SELECT 1 FROM assignment_manager_establishments me JOIN establishments e ON e.uai = me.uai \
                 WHERE me.manager_id = m.id AND e.ent_id = m.ent_id) \
                OR NOT EXISTS (SELECT 1 FROM persons p WHERE p.ent_id = m.ent_id AND p.gar_id = m.gar_id)"),
            0
        );

        // Subscriptions: publics, schools, one pool per school and counter.
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM subscriptions"), 8);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM subscriptions s WHERE NOT EXISTS \
            (SELECT 1 FROM subscription_publics p WHERE p.subscription_id = s.id)"), 0);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM subscription_establishments se WHERE NOT EXISTS \
            (SELECT 1 FROM licence_pools l WHERE l.subscription_id = se.subscription_id AND l.uai = se.uai)"), 0);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM licence_pools l JOIN subscriptions s ON s.id = l.subscription_id \
            WHERE (l.public = 'GLOBAL') <> (s.licences_global IS NOT NULL)"), 0);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM licence_pools l JOIN subscriptions s ON s.id = l.subscription_id \
            WHERE s.licences_global = -1 AND l.total IS NOT NULL"), 0, "ILLIMITE pools have no total");
        assert!(count(conn, "SELECT COUNT(*) AS n FROM subscriptions WHERE assignment_type = 'ETABL'") >= 1);
        assert_eq!(
            (c.individual_subscriptions, c.school_wide_subscriptions),
            (
                count(conn, "SELECT COUNT(*) AS n FROM subscriptions WHERE assignment_type = 'INDIV'") as usize,
                count(conn, "SELECT COUNT(*) AS n FROM subscriptions WHERE assignment_type = 'ETABL'") as usize
            )
        );
        // RG11: no documentalist public in a subscription of a first-degree school.
        assert!(count(conn, "SELECT COUNT(*) AS n FROM subscription_establishments se JOIN establishments e \
            ON e.uai = se.uai WHERE e.degree = 1") >= 2);
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM subscription_publics p \
                JOIN subscription_establishments se ON se.subscription_id = p.subscription_id \
                JOIN establishments e ON e.uai = se.uai WHERE e.degree = 1 AND p.public = 'DOCUMENTALISTE'"),
            0
        );

        // Seats: within the totals, matching the counters, none for ETABL.
        let seats = count(conn, "SELECT COUNT(*) AS n FROM assignment_seats");
        assert_eq!(seats, c.seats as i64);
        assert!(seats > 40, "{seats} seats");
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM assignments"), c.assignments as i64);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM licence_pools WHERE total IS NOT NULL AND used > total"), 0);
        assert_eq!(count(conn, "SELECT CAST(COALESCE(SUM(used), 0) AS BIGINT) AS n FROM licence_pools"), seats);
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM licence_pools l WHERE l.used <> (SELECT COUNT(*) FROM assignment_seats a \
                WHERE a.subscription_id = l.subscription_id AND a.uai = l.uai AND a.status <> 'RELEASED' \
                AND (l.public = 'GLOBAL' OR a.public = l.public))"),
            0
        );
        // ETABL subscriptions are never assigned: they reach their publics at once, but for a switch-off.
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM assignments a JOIN subscriptions s ON s.id = a.subscription_id \
            WHERE s.assignment_type = 'ETABL'"), 0);
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM school_wide_opt_outs"), fixtures.school_wide.len() as i64);
        // Every change is in the history and the audit log, naming the manager.
        assert_eq!(
            count(conn, "SELECT COUNT(*) AS n FROM assignment_history"),
            (fixtures.assignments.len() + fixtures.school_wide.len()) as i64
        );
        assert_eq!(count(conn, "SELECT COUNT(*) AS n FROM audit_events WHERE kind = 'seat.granted' \
            AND actor LIKE 'manager:%'"), seats);
        assert!(count(conn, "SELECT COUNT(*) AS n FROM assignments WHERE target_kind = 'PERSON'") >= 1);
        assert!(count(conn, "SELECT COUNT(*) AS n FROM assignments WHERE target_kind = 'GROUPE'") >= 1);

        let banner = loaded.to_string();
        for line in ["ENT projects", "establishments", "pupils", "seats", "INDIV"] {
            assert!(banner.contains(line), "{banner}");
        }
    }
}

crate::storage_test! {
    fn loading_twice_fails_and_changes_nothing(db) {
        let conn = &mut db.connect();
        demo::load(conn).unwrap();
        let before = row_counts(conn);
        let error = demo::load(conn).unwrap_err();
        assert!(matches!(error, DemoError::NotEmpty(ref ent) if ent == "Z0"), "{error}");
        assert_eq!(row_counts(conn), before);
    }
}

crate::storage_test! {
    fn a_late_failure_rolls_everything_back(db) {
        let conn = &mut db.connect();
        // A resource already holding one of the demo's ids: the load fails after the directories are written.
        let fixtures = Fixtures::embedded().unwrap();
        let mut taken = fixtures.catalogue.resources.last().unwrap().clone();
        taken.publisher_id = sesame::domain::SirenIsni::parse("999000999_0000000000000000").unwrap();
        catalogue::insert_notices(conn, std::slice::from_ref(&taken)).unwrap();
        let before = row_counts(conn);
        assert_eq!(before.iter().find(|(t, _)| *t == "resources").unwrap().1, 1);

        let error = demo::load(conn).unwrap_err();
        assert!(matches!(error, DemoError::Store(_)), "{error}");
        assert_eq!(row_counts(conn), before, "nothing of the failed load remains");
    }
}

crate::storage_test! {
    fn seats_stop_at_the_pool_total(db) {
        let conn = &mut db.connect();
        demo::load(conn).unwrap();
        let sub: Subscription = serde_json::from_value(serde_json::json!({
            "idAbonnement": "TEST-FIVE-SEATS",
            "idDistributeurCom": "999000101_0000000000000000",
            "idRessource": "ark:/99999/demo.fle",
            "typeIdRessource": "ark",
            "libelleRessource": "Five seats",
            "debutValidite": "2026-09-01T00:00:00",
            "anneeFinValidite": "2026-2027",
            "uaiEtab": ["0990001N"],
            "categorieAffectation": "transferable",
            "typeAffectation": "INDIV",
            "nbLicenceEleve": 5,
            "publicCible": ["ELEVE"]
        }))
        .unwrap();
        sub.validate().unwrap();
        let id = subscriptions::insert_subscription(conn, &sub).unwrap();
        let distributor = sesame::domain::SirenIsni::parse("999000101_0000000000000000").unwrap();
        assert_eq!(subscriptions::find_live_id(conn, &distributor, "TEST-FIVE-SEATS").unwrap(), Some(id));
        let before = row_counts(conn);

        // A class of 18 pupils does not fit in 5 seats: refused as a whole.
        let class = AssignmentTarget::Division("3A".into());
        let error = assign(conn, id, &college(), &class).unwrap_err();
        assert!(matches!(error, LedgerError::NoLicenceLeft { .. }), "{error}");
        assert_eq!(row_counts(conn), before);

        // A group of pupils fits; the teacher in it is not counted (the subscription is for pupils only).
        let latin = AssignmentTarget::Group("LATIN".into());
        let members = count(conn, "SELECT COUNT(*) AS n FROM person_groups pg JOIN school_groups g ON g.id = pg.group_id \
            JOIN persons p ON p.id = pg.person_id WHERE g.code = 'LATIN' AND p.source = 'ELEVE'");
        let result = assign(conn, id, &college(), &latin);
        if members <= 5 {
            assert_eq!(result.unwrap().changes.granted as i64, members);
        } else {
            assert!(matches!(result, Err(LedgerError::NoLicenceLeft { .. })));
        }

        // One pupil at a time until the pool is empty.
        let pupils: Vec<String> = sesame::store::schema::persons::table
            .filter(sesame::store::schema::persons::gar_id.like("z0-elv-%"))
            .select(sesame::store::schema::persons::gar_id)
            .order(sesame::store::schema::persons::id)
            .limit(8)
            .load(conn)
            .unwrap();
        let mut granted = count(conn, &format!("SELECT used AS n FROM licence_pools WHERE subscription_id = {id}"));
        for pupil in pupils {
            match assign(conn, id, &college(), &AssignmentTarget::Person(pupil)) {
                Ok(assigned) => granted += assigned.changes.granted as i64,
                Err(LedgerError::NoLicenceLeft { .. }) => assert_eq!(granted, 5),
                Err(LedgerError::AlreadyAssigned { .. }) => {}
                Err(other) => panic!("{other}"),
            }
        }
        assert_eq!(granted, 5);
        assert_eq!(count(conn, &format!("SELECT used AS n FROM licence_pools WHERE subscription_id = {id}")), 5);
    }
}

crate::storage_test! {
    fn assignments_are_checked(db) {
        let conn = &mut db.connect();
        demo::load(conn).unwrap();
        let distributor = sesame::domain::SirenIsni::parse("999000101_0000000000000000").unwrap();
        let etabl = subscriptions::find_live_id(conn, &distributor, "DEMO-2026-ENCYCLO-Z0").unwrap().unwrap();
        let indiv = subscriptions::find_live_id(conn, &distributor, "DEMO-2026-FLE-Z0").unwrap().unwrap();
        let ecole = Uai::parse("0990011Z").unwrap();
        let before = row_counts(conn);

        let class = AssignmentTarget::Division("6A".into());
        assert!(matches!(assign(conn, etabl, &college(), &class), Err(LedgerError::SchoolWide(_))));
        // Another school's subscription is unknown here.
        assert!(matches!(assign(conn, indiv, &ecole, &class), Err(LedgerError::UnknownSubscription(_))));
        let nobody = AssignmentTarget::Person("z0-elv-9999".into());
        assert!(matches!(assign(conn, indiv, &college(), &nobody), Err(LedgerError::UnknownTarget(_))));
        let no_class = AssignmentTarget::Division("LATIN".into());
        assert!(matches!(assign(conn, indiv, &college(), &no_class), Err(LedgerError::UnknownTarget(_))));
        assert!(matches!(
            assign(conn, 999_999, &college(), &class),
            Err(LedgerError::UnknownSubscription(999_999))
        ));
        assert_eq!(row_counts(conn), before);

        // An ETABL subscription is switched per public instead, and only for its publicCible.
        let pseudonyms = pseudonyms();
        let author = Author::manager("Z0", "z0-dir-0001", &pseudonyms);
        let switched = assignments::set_school_wide(conn, &author, &college(), etabl, Public::Librarian, false).unwrap();
        assert!(switched.changed);
        let again = assignments::set_school_wide(conn, &author, &college(), etabl, Public::Librarian, false).unwrap();
        assert!(!again.changed, "switching off twice changes nothing");
        assert!(matches!(
            assignments::set_school_wide(conn, &author, &college(), indiv, Public::Pupil, false),
            Err(LedgerError::Individual(_))
        ));
    }
}

crate::storage_test! {
    fn a_dangling_reference_writes_nothing(db) {
        let conn = &mut db.connect();
        let fixtures = Fixtures::embedded().unwrap();
        let mut directory = demo::generate(&fixtures.settings, fixtures.settings.seed).remove(1);
        partners::insert_ent_project(conn, &directory.ent_id, "ENT").unwrap();
        let mut stray = directory.person_groups[0].clone();
        stray.gar_id = "z1-elv-9999".into();
        directory.person_groups.push(stray);
        let before = row_counts(conn);

        let error = insert_directory(conn, &directory).unwrap_err();
        assert!(error.to_string().contains("z1-elv-9999"), "{error}");
        assert_eq!(row_counts(conn), before);
    }
}

#[test]
fn generate_is_deterministic() {
    let settings = Fixtures::embedded().unwrap().settings;
    let first = demo::generate(&settings, settings.seed);
    assert_eq!(first, demo::generate(&settings, settings.seed));
    assert_eq!(first.len(), 2);
    assert_eq!(first[0].persons[0].gar_id, "z0-dir-0001");
    assert!(first[1].persons.iter().any(|p| p.gar_id == "z1-elv-0001"));

    // Another seed draws other people into the same structure.
    let other = demo::generate(&settings, settings.seed + 1);
    assert_ne!(first, other);
    let ids = |dirs: &[sesame::domain::directory::Directory]| -> Vec<String> {
        dirs.iter().flat_map(|d| d.persons.iter().map(|p| p.gar_id.clone())).collect()
    };
    assert_eq!(ids(&first), ids(&other));
    assert_eq!(first[0].groups, other[0].groups);

    // Each ENT project depends only on its own settings: dropping Z1 leaves Z0 as it was.
    let mut only_z0 = settings.clone();
    only_z0.ents.retain(|ent| ent.id == "Z0");
    only_z0.establishments.retain(|e| e.ent == "Z0");
    assert_eq!(demo::generate(&only_z0, settings.seed), first[..1]);
}
