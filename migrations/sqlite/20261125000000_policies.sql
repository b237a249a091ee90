-- Policies (sagas): subscribers over the log that issue commands. Each has a row in
-- projection_checkpoints (kind 'policy'); the commands it issues carry idempotency
-- keys derived from the causing event (idempotency_keys), so a redelivered event never
-- appends twice. What else a policy remembers lives here.

-- The shop policy's memory of each order's payment: an order cancelled by its customer,
-- or by its delivery, cancels this payment too.
CREATE TABLE policy_order_payments
(
    order_id   TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL
) STRICT;

-- Commands a policy issued that the domain refused (cancelling a delivery already
-- cancelled, say): recorded once and skipped, never retried.
CREATE TABLE policy_rejections
(
    -- The command's idempotency key: the policy, the command and the causing event.
    scope_key      TEXT    PRIMARY KEY,
    policy         TEXT    NOT NULL,
    -- The global position of the event that caused the command.
    event_position INTEGER NOT NULL,
    -- The domain's machine code and message, as the HTTP API would have answered.
    code           TEXT    NOT NULL,
    message        TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
