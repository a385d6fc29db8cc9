DROP INDEX saml_replay_cache_expiry;
DROP INDEX saml_requests_expiry;
ALTER TABLE service_providers DROP COLUMN authn_requests_signed;
ALTER TABLE identity_providers DROP COLUMN want_authn_requests_signed;
