DROP INDEX establishments_nature;
DROP INDEX subscriptions_distributor_project;
DROP INDEX subscriptions_distributor_updated;
DROP INDEX subscriptions_live_external_id_c;
ALTER TABLE subscriptions DROP COLUMN ends_at;
