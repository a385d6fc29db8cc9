//! The two migration sets and the diesel schema describe the same database.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use sesame::store::schema::*;
use sesame::store::{AnyConnection, Backend};

use crate::common::TestDb;

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

/// table → (column → nullable), read from the live catalogue.
fn columns(conn: &mut AnyConnection, backend: Backend) -> BTreeMap<String, BTreeMap<String, bool>> {
    let query = match backend {
        Backend::Postgresql => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             (is_nullable = 'YES') AS nullable FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '\\_\\_%'"
        }
        // An INTEGER PRIMARY KEY is never NULL even though SQLite does not flag it.
        Backend::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name, (p.\"notnull\" = 0 AND p.pk = 0) AS nullable \
             FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND m.name NOT LIKE '\\_\\_%' ESCAPE '\\'"
        }
    };
    let rows: Vec<ColumnRow> = diesel::sql_query(query).load(conn).unwrap();
    let mut tables: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
    for row in rows {
        tables.entry(row.table_name).or_default().insert(row.column_name, row.nullable);
    }
    tables
}

#[test]
fn sqlite_and_postgres_migrations_agree() {
    let (sqlite, postgres) = (TestDb::new(Backend::Sqlite), TestDb::new(Backend::Postgresql));
    let from_sqlite = columns(&mut sqlite.connect(), Backend::Sqlite);
    let from_postgres = columns(&mut postgres.connect(), Backend::Postgresql);
    assert_eq!(from_sqlite.len(), 45, "tables: {:?}", from_sqlite.keys());
    assert_eq!(from_sqlite, from_postgres);
}

/// Selecting every column diesel knows fails if the SQL lacks one.
macro_rules! select_all_columns {
    ($conn:expr, $($table:ident),+ $(,)?) => {{
        let mut checked = 0;
        $(
            diesel::select(diesel::dsl::exists($table::table.select($table::all_columns)))
                .get_result::<bool>($conn)
                .unwrap_or_else(|e| panic!("{}: {e}", stringify!($table)));
            checked += 1;
        )+
        checked
    }};
}

crate::storage_test! {
    fn diesel_schema_matches_migrations(db) {
        let conn = &mut db.connect();
        let checked = select_all_columns!(
            conn, ent_projects, distributors, publishers, client_certificates, establishments, persons,
            person_establishments, person_profiles, teacher_posts, mefs, subjects, school_groups, group_divisions,
            person_groups, teacher_group_subjects, person_mefs, person_mefstat4, pupil_subjects, assignment_managers,
            assignment_manager_establishments, feed_imports, person_feed_digests, feed_held_files, service_providers,
            resources, release_contracts,
            subscriptions, subscription_publics, subscription_establishments, licence_pools, assignments,
            assignment_seats, assignment_history, school_wide_opt_outs, school_wide_access, assignment_exclusions,
            identity_providers, saml_requests, saml_replay_cache, web_sessions, audit_events, audit_checkpoints,
            job_leases, auditor_certificates, ent_widget_origins,
        );
        assert_eq!(checked, columns(conn, db.backend()).len(), "every table has a diesel definition");
    }
}

crate::storage_test! {
    fn foreign_keys_are_enforced(db) {
        // SQLite ignores foreign keys unless each connection turns them on.
        let conn = &mut db.connect();
        let orphan = diesel::sql_query(
            "INSERT INTO establishments (uai, ent_id, name, degree, created_at, updated_at) \
             VALUES ('0000001A', 'NOPE', 'x', 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        )
        .execute(conn);
        assert!(orphan.is_err(), "an establishment of an unknown ENT project must be refused");
    }
}
