-- Policies (sagas): subscribers over the log that issue commands. Each has a row in
-- projection_checkpoints (kind 'policy'); the commands it issues carry idempotency
-- keys derived from the causing event (idempotency_keys), so a redelivered event never
-- appends twice. What else a policy remembers lives here.

-- The shop policy's memory of each order's payment: an order cancelled by its customer,
-- or by its delivery, cancels this payment too.
CREATE TABLE policy_order_payments
(
    order_id   text PRIMARY KEY,
    payment_id text NOT NULL
);

-- Commands a policy issued that the domain refused (cancelling a delivery already
-- cancelled, say): recorded once and skipped, never retried.
CREATE TABLE policy_rejections
(
    -- The command's idempotency key: the policy, the command and the causing event.
    scope_key      text        PRIMARY KEY,
    policy         text        NOT NULL,
    -- The global position of the event that caused the command.
    event_position bigint      NOT NULL,
    -- The domain's machine code and message, as the HTTP API would have answered.
    code           text        NOT NULL,
    message        text        NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
