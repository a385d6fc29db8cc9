-- Issue 8: signed purge boundaries, auditor certificates, indexes for exports and retention.

-- A SEGMENT boundary also signs the events a retention purge kept at or before it: their number
-- and the SHA-256 of their "seq:hash" lines in order (see src/audit/verify.rs). NULL for CHECKPOINT.
ALTER TABLE audit_checkpoints ADD COLUMN kept_events BIGINT;
ALTER TABLE audit_checkpoints ADD COLUMN kept_digest TEXT;

-- Certificates of auditors (data-protection officer, CNIL) allowed on the mutual-TLS listener's
-- /v1/audit routes. Kept apart from client_certificates, whose rows each belong to one ENT project
-- or distributor: an auditor is neither, and sees every tenant.
CREATE TABLE auditor_certificates (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    auditor      TEXT NOT NULL,                -- a name such as "dpo-academie"
    fingerprint  TEXT NOT NULL UNIQUE,         -- SHA-256 of the leaf DER, lower-case hex
    subject      TEXT NOT NULL,                -- RFC 4514 distinguished name
    not_after    TIMESTAMP NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP
);
CREATE INDEX auditor_certificates_subject ON auditor_certificates (subject);

-- Per-establishment activity reports read one school's events over a period.
CREATE INDEX audit_events_uai ON audit_events (uai, at);
-- The retention job finds people removed from the directory without scanning everyone.
CREATE INDEX persons_removed ON persons (removed_at) WHERE removed_at IS NOT NULL;
-- Erasure and the data-subject export find a person's sessions.
CREATE INDEX web_sessions_person ON web_sessions (ent_id, gar_id);
