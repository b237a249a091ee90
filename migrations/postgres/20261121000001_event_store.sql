-- The event store: every business change is one row, appended and never updated.
-- Column names and types follow postgres-es, which reads streams and snapshots from
-- these tables; strata adds a global order that subscribers (projectors, policies) read.
CREATE TABLE events
(
    -- Position in the global log. An identity column: concurrent writers never collide,
    -- but they may commit out of position order, so a subscriber must not read past a
    -- transaction that can still commit (see transaction_id).
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    -- The aggregate the event belongs to: 'Order', 'Payment', 'Delivery', 'Booking',
    -- 'Confirm' or 'Notification'.
    aggregate_type  text        NOT NULL,
    -- The aggregate's id (a UUID in text form, as cqrs-es passes it).
    aggregate_id    text        NOT NULL,
    -- 1, 2, 3… within one stream. The primary key on (type, id, sequence) is the
    -- optimistic concurrency check: two writers deciding on the same version collide here.
    sequence        bigint      NOT NULL CHECK (sequence >= 1),
    -- The stored event type name, e.g. 'OrderPlaced'; a contract, independent of Rust names.
    event_type      text        NOT NULL,
    -- The version of the payload's shape, e.g. '1.0'; an upcaster handles old versions.
    event_version   text        NOT NULL,
    -- The event itself, as JSON.
    payload         jsonb       NOT NULL,
    -- eventId, correlationId, causationId and the command that caused it.
    metadata        jsonb       NOT NULL,
    -- The id of the writing transaction. Subscribers read only events whose transaction
    -- is older than every transaction still running (pg_snapshot_xmin), ordered by
    -- (transaction_id, global_position): that order can no longer change.
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- When the event was appended (the database clock).
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

-- Lookups by global position (reading the log from a checkpoint, audit).
CREATE UNIQUE INDEX events_global_position ON events (global_position);

-- The latest snapshot of a long stream, so loading it reads only the events after it.
CREATE TABLE snapshots
(
    aggregate_type   text   NOT NULL,
    aggregate_id     text   NOT NULL,
    -- The stream sequence the snapshot includes.
    last_sequence    bigint NOT NULL CHECK (last_sequence >= 0),
    -- How many snapshots this stream has had (cqrs-es bookkeeping).
    current_snapshot bigint NOT NULL CHECK (current_snapshot >= 0),
    -- The aggregate's state as JSON.
    payload          jsonb  NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);
