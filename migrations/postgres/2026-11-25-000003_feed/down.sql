DROP INDEX feed_imports_status;
DROP TABLE feed_held_files;
DROP TABLE person_feed_digests;
