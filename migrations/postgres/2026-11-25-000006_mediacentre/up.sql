-- Médiacentre widget: the web origins (scheme://host[:port]) from which each ENT project's pages
-- may call the public listing endpoint with a widget token (CORS). Managed with `sesame ent origins`.
CREATE TABLE ent_widget_origins (
    ent_id      TEXT NOT NULL REFERENCES ent_projects (id) ON DELETE CASCADE,
    origin      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (ent_id, origin)
);
-- Preflight requests carry no token: they are answered from the union of all ENTs' origins.
CREATE INDEX ent_widget_origins_origin ON ent_widget_origins (origin);
