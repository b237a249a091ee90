-- The car-sharing context on SQLite: the same tables, columns, checks and indexes as
-- the PostgreSQL migration of the same name, with TEXT and INTEGER columns.

-- The time-slot guard's table for cars: one row per active order, its interval
-- [startDtm, endDtm) in microseconds since the epoch. SQLite's single writer
-- serialises the overlap check and the insert.
CREATE TABLE car_slots
(
    -- The CarOrder's id.
    holder_id   TEXT    PRIMARY KEY,
    -- The Car's id.
    resource_id TEXT    NOT NULL,
    start_us    INTEGER NOT NULL,
    end_us      INTEGER NOT NULL
) STRICT;

CREATE INDEX car_slots_car ON car_slots (resource_id, start_us);

-- carList: one row per car.
CREATE TABLE car_list
(
    -- The Car aggregate's id.
    car_id         TEXT   PRIMARY KEY,
    name           TEXT   NOT NULL,
    -- In minor units.
    price_per_hour INTEGER NOT NULL,
    registered_at  TEXT   NOT NULL,
    position       INTEGER NOT NULL,
    updated_at     TEXT   NOT NULL
) STRICT;

-- carOrderList: one row per car order, with its payment and reservation.
CREATE TABLE car_order_list
(
    -- The CarOrder aggregate's id.
    order_id           TEXT   PRIMARY KEY,
    user_id            TEXT   NOT NULL,
    car_id             TEXT   NOT NULL,
    -- The car's name when ordered.
    car_name           TEXT   NOT NULL,
    -- The interval [start_dtm, end_dtm), RFC 3339 with microseconds: text order is
    -- time order.
    start_dtm          TEXT   NOT NULL,
    end_dtm            TEXT   NOT NULL,
    -- The duration in hours, rounded up; amount = pricePerHour × hours.
    hours              INTEGER NOT NULL,
    amount             INTEGER NOT NULL,
    order_status       TEXT   NOT NULL CHECK (order_status IN ('ORDERED', 'CANCELLED')),
    -- The CarPayment aggregate's id, from CarOrdered.
    payment_id         TEXT   NOT NULL,
    -- From the payment's events, committed with CarOrdered.
    pay_method         TEXT,
    payment_status     TEXT   CHECK (payment_status IN ('APPROVED', 'CANCELLED')),
    -- The CarReservation's id and status, once the reservation policy has acted.
    reservation_id     TEXT,
    reservation_status TEXT   CHECK (reservation_status IN ('CONFIRMED', 'CANCELLED')),
    -- PAID, then RESERVED when confirmed; CANCELLED once cancelled.
    progress           TEXT   NOT NULL CHECK (progress IN ('PAID', 'RESERVED', 'CANCELLED')),
    ordered_at         TEXT   NOT NULL,
    position           INTEGER NOT NULL,
    updated_at         TEXT   NOT NULL
) STRICT;

-- A user's orders, a car's, by status, in order_id (keyset) order.
CREATE INDEX car_order_list_user ON car_order_list (user_id, order_id);
CREATE INDEX car_order_list_car ON car_order_list (car_id, order_id);
CREATE INDEX car_order_list_status ON car_order_list (order_status, order_id);
-- A car's taken intervals (free-car search, bookedRanges).
CREATE INDEX car_order_list_taken ON car_order_list (car_id, start_dtm, end_dtm)
    WHERE order_status = 'ORDERED';

-- The mypage's carOrders: rows as in car_order_list; user_id is the order's user.
CREATE TABLE mypage_car_orders
(
    user_id            TEXT   NOT NULL,
    order_id           TEXT   PRIMARY KEY,
    car_id             TEXT   NOT NULL,
    car_name           TEXT   NOT NULL,
    start_dtm          TEXT   NOT NULL,
    end_dtm            TEXT   NOT NULL,
    hours              INTEGER NOT NULL,
    amount             INTEGER NOT NULL,
    order_status       TEXT   NOT NULL,
    payment_id         TEXT   NOT NULL,
    pay_method         TEXT,
    payment_status     TEXT,
    reservation_id     TEXT,
    reservation_status TEXT,
    progress           TEXT   NOT NULL,
    ordered_at         TEXT   NOT NULL,
    position           INTEGER NOT NULL,
    updated_at         TEXT   NOT NULL
) STRICT;

CREATE INDEX mypage_car_orders_user ON mypage_car_orders (user_id, order_id);
