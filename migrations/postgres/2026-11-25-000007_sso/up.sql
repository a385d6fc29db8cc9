-- Sign-on (SAML engine): what the first migration did not already hold.

-- Whether an ENT's identity provider wants Sesame's AuthnRequests signed (its metadata's
-- WantAuthnRequestsSigned).
ALTER TABLE identity_providers ADD COLUMN want_authn_requests_signed BOOLEAN NOT NULL DEFAULT FALSE;

-- Whether a publisher's service provider signs its AuthnRequests (its metadata's
-- AuthnRequestsSigned): unsigned requests claiming to come from it are then refused.
ALTER TABLE service_providers ADD COLUMN authn_requests_signed BOOLEAN NOT NULL DEFAULT FALSE;

-- Expired requests and replay-cache entries are purged by expiry.
CREATE INDEX saml_requests_expiry ON saml_requests (expires_at);
CREATE INDEX saml_replay_cache_expiry ON saml_replay_cache (expires_at);
