-- Sign-on flow: release contracts name their legal basis; a service provider may take responses
-- where only the Assertion is signed (one RSA signature per launch instead of two).

-- The legal basis of the processing a contract approves (e.g. "mission d'intérêt public, RGPD 6.1.e").
ALTER TABLE release_contracts ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '';

-- Sign the Response as well as the Assertion (the default); false: the Assertion only, the
-- GAR-compatible minimum most service providers accept.
ALTER TABLE service_providers ADD COLUMN sign_response BOOLEAN NOT NULL DEFAULT TRUE;

-- At most one approved version per service provider; the launch path reads it by this index.
CREATE INDEX release_contracts_status ON release_contracts (service_provider_id, status);
CREATE INDEX service_providers_publisher ON service_providers (publisher_id);
CREATE INDEX resources_service_provider ON resources (service_provider_id);
