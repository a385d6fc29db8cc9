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

-- Who receives each ETABL subscription: (school, public, subscription) for every school and
-- public of an ETABL subscription, less the publics a manager switched off. Kept by triggers,
-- whoever writes subscriptions, so entitlement resolution reads a person's school-wide resources
-- in one index range instead of going through every subscription that covers the school.
CREATE TABLE school_wide_access (
    uai              TEXT NOT NULL REFERENCES establishments (uai) ON DELETE CASCADE,
    public           TEXT NOT NULL,
    subscription_id  BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    PRIMARY KEY (uai, public, subscription_id)
);
INSERT INTO school_wide_access (uai, public, subscription_id)
    SELECT se.uai, sp.public, s.id FROM subscriptions s
    JOIN subscription_establishments se ON se.subscription_id = s.id
    JOIN subscription_publics sp ON sp.subscription_id = s.id
    WHERE s.assignment_type = 'ETABL' AND NOT EXISTS (SELECT 1 FROM school_wide_opt_outs o
        WHERE o.subscription_id = s.id AND o.uai = se.uai AND o.public = sp.public);

-- A school joins an ETABL subscription: its publics reach it, but for switched-off ones.
CREATE TRIGGER school_wide_school_added AFTER INSERT ON subscription_establishments
BEGIN
    INSERT OR IGNORE INTO school_wide_access (uai, public, subscription_id)
        SELECT NEW.uai, sp.public, s.id FROM subscriptions s
        JOIN subscription_publics sp ON sp.subscription_id = s.id
        WHERE s.id = NEW.subscription_id AND s.assignment_type = 'ETABL' AND NOT EXISTS (SELECT 1 FROM school_wide_opt_outs o
            WHERE o.subscription_id = s.id AND o.uai = NEW.uai AND o.public = sp.public);
END;

CREATE TRIGGER school_wide_school_removed AFTER DELETE ON subscription_establishments
BEGIN
    DELETE FROM school_wide_access WHERE uai = OLD.uai AND subscription_id = OLD.subscription_id;
END;

CREATE TRIGGER school_wide_school_changed AFTER UPDATE ON subscription_establishments
BEGIN
    DELETE FROM school_wide_access WHERE uai = OLD.uai AND subscription_id = OLD.subscription_id;
    INSERT OR IGNORE INTO school_wide_access (uai, public, subscription_id)
        SELECT NEW.uai, sp.public, s.id FROM subscriptions s
        JOIN subscription_publics sp ON sp.subscription_id = s.id
        WHERE s.id = NEW.subscription_id AND s.assignment_type = 'ETABL' AND NOT EXISTS (SELECT 1 FROM school_wide_opt_outs o
            WHERE o.subscription_id = s.id AND o.uai = NEW.uai AND o.public = sp.public);
END;

-- A public joins an ETABL subscription: every school of it, but where switched off.
CREATE TRIGGER school_wide_public_added AFTER INSERT ON subscription_publics
BEGIN
    INSERT OR IGNORE INTO school_wide_access (uai, public, subscription_id)
        SELECT se.uai, NEW.public, s.id FROM subscriptions s
        JOIN subscription_establishments se ON se.subscription_id = s.id
        WHERE s.id = NEW.subscription_id AND s.assignment_type = 'ETABL' AND NOT EXISTS (SELECT 1 FROM school_wide_opt_outs o
            WHERE o.subscription_id = s.id AND o.uai = se.uai AND o.public = NEW.public);
END;

CREATE TRIGGER school_wide_public_removed AFTER DELETE ON subscription_publics
BEGIN
    DELETE FROM school_wide_access WHERE public = OLD.public AND subscription_id = OLD.subscription_id;
END;

-- INDIV ↔ ETABL: recomputed for that subscription.
CREATE TRIGGER school_wide_retyped AFTER UPDATE OF assignment_type ON subscriptions
BEGIN
    DELETE FROM school_wide_access WHERE subscription_id = NEW.id;
    INSERT INTO school_wide_access (uai, public, subscription_id)
        SELECT se.uai, sp.public, NEW.id FROM subscription_establishments se
        JOIN subscription_publics sp ON sp.subscription_id = se.subscription_id
        WHERE se.subscription_id = NEW.id AND NEW.assignment_type = 'ETABL' AND NOT EXISTS (SELECT 1 FROM school_wide_opt_outs o
            WHERE o.subscription_id = NEW.id AND o.uai = se.uai AND o.public = sp.public);
END;

-- A manager switches a public off, or back on.
CREATE TRIGGER school_wide_switched_off AFTER INSERT ON school_wide_opt_outs
BEGIN
    DELETE FROM school_wide_access
        WHERE uai = NEW.uai AND public = NEW.public AND subscription_id = NEW.subscription_id;
END;

CREATE TRIGGER school_wide_switched_on AFTER DELETE ON school_wide_opt_outs
BEGIN
    INSERT OR IGNORE INTO school_wide_access (uai, public, subscription_id)
        SELECT se.uai, sp.public, s.id FROM subscriptions s
        JOIN subscription_establishments se ON se.subscription_id = s.id
        JOIN subscription_publics sp ON sp.subscription_id = s.id
        WHERE s.id = OLD.subscription_id AND s.assignment_type = 'ETABL' AND se.uai = OLD.uai AND sp.public = OLD.public;
END;
