-- The car-sharing context (SPEC §2 "Car-sharing context", §3 carList and carOrderList):
-- the cars' time slots, its views and the mypage's carOrders. Views as in
-- 20261122000001_views.sql: built from the log alone, each row with position and
-- updated_at, ids and times as text.

-- btree_gist lets one exclusion constraint mix equality (car) and overlap (period).
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The time-slot guard's table for cars: one row per active order, its interval
-- [startDtm, endDtm). The database refuses two overlapping active orders of one car,
-- also under concurrent requests (23P01).
CREATE TABLE car_slots
(
    -- The CarOrder's id.
    holder_id   uuid      PRIMARY KEY,
    -- The Car's id.
    resource_id uuid      NOT NULL,
    period      tstzrange NOT NULL,
    EXCLUDE USING gist (resource_id WITH =, period WITH &&)
);

-- carList: one row per car.
CREATE TABLE car_list
(
    -- The Car aggregate's id.
    car_id         text   PRIMARY KEY,
    name           text   NOT NULL,
    -- In minor units.
    price_per_hour bigint NOT NULL,
    registered_at  text   NOT NULL,
    position       bigint NOT NULL,
    updated_at     text   NOT NULL
);

-- carOrderList: one row per car order, with its payment and reservation.
CREATE TABLE car_order_list
(
    -- The CarOrder aggregate's id.
    order_id           text   PRIMARY KEY,
    user_id            text   NOT NULL,
    car_id             text   NOT NULL,
    -- The car's name when ordered.
    car_name           text   NOT NULL,
    -- The interval [start_dtm, end_dtm), RFC 3339 with microseconds: text order is
    -- time order.
    start_dtm          text   NOT NULL,
    end_dtm            text   NOT NULL,
    -- The duration in hours, rounded up; amount = pricePerHour × hours.
    hours              bigint NOT NULL,
    amount             bigint NOT NULL,
    order_status       text   NOT NULL CHECK (order_status IN ('ORDERED', 'CANCELLED')),
    -- The CarPayment aggregate's id, from CarOrdered.
    payment_id         text   NOT NULL,
    -- From the payment's events, committed with CarOrdered.
    pay_method         text,
    payment_status     text   CHECK (payment_status IN ('APPROVED', 'CANCELLED')),
    -- The CarReservation's id and status, once the reservation policy has acted.
    reservation_id     text,
    reservation_status text   CHECK (reservation_status IN ('CONFIRMED', 'CANCELLED')),
    -- PAID, then RESERVED when confirmed; CANCELLED once cancelled.
    progress           text   NOT NULL CHECK (progress IN ('PAID', 'RESERVED', 'CANCELLED')),
    ordered_at         text   NOT NULL,
    position           bigint NOT NULL,
    updated_at         text   NOT NULL
);

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
    user_id            text   NOT NULL,
    order_id           text   PRIMARY KEY,
    car_id             text   NOT NULL,
    car_name           text   NOT NULL,
    start_dtm          text   NOT NULL,
    end_dtm            text   NOT NULL,
    hours              bigint NOT NULL,
    amount             bigint NOT NULL,
    order_status       text   NOT NULL,
    payment_id         text   NOT NULL,
    pay_method         text,
    payment_status     text,
    reservation_id     text,
    reservation_status text,
    progress           text   NOT NULL,
    ordered_at         text   NOT NULL,
    position           bigint NOT NULL,
    updated_at         text   NOT NULL
);

CREATE INDEX mypage_car_orders_user ON mypage_car_orders (user_id, order_id);
