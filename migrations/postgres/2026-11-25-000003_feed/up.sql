-- Directory feed imports (issue 3).

-- Digest of everything the last applied export said about a person (record and links), so that an
-- unchanged person costs one comparison on re-import. No row: unknown, the person is rewritten.
-- A table of its own rather than a column of persons, so queries loading whole person rows are unaffected.
CREATE TABLE person_feed_digests (
    person_id  BIGINT PRIMARY KEY REFERENCES persons (id) ON DELETE CASCADE,
    digest     BIGINT NOT NULL
);

-- The files of an export held for confirmation (large deletion), kept in the database so that any
-- node can apply it: base64 chunks of at most 1 MiB, deleted when the import is applied or discarded.
CREATE TABLE feed_held_files (
    import_id  BIGINT NOT NULL REFERENCES feed_imports (id) ON DELETE CASCADE,
    file_no    INTEGER NOT NULL,
    chunk_no   INTEGER NOT NULL,
    name       TEXT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (import_id, file_no, chunk_no)
);

CREATE INDEX feed_imports_status ON feed_imports (status);
