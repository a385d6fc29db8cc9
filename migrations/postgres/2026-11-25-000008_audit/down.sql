DROP INDEX web_sessions_person;
DROP INDEX persons_removed;
DROP INDEX audit_events_uai;
DROP TABLE auditor_certificates;
ALTER TABLE audit_checkpoints DROP COLUMN kept_digest;
ALTER TABLE audit_checkpoints DROP COLUMN kept_events;
