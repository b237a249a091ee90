-- The event store on SQLite (the embedded default). Column names follow sqlite-es,
-- which reads streams and snapshots from these tables. See the PostgreSQL migration
-- for the meaning of each column.
CREATE TABLE events
(
    -- Position in the global log. SQLite has a single writer, so positions commit in
    -- order and a subscriber can read by position alone.
    global_position INTEGER PRIMARY KEY AUTOINCREMENT,
    aggregate_type  TEXT    NOT NULL,
    aggregate_id    TEXT    NOT NULL,
    -- 1, 2, 3… within one stream; the unique key below is the optimistic concurrency check.
    sequence        INTEGER NOT NULL CHECK (sequence >= 1),
    event_type      TEXT    NOT NULL,
    event_version   TEXT    NOT NULL,
    -- JSON text.
    payload         TEXT    NOT NULL,
    metadata        TEXT    NOT NULL,
    -- RFC 3339 UTC, set by the writer.
    recorded_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (aggregate_type, aggregate_id, sequence)
) STRICT;

-- The latest snapshot of a long stream.
CREATE TABLE snapshots
(
    aggregate_type   TEXT    NOT NULL,
    aggregate_id     TEXT    NOT NULL,
    last_sequence    INTEGER NOT NULL CHECK (last_sequence >= 0),
    current_snapshot INTEGER NOT NULL CHECK (current_snapshot >= 0),
    payload          TEXT    NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
) STRICT;
