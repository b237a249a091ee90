-- Guards that a single stream cannot enforce. Each row is written in the same
-- transaction as the events it guards, so the guard and the events commit together.

-- btree_gist lets one exclusion constraint mix equality (room) and overlap (period).
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- One row per active booking: the database itself refuses two overlapping active
-- bookings of one room, also under concurrent requests (the loser gets 23P01).
CREATE TABLE room_reservations
(
    booking_id uuid      PRIMARY KEY,
    room_id    bigint    NOT NULL,
    -- The half-open interval [useStartDtm, useEndDtm): back-to-back bookings do not overlap.
    period     tstzrange NOT NULL,
    EXCLUDE USING gist (room_id WITH =, period WITH &&)
);

-- Responses to commands sent with an Idempotency-Key, so a retry gets the first
-- response and appends nothing.
CREATE TABLE idempotency_keys
(
    -- The route and the client's key, e.g. 'POST /orders 3f2c…'.
    scope_key    text        PRIMARY KEY,
    -- The first request's body: a retry with a different body is refused.
    request_body jsonb       NOT NULL,
    status       smallint    NOT NULL,
    -- The Location header of a 201, if any.
    location     text,
    response     jsonb       NOT NULL,
    -- The global position of the first request's last event.
    position     bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
