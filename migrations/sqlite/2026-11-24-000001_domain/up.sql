-- The whole Sesame domain. Written against the type subset both backends share
-- (TEXT, INTEGER, BIGINT, BOOLEAN, DATE, TIMESTAMP as naive UTC); JSON is stored as TEXT.
-- Licence counts: NULL = absent, -1 = ILLIMITE (see domain::licence).

-- Partners -------------------------------------------------------------------

CREATE TABLE ent_projects (
    id          TEXT PRIMARY KEY,              -- idENT, e.g. "Z0"
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE distributors (
    id          TEXT PRIMARY KEY,              -- idDistributeurCom, SIREN_ISNI
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE publishers (
    id          TEXT PRIMARY KEY,              -- idEditeur, SIREN_ISNI
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- Client certificates allowed on the mutual-TLS listener, each bound to exactly one caller.
CREATE TABLE client_certificates (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint     TEXT NOT NULL UNIQUE,      -- SHA-256 of the leaf DER, lower-case hex
    subject         TEXT NOT NULL,             -- RFC 4514 distinguished name
    ent_id          TEXT REFERENCES ent_projects (id) ON DELETE CASCADE,
    distributor_id  TEXT REFERENCES distributors (id) ON DELETE CASCADE,
    not_after       TIMESTAMP NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    revoked_at      TIMESTAMP,
    CHECK ((ent_id IS NULL) <> (distributor_id IS NULL))
);
CREATE INDEX client_certificates_subject ON client_certificates (subject);

-- Directory (GAR-ENT feed) ---------------------------------------------------

CREATE TABLE establishments (
    uai                    TEXT PRIMARY KEY,   -- GARStructureUAI
    ent_id                 TEXT NOT NULL REFERENCES ent_projects (id),
    name                   TEXT NOT NULL,      -- GARStructureNomCourant
    degree                 INTEGER NOT NULL CHECK (degree IN (1, 2)),
    contract               TEXT,               -- GARStructureContrat
    phone                  TEXT,
    email                  TEXT,
    functional_attachment  TEXT,               -- GAREtablissementStructRattachFctl
    -- National directory attributes served by etablissements.xml.
    nature_code            TEXT,
    nature_label           TEXT,
    type_code              TEXT,
    type_label             TEXT,
    commune_code           TEXT,
    commune_label          TEXT,
    academy_code           TEXT,
    academy_label          TEXT,
    department_code        TEXT,
    department_label       TEXT,
    official_name          TEXT,
    patronym               TEXT,
    postal_code            TEXT,
    locality               TEXT,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);
CREATE INDEX establishments_ent ON establishments (ent_id);

-- Pupils and staff (GAREleve / GAREnseignant), scoped to their ENT project.
CREATE TABLE persons (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    ent_id             TEXT NOT NULL REFERENCES ent_projects (id),
    gar_id             TEXT NOT NULL,          -- GARPersonIdentifiant
    source             TEXT NOT NULL CHECK (source IN ('ELEVE', 'ENSEIGNANT')),
    secondary_id       TEXT,                   -- GARPersonIdSecondaire
    birth_name         TEXT,                   -- GARPersonNomPatro
    last_name          TEXT NOT NULL,          -- GARPersonNom
    first_name         TEXT NOT NULL,          -- GARPersonPrenom
    other_first_names  TEXT NOT NULL,          -- GARPersonAutresPrenoms, JSON array
    civility           TEXT,                   -- GARPersonCivilite
    attachment_uai     TEXT,                   -- GARPersonStructRattach
    birth_date         DATE,                   -- GARPersonDateNaissance
    mails              TEXT NOT NULL,          -- GARPersonMail, JSON array
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    removed_at         TIMESTAMP,              -- gone from the directory, purged after a grace period
    UNIQUE (ent_id, gar_id)
);

CREATE TABLE person_establishments (         -- GARPersonEtab
    person_id  BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    uai        TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    PRIMARY KEY (person_id, uai)
);
CREATE INDEX person_establishments_uai ON person_establishments (uai);

CREATE TABLE person_profiles (               -- GARPersonProfils, per UAI
    person_id  BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    uai        TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    profile    TEXT NOT NULL,                -- canonical spelling, e.g. National_elv
    PRIMARY KEY (person_id, uai, profile)
);
CREATE INDEX person_profiles_uai ON person_profiles (uai, profile);

-- GAREnsDisciplinesPostes (2nd degree) and GAREnsSpecialitesPostes (1st degree).
CREATE TABLE teacher_posts (
    person_id  BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    uai        TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('DISCIPLINE', 'SPECIALITE')),
    PRIMARY KEY (person_id, uai, code)
);

CREATE TABLE mefs (                          -- GARMEF
    uai         TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    label       TEXT NOT NULL,
    attachment  TEXT,                        -- GARMEFRattach
    stat11      TEXT,                        -- GARMEFSTAT11
    PRIMARY KEY (uai, code)
);

CREATE TABLE subjects (                      -- GARMatiere
    uai    TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    code   TEXT NOT NULL,
    label  TEXT NOT NULL,
    PRIMARY KEY (uai, code)
);

-- Classes (DIVISION) and teaching groups (GROUPE): GARGroupe.
CREATE TABLE school_groups (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    uai     TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    code    TEXT NOT NULL,
    label   TEXT NOT NULL,
    status  TEXT NOT NULL CHECK (status IN ('DIVISION', 'GROUPE')),
    UNIQUE (uai, code)
);

CREATE TABLE group_divisions (               -- GARGroupeDivAppartenance
    group_id       BIGINT NOT NULL REFERENCES school_groups (id) ON DELETE CASCADE,
    division_code  TEXT NOT NULL,
    PRIMARY KEY (group_id, division_code)
);

CREATE TABLE person_groups (                 -- GARPersonGroupe
    person_id  BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    group_id   BIGINT NOT NULL REFERENCES school_groups (id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, group_id)
);
CREATE INDEX person_groups_group ON person_groups (group_id);

-- GAREnsClasseMatiere (group is a DIVISION) and GAREnsGroupeMatiere (group is a GROUPE).
CREATE TABLE teacher_group_subjects (
    person_id     BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    group_id      BIGINT NOT NULL REFERENCES school_groups (id) ON DELETE CASCADE,
    subject_code  TEXT NOT NULL,
    PRIMARY KEY (person_id, group_id, subject_code)
);

CREATE TABLE person_mefs (                   -- GARPersonMEF (2nd degree)
    person_id  BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    uai        TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    mef_code   TEXT NOT NULL,
    PRIMARY KEY (person_id, uai, mef_code)
);

CREATE TABLE person_mefstat4 (               -- GARPersonMEFSTAT4 (1st degree)
    person_id  BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    uai        TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    code       TEXT NOT NULL,
    PRIMARY KEY (person_id, uai, code)
);

CREATE TABLE pupil_subjects (                -- GAREleveEnseignement
    person_id     BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    uai           TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    subject_code  TEXT NOT NULL,
    PRIMARY KEY (person_id, uai, subject_code)
);

-- Responsables d'affectation (GARRespAff).
CREATE TABLE assignment_managers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ent_id      TEXT NOT NULL REFERENCES ent_projects (id),
    gar_id      TEXT NOT NULL,
    last_name   TEXT NOT NULL,
    first_name  TEXT NOT NULL,
    civility    TEXT,
    mails       TEXT NOT NULL,                 -- JSON array, at least one
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (ent_id, gar_id)
);

CREATE TABLE assignment_manager_establishments (   -- GARRespAffEtab
    manager_id  BIGINT NOT NULL REFERENCES assignment_managers (id) ON DELETE CASCADE,
    uai         TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    PRIMARY KEY (manager_id, uai)
);

CREATE TABLE feed_imports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ent_id       TEXT NOT NULL REFERENCES ent_projects (id),
    degree       INTEGER NOT NULL CHECK (degree IN (1, 2)),
    source       TEXT NOT NULL,                -- bundle or file names
    status       TEXT NOT NULL CHECK (status IN ('RUNNING', 'APPLIED', 'HELD', 'REJECTED', 'DISCARDED')),
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    summary      TEXT NOT NULL,                -- JSON counts per entity type
    report       TEXT NOT NULL                 -- JSON rejected elements with reasons
);
CREATE INDEX feed_imports_ent ON feed_imports (ent_id, started_at);

