-- Abonnement web service: the effective end of each subscription, and the indexes its search,
-- its allocation counts and the expansion of codeNatureUAI need.

-- finValidite, or 31 August 23:59:59 of the last year of anneeFinValidite: one column to filter,
-- sort and decide "in force" on, whichever of the two the distributor gave.
ALTER TABLE subscriptions ADD COLUMN ends_at TIMESTAMP;
UPDATE subscriptions SET ends_at = COALESCE(valid_until, (substr(end_school_year, 6, 4) || '-08-31 23:59:59')::timestamp);

-- Searches are always one distributor's. Pages by idAbonnement of live subscriptions are sorted
-- byte by byte (COLLATE "C", as on SQLite), ties by id, which the live-only unique index (default
-- collation) cannot give in order: this one can, from the index alone (SQLite's indexes end with
-- the row id already).
CREATE INDEX subscriptions_live_external_id_c ON subscriptions (distributor_id, external_id COLLATE "C", id) WHERE deleted_at IS NULL;
CREATE INDEX subscriptions_distributor_updated ON subscriptions (distributor_id, updated_at);
CREATE INDEX subscriptions_distributor_project ON subscriptions (distributor_id, project_code);

-- codeNatureUAI subscriptions are expanded into the schools of those natures.
CREATE INDEX establishments_nature ON establishments (nature_code);
