-- Abonnement web service: the effective end of each subscription, and the indexes its search,
-- its allocation counts and the expansion of codeNatureUAI need.

-- finValidite, or 31 August 23:59:59 of the last year of anneeFinValidite: one column to filter,
-- sort and decide "in force" on, whichever of the two the distributor gave.
ALTER TABLE subscriptions ADD COLUMN ends_at TIMESTAMP;
UPDATE subscriptions SET ends_at = COALESCE(valid_until, substr(end_school_year, 6, 4) || '-08-31 23:59:59');

-- Searches are always one distributor's. Pages by idAbonnement of live subscriptions use the
-- live-only unique index (distributor_id, external_id); the others sort what the filters select.
CREATE INDEX subscriptions_distributor_updated ON subscriptions (distributor_id, updated_at);
CREATE INDEX subscriptions_distributor_project ON subscriptions (distributor_id, project_code);

-- codeNatureUAI subscriptions are expanded into the schools of those natures.
CREATE INDEX establishments_nature ON establishments (nature_code);