-- Catalogue ------------------------------------------------------------------

-- A publisher's SAML service provider; a resource may have its own, else its publisher's.
CREATE TABLE service_providers (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    publisher_id          TEXT NOT NULL REFERENCES publishers (id),
    entity_id             TEXT NOT NULL UNIQUE,
    acs_url               TEXT NOT NULL,
    certificates          TEXT NOT NULL,       -- PEM, one or more
    signature_algorithm   TEXT NOT NULL CHECK (signature_algorithm IN ('rsa-sha256', 'ecdsa-sha256')),
    requested_attributes  TEXT NOT NULL,       -- JSON array of attribute names
    metadata_xml          TEXT,
    metadata_url          TEXT,
    refreshed_at          TIMESTAMP,
    created_at            TIMESTAMP NOT NULL
);

CREATE TABLE resources (
    id                   TEXT PRIMARY KEY,     -- idRessource (ARK)
    id_type              TEXT NOT NULL,        -- idType / typeIdRessource
    name                 TEXT NOT NULL,        -- nomRessource
    publisher_id         TEXT NOT NULL REFERENCES publishers (id),
    url                  TEXT NOT NULL,        -- the resource's own URL (SAML RelayState)
    thumbnail_url        TEXT,                 -- urlVignette
    presentation_code    TEXT NOT NULL,        -- typePresentation.code
    presentation_label   TEXT NOT NULL,        -- typePresentation.nom
    pedagogical_types    TEXT NOT NULL,        -- typePedagogique, JSON [{uri, nom}]
    document_types       TEXT NOT NULL,        -- typologieDocument
    education_levels     TEXT NOT NULL,        -- niveauEducatif
    teaching_domains     TEXT NOT NULL,        -- domaineEnseignement
    tech_distributor_id  TEXT NOT NULL,        -- distributeurTech
    tech_validator_id    TEXT NOT NULL,        -- validateurTech
    source_label         TEXT NOT NULL,        -- nomSourceEtiquetteGar
    source_label_url     TEXT,                 -- urlSourceEtiquette
    description          TEXT,
    family_parent_id     TEXT REFERENCES resources (id),
    service_provider_id  BIGINT REFERENCES service_providers (id),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX resources_publisher ON resources (publisher_id);

-- Versioned, approved list of what a service provider may receive.
CREATE TABLE release_contracts (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    service_provider_id  BIGINT NOT NULL REFERENCES service_providers (id),
    version              INTEGER NOT NULL,
    attributes           TEXT NOT NULL,        -- JSON array of attribute names
    purposes             TEXT NOT NULL,
    data_categories      TEXT NOT NULL,
    retention_days       INTEGER NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('DRAFT', 'APPROVED', 'RETIRED')),
    approved_by          TEXT,
    approved_at          TIMESTAMP,
    created_at           TIMESTAMP NOT NULL,
    UNIQUE (service_provider_id, version)
);

