-- Subscriptions over the global log: each view (and, later, each policy) remembers
-- the last event it applied. A worker advances its checkpoint in the same transaction
-- as the view changes, so every event takes effect exactly once.

-- Subscribers read in (transaction_id, global_position) order below the snapshot's
-- xmin (see the events table); this index serves that scan.
CREATE INDEX events_transaction_order ON events (transaction_id, global_position);

CREATE TABLE projection_checkpoints
(
    -- The view or policy, e.g. 'orderList'.
    name            text        PRIMARY KEY,
    -- 'view' or 'policy'.
    kind            text        NOT NULL,
    -- The last applied event's writing transaction (xid8 as a number) and position:
    -- together they are the point in the gap-safe order to read after.
    transaction_id  bigint      NOT NULL DEFAULT 0,
    position        bigint      NOT NULL DEFAULT 0,
    -- 'running', or 'failed' when an event could not be applied (a poison event):
    -- the view stops there until an operator fixes the cause and resets the state.
    state           text        NOT NULL DEFAULT 'running',
    -- The failing event's position and the error, while failed.
    failed_position bigint,
    last_error      text,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
