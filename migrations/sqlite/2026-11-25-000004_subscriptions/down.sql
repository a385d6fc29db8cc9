DROP INDEX establishments_nature;
DROP INDEX subscriptions_distributor_project;
DROP INDEX subscriptions_distributor_updated;
ALTER TABLE subscriptions DROP COLUMN ends_at;