-- Subscriptions and the licence ledger --------------------------------------

CREATE TABLE subscriptions (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    distributor_id        TEXT NOT NULL REFERENCES distributors (id),
    external_id           TEXT NOT NULL,       -- idAbonnement
    comment               TEXT,                -- commentaireAbonnement
    resource_id           TEXT NOT NULL,       -- idRessource (may precede its notice)
    resource_id_type      TEXT NOT NULL,       -- typeIdRessource
    resource_label        TEXT NOT NULL,       -- libelleRessource
    valid_from            TIMESTAMP NOT NULL,  -- debutValidite
    valid_until           TIMESTAMP,           -- finValidite
    end_school_year       TEXT,                -- anneeFinValidite, YYYY-YYYY
    nature_codes          TEXT,                -- codeNatureUAI, comma-separated
    category              TEXT NOT NULL,       -- categorieAffectation
    assignment_type       TEXT NOT NULL CHECK (assignment_type IN ('INDIV', 'ETABL')),
    licences_pupil        BIGINT,              -- nbLicenceEleve
    licences_teacher      BIGINT,              -- nbLicenceEnseignant
    licences_librarian    BIGINT,              -- nbLicenceProfDoc
    licences_other_staff  BIGINT,              -- nbLicenceAutrePersonnel
    licences_global       BIGINT,              -- nbLicenceGlobale
    project_code          TEXT,                -- codeProjetRessource
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    deleted_at            TIMESTAMP            -- kept as history, listed with aboSuppr=true
);
-- A deleted subscription frees its idAbonnement for reuse.
CREATE UNIQUE INDEX subscriptions_live_external_id ON subscriptions (distributor_id, external_id) WHERE deleted_at IS NULL;
CREATE INDEX subscriptions_resource ON subscriptions (resource_id);

CREATE TABLE subscription_publics (         -- publicCible
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    public           TEXT NOT NULL CHECK (public IN ('ELEVE', 'ENSEIGNANT', 'DOCUMENTALISTE', 'AUTRE PERSONNEL')),
    PRIMARY KEY (subscription_id, public)
);

CREATE TABLE subscription_establishments (  -- uaiEtab, or expanded from codeNatureUAI
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    uai              TEXT NOT NULL REFERENCES establishments (uai),
    PRIMARY KEY (subscription_id, uai)
);
CREATE INDEX subscription_establishments_uai ON subscription_establishments (uai);

-- Seat counters per subscription, school and public ('GLOBAL' for nbLicenceGlobale).
-- Taking a seat is `UPDATE … SET used = used + 1 WHERE … AND (total IS NULL OR used < total)`.
CREATE TABLE licence_pools (
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    uai              TEXT NOT NULL REFERENCES establishments (uai),
    public           TEXT NOT NULL,
    total            BIGINT,                   -- NULL = ILLIMITE
    used             BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, uai, public)
);

