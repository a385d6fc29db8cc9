-- The licence ledger: school-wide (ETABL) exceptions, withdrawals from live collections, and the
-- indexes entitlement resolution and the ledger read on every request.

-- ETABL grants every person of the school whose public is in publicCible; a row here is a
-- manager's exception: that public is switched off for that school.
CREATE TABLE school_wide_opt_outs (
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    uai              TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    public           TEXT NOT NULL CHECK (public IN ('ELEVE', 'ENSEIGNANT', 'DOCUMENTALISTE', 'AUTRE PERSONNEL')),
    created_by       TEXT NOT NULL,            -- the manager's actor string
    created_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (subscription_id, uai, public)
);

-- A person a manager withdrew from a live collection assignment that still covers them
-- (e.g. one pupil of a class given a licence); undoing the withdrawal deletes the rows.
CREATE TABLE assignment_exclusions (
    assignment_id  BIGINT NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    person_id      BIGINT NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    history_id     BIGINT NOT NULL REFERENCES assignment_history (id),
    PRIMARY KEY (assignment_id, person_id)
);
CREATE INDEX assignment_exclusions_history ON assignment_exclusions (history_id);

-- Resolution: a person's seats in one school.
CREATE INDEX assignment_seats_person_school ON assignment_seats (person_id, uai, status);
-- Ledger: the seats of one subscription in one school, waiting ones first come first served.
CREATE INDEX assignment_seats_pool ON assignment_seats (subscription_id, uai, status);
-- Live collection targets: the pupils of a level, the teachers of a subject.
CREATE INDEX person_mefs_level ON person_mefs (uai, mef_code);
CREATE INDEX person_mefstat4_level ON person_mefstat4 (uai, code);
CREATE INDEX teacher_group_subjects_subject ON teacher_group_subjects (subject_code, group_id);
-- Console history, newest first.
CREATE INDEX assignments_school ON assignments (uai, revoked_at);
-- Expired sessions are purged by expiry.
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
