-- An idempotency key keeps a digest of its request instead of the request itself (up
-- to 64 KiB of anything), and a client's keys expire (`strata serve
-- --idempotency-key-ttl-seconds`); a policy's never do: they make it exactly-once.
ALTER TABLE idempotency_keys ADD COLUMN request_digest text;
ALTER TABLE idempotency_keys ADD COLUMN expires boolean NOT NULL DEFAULT true;
-- Keys recorded before this migration: a policy's named its policy and causing event.
UPDATE idempotency_keys SET expires = false
 WHERE scope_key LIKE 'policy %' AND request_body ? 'policy' AND request_body ? 'causationId';
-- Their requests are not kept: a retry of one is answered without comparing bodies,
-- until the key expires.
ALTER TABLE idempotency_keys DROP COLUMN request_body;
CREATE INDEX idempotency_keys_expiring ON idempotency_keys (created_at) WHERE expires;
