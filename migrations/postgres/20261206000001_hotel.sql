-- The hotel context (SPEC §2 "Hotel context", §3 roomList and hotelBookingList): the
-- rooms' time slots, its views and the mypage's stays and hosting, and what its room
-- policy remembers. Views as in 20261122000001_views.sql: built from the log alone,
-- each row with position and updated_at, ids and times as text.

-- btree_gist lets one exclusion constraint mix equality (room) and overlap (nights).
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- The time-slot guard's table for hotel rooms: one row per active stay, its nights as
-- [startDate, endDate) at midnight UTC. The database refuses two overlapping active
-- stays of one room, also under concurrent requests (23P01).
CREATE TABLE hotel_room_slots
(
    -- The HotelBooking's id.
    holder_id   uuid      PRIMARY KEY,
    -- The HotelRoom's id.
    resource_id uuid      NOT NULL,
    period      tstzrange NOT NULL,
    EXCLUDE USING gist (resource_id WITH =, period WITH &&)
);

-- roomList: one row per hotel room.
CREATE TABLE room_list
(
    -- The HotelRoom aggregate's id.
    room_id       text   PRIMARY KEY,
    host_id       text   NOT NULL,
    name          text   NOT NULL,
    -- The price per night in minor units.
    price         bigint NOT NULL,
    room_status   text   NOT NULL CHECK (room_status IN ('ACTIVE', 'DELETED')),
    registered_at text   NOT NULL,
    -- YYYY-MM-DD, once deleted.
    deleted_on    text,
    position      bigint NOT NULL,
    updated_at    text   NOT NULL
);

-- A host's rooms, in room_id (keyset) order.
CREATE INDEX room_list_host ON room_list (host_id, room_id);

-- hotelBookingList: one row per stay, with its payment.
CREATE TABLE hotel_booking_list
(
    -- The HotelBooking aggregate's id.
    booking_id     text   PRIMARY KEY,
    room_id        text   NOT NULL,
    -- The room's name and host when booked.
    room_name      text   NOT NULL,
    host_id        text   NOT NULL,
    guest_id       text   NOT NULL,
    -- The nights [start_date, end_date), YYYY-MM-DD: text order is date order.
    start_date     text   NOT NULL,
    end_date       text   NOT NULL,
    nights         bigint NOT NULL,
    -- price × nights.
    amount         bigint NOT NULL,
    booking_status text   NOT NULL CHECK (booking_status IN ('BOOKED', 'CANCELLED')),
    -- GUEST, HOST, ADMIN or ROOM_DELETED, once cancelled.
    cancelled_by   text,
    -- The HotelPayment aggregate's id, from RoomBooked.
    payment_id     text   NOT NULL,
    -- From the payment's events, committed with RoomBooked.
    pay_method     text,
    payment_status text   CHECK (payment_status IN ('APPROVED', 'CANCELLED')),
    booked_at      text   NOT NULL,
    position       bigint NOT NULL,
    updated_at     text   NOT NULL
);

-- A guest's stays, a host's, a room's, by status, in booking_id (keyset) order.
CREATE INDEX hotel_booking_list_guest ON hotel_booking_list (guest_id, booking_id);
CREATE INDEX hotel_booking_list_host ON hotel_booking_list (host_id, booking_id);
CREATE INDEX hotel_booking_list_room ON hotel_booking_list (room_id, booking_id);
CREATE INDEX hotel_booking_list_status ON hotel_booking_list (booking_status, booking_id);
-- A room's taken nights (free-room search, bookedRanges).
CREATE INDEX hotel_booking_list_nights ON hotel_booking_list (room_id, start_date, end_date)
    WHERE booking_status = 'BOOKED';

-- The mypage's stays (user_id is the guest_id) and hosting (user_id is the host_id):
-- rows as in hotel_booking_list.
CREATE TABLE mypage_stays
(
    user_id        text   NOT NULL,
    booking_id     text   PRIMARY KEY,
    room_id        text   NOT NULL,
    room_name      text   NOT NULL,
    host_id        text   NOT NULL,
    guest_id       text   NOT NULL,
    start_date     text   NOT NULL,
    end_date       text   NOT NULL,
    nights         bigint NOT NULL,
    amount         bigint NOT NULL,
    booking_status text   NOT NULL,
    cancelled_by   text,
    payment_id     text   NOT NULL,
    pay_method     text,
    payment_status text,
    booked_at      text   NOT NULL,
    position       bigint NOT NULL,
    updated_at     text   NOT NULL
);

CREATE INDEX mypage_stays_user ON mypage_stays (user_id, booking_id);

CREATE TABLE mypage_hosting
(
    user_id        text   NOT NULL,
    booking_id     text   PRIMARY KEY,
    room_id        text   NOT NULL,
    room_name      text   NOT NULL,
    host_id        text   NOT NULL,
    guest_id       text   NOT NULL,
    start_date     text   NOT NULL,
    end_date       text   NOT NULL,
    nights         bigint NOT NULL,
    amount         bigint NOT NULL,
    booking_status text   NOT NULL,
    cancelled_by   text,
    payment_id     text   NOT NULL,
    pay_method     text,
    payment_status text,
    booked_at      text   NOT NULL,
    position       bigint NOT NULL,
    updated_at     text   NOT NULL
);

CREATE INDEX mypage_hosting_user ON mypage_hosting (user_id, booking_id);

-- What the hotel policy remembers, each row written once, so a redelivered event finds
-- the same: every stay booked, by room and first night …
CREATE TABLE policy_hotel_stays
(
    booking_id text PRIMARY KEY,
    room_id    text NOT NULL,
    start_date text NOT NULL
);

CREATE INDEX policy_hotel_stays_room ON policy_hotel_stays (room_id, start_date);

-- … and every room deleted, from the day it was: a stay booked after it (one that
-- raced the deletion) is cancelled when the policy meets it.
CREATE TABLE policy_hotel_deleted_rooms
(
    room_id    text PRIMARY KEY,
    deleted_on text NOT NULL
);
