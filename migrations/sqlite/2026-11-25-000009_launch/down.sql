DROP INDEX resources_service_provider;
DROP INDEX service_providers_publisher;
DROP INDEX release_contracts_status;
ALTER TABLE service_providers DROP COLUMN sign_response;
ALTER TABLE release_contracts DROP COLUMN legal_basis;
