-- Subscriptions over the global log: each view (and, later, each policy) remembers
-- the last event it applied, advanced in the same transaction as the view changes.
-- SQLite commits events in position order, so the position alone is the checkpoint.
CREATE TABLE projection_checkpoints
(
    -- The view or policy, e.g. 'orderList'.
    name            TEXT    PRIMARY KEY,
    -- 'view' or 'policy'.
    kind            TEXT    NOT NULL,
    -- Unused on SQLite (kept so both stores share one shape).
    transaction_id  INTEGER NOT NULL DEFAULT 0,
    -- The last applied event's global position.
    position        INTEGER NOT NULL DEFAULT 0,
    -- 'running', or 'failed' after a poison event.
    state           TEXT    NOT NULL DEFAULT 'running',
    failed_position INTEGER,
    last_error      TEXT,
    updated_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