-- A manager's decision: a subscription given to a target population of one school.
CREATE TABLE assignments (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id),
    uai              TEXT NOT NULL REFERENCES establishments (uai),
    target_kind      TEXT NOT NULL CHECK (target_kind IN ('PERSON', 'DIVISION', 'GROUPE', 'DIVISIONS', 'MEF', 'SUBJECT_TEACHERS', 'PROFILE')),
    target_ref       TEXT NOT NULL,            -- person, group or subject code, profile; JSON list for DIVISIONS
    created_by       TEXT NOT NULL,            -- manager's GARPersonIdentifiant
    created_at       TIMESTAMP NOT NULL,
    revoked_at       TIMESTAMP,
    revoked_by       TEXT,
    revoke_reason    TEXT
);
CREATE INDEX assignments_subscription ON assignments (subscription_id, uai);

-- One person holding (or waiting for) a licence through an assignment.
CREATE TABLE assignment_seats (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    assignment_id    BIGINT NOT NULL REFERENCES assignments (id),
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id),
    uai              TEXT NOT NULL REFERENCES establishments (uai),
    person_id        BIGINT NOT NULL REFERENCES persons (id),
    public           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('ACTIVE', 'WAITING', 'RELEASED')),
    granted_at       TIMESTAMP NOT NULL,
    released_at      TIMESTAMP,
    release_reason   TEXT
);
CREATE UNIQUE INDEX assignment_seats_held ON assignment_seats (subscription_id, uai, person_id) WHERE status <> 'RELEASED';
CREATE INDEX assignment_seats_person ON assignment_seats (person_id, status);

CREATE TABLE assignment_history (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    uai              TEXT NOT NULL REFERENCES establishments (uai),
    subscription_id  BIGINT REFERENCES subscriptions (id),
    assignment_id    BIGINT REFERENCES assignments (id),
    action           TEXT NOT NULL,
    actor            TEXT NOT NULL,
    at               TIMESTAMP NOT NULL,
    details          TEXT NOT NULL,            -- JSON
    undone_at        TIMESTAMP,
    undone_by        TEXT
);
CREATE INDEX assignment_history_uai ON assignment_history (uai, at);

-- Single sign-on -------------------------------------------------------------

CREATE TABLE identity_providers (           -- an ENT project's SAML IdP
    ent_id        TEXT PRIMARY KEY REFERENCES ent_projects (id) ON DELETE CASCADE,
    entity_id     TEXT NOT NULL UNIQUE,
    sso_url       TEXT NOT NULL,
    certificates  TEXT NOT NULL,               -- PEM, one or more
    metadata_xml  TEXT NOT NULL,
    metadata_url  TEXT,
    refreshed_at  TIMESTAMP NOT NULL
);

-- AuthnRequests we sent, so a Response's InResponseTo is checked on any node.
CREATE TABLE saml_requests (
    id          TEXT PRIMARY KEY,
    ent_id      TEXT NOT NULL REFERENCES ent_projects (id) ON DELETE CASCADE,
    relay       TEXT NOT NULL,                 -- where to resume after sign-on
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);

-- Assertion ids already consumed, shared by every node (replay protection).
CREATE TABLE saml_replay_cache (
    assertion_id  TEXT PRIMARY KEY,
    issuer        TEXT NOT NULL,
    expires_at    TIMESTAMP NOT NULL
);

CREATE TABLE web_sessions (
    id          TEXT PRIMARY KEY,              -- SHA-256 of the cookie token
    kind        TEXT NOT NULL CHECK (kind IN ('LAUNCH', 'CONSOLE')),
    ent_id      TEXT NOT NULL REFERENCES ent_projects (id) ON DELETE CASCADE,
    gar_id      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);

-- Audit ----------------------------------------------------------------------

-- Append-only, hash-chained: hash = SHA-256(prev_hash ‖ canonical event).
CREATE TABLE audit_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TIMESTAMP NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    ent_id     TEXT,
    uai        TEXT,
    subject    TEXT,                           -- pseudonymous person reference
    details    TEXT NOT NULL,                  -- JSON
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
CREATE INDEX audit_events_kind ON audit_events (kind, at);
CREATE INDEX audit_events_subject ON audit_events (subject);

CREATE TABLE audit_checkpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('CHECKPOINT', 'SEGMENT')),
    last_seq   BIGINT NOT NULL,
    hash       TEXT NOT NULL,
    signature  TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    at         TIMESTAMP NOT NULL
);

-- Operations -----------------------------------------------------------------

-- Lease so one node at a time runs a scheduled job (purge, metadata refresh, drop folders).
CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TIMESTAMP NOT NULL
);
