-- Guards that a single stream cannot enforce, written in the same transaction as the
-- events they guard. SQLite's single writer serialises the overlap check and the insert.

-- One row per active booking, the interval [start, end) in microseconds since the epoch.
CREATE TABLE room_reservations
(
    booking_id TEXT    PRIMARY KEY,
    room_id    INTEGER NOT NULL,
    start_us   INTEGER NOT NULL,
    end_us     INTEGER NOT NULL
) STRICT;

CREATE INDEX room_reservations_room ON room_reservations (room_id, start_us);

-- Responses to commands sent with an Idempotency-Key.
CREATE TABLE idempotency_keys
(
    scope_key    TEXT    PRIMARY KEY,
    request_body TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    location     TEXT,
    response     TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    created_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
