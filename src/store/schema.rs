//! Diesel table definitions, shared by both backends (see `migrations/`).
//! Keep in step with the SQL: `tests/store_schema.rs` compares them with the live database.

diesel::table! {
    ent_projects (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    distributors (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    publishers (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    client_certificates (id) {
        id -> BigInt,
        fingerprint -> Text,
        subject -> Text,
        ent_id -> Nullable<Text>,
        distributor_id -> Nullable<Text>,
        not_after -> Timestamp,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    establishments (uai) {
        uai -> Text,
        ent_id -> Text,
        name -> Text,
        degree -> Integer,
        contract -> Nullable<Text>,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        functional_attachment -> Nullable<Text>,
        nature_code -> Nullable<Text>,
        nature_label -> Nullable<Text>,
        type_code -> Nullable<Text>,
        type_label -> Nullable<Text>,
        commune_code -> Nullable<Text>,
        commune_label -> Nullable<Text>,
        academy_code -> Nullable<Text>,
        academy_label -> Nullable<Text>,
        department_code -> Nullable<Text>,
        department_label -> Nullable<Text>,
        official_name -> Nullable<Text>,
        patronym -> Nullable<Text>,
        postal_code -> Nullable<Text>,
        locality -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    persons (id) {
        id -> BigInt,
        ent_id -> Text,
        gar_id -> Text,
        source -> Text,
        secondary_id -> Nullable<Text>,
        birth_name -> Nullable<Text>,
        last_name -> Text,
        first_name -> Text,
        other_first_names -> Text,
        civility -> Nullable<Text>,
        attachment_uai -> Nullable<Text>,
        birth_date -> Nullable<Date>,
        mails -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    person_establishments (person_id, uai) {
        person_id -> BigInt,
        uai -> Text,
    }
}

diesel::table! {
    person_profiles (person_id, uai, profile) {
        person_id -> BigInt,
        uai -> Text,
        profile -> Text,
    }
}

diesel::table! {
    teacher_posts (person_id, uai, code) {
        person_id -> BigInt,
        uai -> Text,
        code -> Text,
        kind -> Text,
    }
}

diesel::table! {
    mefs (uai, code) {
        uai -> Text,
        code -> Text,
        label -> Text,
        attachment -> Nullable<Text>,
        stat11 -> Nullable<Text>,
    }
}

diesel::table! {
    subjects (uai, code) {
        uai -> Text,
        code -> Text,
        label -> Text,
    }
}

diesel::table! {
    school_groups (id) {
        id -> BigInt,
        uai -> Text,
        code -> Text,
        label -> Text,
        status -> Text,
    }
}

diesel::table! {
    group_divisions (group_id, division_code) {
        group_id -> BigInt,
        division_code -> Text,
    }
}

diesel::table! {
    person_groups (person_id, group_id) {
        person_id -> BigInt,
        group_id -> BigInt,
    }
}

diesel::table! {
    teacher_group_subjects (person_id, group_id, subject_code) {
        person_id -> BigInt,
        group_id -> BigInt,
        subject_code -> Text,
    }
}

diesel::table! {
    person_mefs (person_id, uai, mef_code) {
        person_id -> BigInt,
        uai -> Text,
        mef_code -> Text,
    }
}

diesel::table! {
    person_mefstat4 (person_id, uai, code) {
        person_id -> BigInt,
        uai -> Text,
        code -> Text,
    }
}

diesel::table! {
    pupil_subjects (person_id, uai, subject_code) {
        person_id -> BigInt,
        uai -> Text,
        subject_code -> Text,
    }
}

diesel::table! {
    assignment_managers (id) {
        id -> BigInt,
        ent_id -> Text,
        gar_id -> Text,
        last_name -> Text,
        first_name -> Text,
        civility -> Nullable<Text>,
        mails -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    assignment_manager_establishments (manager_id, uai) {
        manager_id -> BigInt,
        uai -> Text,
    }
}

diesel::table! {
    feed_imports (id) {
        id -> BigInt,
        ent_id -> Text,
        degree -> Integer,
        source -> Text,
        status -> Text,
        started_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        summary -> Text,
        report -> Text,
    }
}

diesel::table! {
    person_feed_digests (person_id) {
        person_id -> BigInt,
        digest -> BigInt,
    }
}

diesel::table! {
    feed_held_files (import_id, file_no, chunk_no) {
        import_id -> BigInt,
        file_no -> Integer,
        chunk_no -> Integer,
        name -> Text,
        data -> Text,
    }
}

diesel::table! {
    service_providers (id) {
        id -> BigInt,
        publisher_id -> Text,
        entity_id -> Text,
        acs_url -> Text,
        certificates -> Text,
        signature_algorithm -> Text,
        requested_attributes -> Text,
        metadata_xml -> Nullable<Text>,
        metadata_url -> Nullable<Text>,
        refreshed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        authn_requests_signed -> Bool,
        sign_response -> Bool,
    }
}

diesel::table! {
    resources (id) {
        id -> Text,
        id_type -> Text,
        name -> Text,
        publisher_id -> Text,
        url -> Text,
        thumbnail_url -> Nullable<Text>,
        presentation_code -> Text,
        presentation_label -> Text,
        pedagogical_types -> Text,
        document_types -> Text,
        education_levels -> Text,
        teaching_domains -> Text,
        tech_distributor_id -> Text,
        tech_validator_id -> Text,
        source_label -> Text,
        source_label_url -> Nullable<Text>,
        description -> Nullable<Text>,
        family_parent_id -> Nullable<Text>,
        service_provider_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    release_contracts (id) {
        id -> BigInt,
        service_provider_id -> BigInt,
        version -> Integer,
        attributes -> Text,
        purposes -> Text,
        data_categories -> Text,
        retention_days -> Integer,
        status -> Text,
        approved_by -> Nullable<Text>,
        approved_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        legal_basis -> Text,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> BigInt,
        distributor_id -> Text,
        external_id -> Text,
        comment -> Nullable<Text>,
        resource_id -> Text,
        resource_id_type -> Text,
        resource_label -> Text,
        valid_from -> Timestamp,
        valid_until -> Nullable<Timestamp>,
        end_school_year -> Nullable<Text>,
        nature_codes -> Nullable<Text>,
        category -> Text,
        assignment_type -> Text,
        licences_pupil -> Nullable<BigInt>,
        licences_teacher -> Nullable<BigInt>,
        licences_librarian -> Nullable<BigInt>,
        licences_other_staff -> Nullable<BigInt>,
        licences_global -> Nullable<BigInt>,
        project_code -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    subscription_publics (subscription_id, public) {
        subscription_id -> BigInt,
        public -> Text,
    }
}

diesel::table! {
    subscription_establishments (subscription_id, uai) {
        subscription_id -> BigInt,
        uai -> Text,
    }
}

diesel::table! {
    licence_pools (subscription_id, uai, public) {
        subscription_id -> BigInt,
        uai -> Text,
        public -> Text,
        total -> Nullable<BigInt>,
        used -> BigInt,
    }
}

diesel::table! {
    assignments (id) {
        id -> BigInt,
        subscription_id -> BigInt,
        uai -> Text,
        target_kind -> Text,
        target_ref -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revoke_reason -> Nullable<Text>,
    }
}

diesel::table! {
    assignment_seats (id) {
        id -> BigInt,
        assignment_id -> BigInt,
        subscription_id -> BigInt,
        uai -> Text,
        person_id -> BigInt,
        public -> Text,
        status -> Text,
        granted_at -> Timestamp,
        released_at -> Nullable<Timestamp>,
        release_reason -> Nullable<Text>,
    }
}

diesel::table! {
    assignment_history (id) {
        id -> BigInt,
        uai -> Text,
        subscription_id -> Nullable<BigInt>,
        assignment_id -> Nullable<BigInt>,
        action -> Text,
        actor -> Text,
        at -> Timestamp,
        details -> Text,
        undone_at -> Nullable<Timestamp>,
        undone_by -> Nullable<Text>,
    }
}

// Migration 2026-11-25-000005_ledger.
diesel::table! {
    school_wide_opt_outs (subscription_id, uai, public) {
        subscription_id -> BigInt,
        uai -> Text,
        public -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    school_wide_access (uai, public, subscription_id) {
        uai -> Text,
        public -> Text,
        subscription_id -> BigInt,
    }
}

diesel::table! {
    assignment_exclusions (assignment_id, person_id) {
        assignment_id -> BigInt,
        person_id -> BigInt,
        history_id -> BigInt,
    }
}

diesel::table! {
    identity_providers (ent_id) {
        ent_id -> Text,
        entity_id -> Text,
        sso_url -> Text,
        certificates -> Text,
        metadata_xml -> Text,
        metadata_url -> Nullable<Text>,
        refreshed_at -> Timestamp,
        want_authn_requests_signed -> Bool,
    }
}

diesel::table! {
    saml_requests (id) {
        id -> Text,
        ent_id -> Text,
        relay -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    saml_replay_cache (assertion_id) {
        assertion_id -> Text,
        issuer -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    web_sessions (id) {
        id -> Text,
        kind -> Text,
        ent_id -> Text,
        gar_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (seq) {
        seq -> BigInt,
        at -> Timestamp,
        kind -> Text,
        actor -> Text,
        ent_id -> Nullable<Text>,
        uai -> Nullable<Text>,
        subject -> Nullable<Text>,
        details -> Text,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::table! {
    audit_checkpoints (id) {
        id -> BigInt,
        kind -> Text,
        last_seq -> BigInt,
        hash -> Text,
        signature -> Text,
        key_id -> Text,
        at -> Timestamp,
        kept_events -> Nullable<BigInt>,
        kept_digest -> Nullable<Text>,
    }
}

diesel::table! {
    auditor_certificates (id) {
        id -> BigInt,
        auditor -> Text,
        fingerprint -> Text,
        subject -> Text,
        not_after -> Timestamp,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_leases (name) {
        name -> Text,
        holder -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    /// Web origins allowed to call the public médiacentre listing for an ENT project (CORS).
    ent_widget_origins (ent_id, origin) {
        ent_id -> Text,
        origin -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(client_certificates -> ent_projects (ent_id));
diesel::joinable!(client_certificates -> distributors (distributor_id));
diesel::joinable!(ent_widget_origins -> ent_projects (ent_id));
diesel::joinable!(establishments -> ent_projects (ent_id));
diesel::joinable!(persons -> ent_projects (ent_id));
diesel::joinable!(person_establishments -> persons (person_id));
diesel::joinable!(person_establishments -> establishments (uai));
diesel::joinable!(person_profiles -> persons (person_id));
diesel::joinable!(person_profiles -> establishments (uai));
diesel::joinable!(teacher_posts -> persons (person_id));
diesel::joinable!(teacher_posts -> establishments (uai));
diesel::joinable!(mefs -> establishments (uai));
diesel::joinable!(subjects -> establishments (uai));
diesel::joinable!(school_groups -> establishments (uai));
diesel::joinable!(group_divisions -> school_groups (group_id));
diesel::joinable!(person_groups -> persons (person_id));
diesel::joinable!(person_groups -> school_groups (group_id));
diesel::joinable!(teacher_group_subjects -> persons (person_id));
diesel::joinable!(teacher_group_subjects -> school_groups (group_id));
diesel::joinable!(person_mefs -> persons (person_id));
diesel::joinable!(person_mefs -> establishments (uai));
diesel::joinable!(person_mefstat4 -> persons (person_id));
diesel::joinable!(person_mefstat4 -> establishments (uai));
diesel::joinable!(pupil_subjects -> persons (person_id));
diesel::joinable!(pupil_subjects -> establishments (uai));
diesel::joinable!(assignment_managers -> ent_projects (ent_id));
diesel::joinable!(assignment_manager_establishments -> assignment_managers (manager_id));
diesel::joinable!(assignment_manager_establishments -> establishments (uai));
diesel::joinable!(feed_imports -> ent_projects (ent_id));
diesel::joinable!(person_feed_digests -> persons (person_id));
diesel::joinable!(feed_held_files -> feed_imports (import_id));
diesel::joinable!(service_providers -> publishers (publisher_id));
diesel::joinable!(resources -> publishers (publisher_id));
diesel::joinable!(resources -> service_providers (service_provider_id));
diesel::joinable!(release_contracts -> service_providers (service_provider_id));
diesel::joinable!(subscriptions -> distributors (distributor_id));
diesel::joinable!(subscription_publics -> subscriptions (subscription_id));
diesel::joinable!(subscription_establishments -> subscriptions (subscription_id));
diesel::joinable!(subscription_establishments -> establishments (uai));
diesel::joinable!(licence_pools -> subscriptions (subscription_id));
diesel::joinable!(licence_pools -> establishments (uai));
diesel::joinable!(assignments -> subscriptions (subscription_id));
diesel::joinable!(assignments -> establishments (uai));
diesel::joinable!(assignment_seats -> assignments (assignment_id));
diesel::joinable!(assignment_seats -> subscriptions (subscription_id));
diesel::joinable!(assignment_seats -> establishments (uai));
diesel::joinable!(assignment_seats -> persons (person_id));
diesel::joinable!(assignment_history -> establishments (uai));
diesel::joinable!(assignment_history -> subscriptions (subscription_id));
diesel::joinable!(assignment_history -> assignments (assignment_id));
diesel::joinable!(school_wide_opt_outs -> subscriptions (subscription_id));
diesel::joinable!(school_wide_access -> subscriptions (subscription_id));
diesel::joinable!(assignment_exclusions -> assignments (assignment_id));
diesel::joinable!(assignment_exclusions -> persons (person_id));
diesel::joinable!(identity_providers -> ent_projects (ent_id));
diesel::joinable!(saml_requests -> ent_projects (ent_id));
diesel::joinable!(web_sessions -> ent_projects (ent_id));

diesel::allow_tables_to_appear_in_same_query!(
    ent_projects,
    distributors,
    publishers,
    client_certificates,
    establishments,
    persons,
    person_establishments,
    person_profiles,
    teacher_posts,
    mefs,
    subjects,
    school_groups,
    group_divisions,
    person_groups,
    teacher_group_subjects,
    person_mefs,
    person_mefstat4,
    pupil_subjects,
    assignment_managers,
    assignment_manager_establishments,
    feed_imports,
    person_feed_digests,
    feed_held_files,
    service_providers,
    resources,
    release_contracts,
    subscriptions,
    subscription_publics,
    subscription_establishments,
    licence_pools,
    assignments,
    assignment_seats,
    assignment_history,
    school_wide_opt_outs,
    school_wide_access,
    assignment_exclusions,
    identity_providers,
    saml_requests,
    saml_replay_cache,
    web_sessions,
    audit_events,
    audit_checkpoints,
    job_leases,
    auditor_certificates,
    ent_widget_origins,
);
