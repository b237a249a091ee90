-- The hotel context on SQLite: the same tables, columns, checks and indexes as the
-- PostgreSQL migration of the same name, with TEXT and INTEGER columns.

-- The time-slot guard's table for hotel rooms: one row per active stay, its nights as
-- [startDate, endDate) at midnight UTC in microseconds since the epoch. SQLite's
-- single writer serialises the overlap check and the insert.
CREATE TABLE hotel_room_slots
(
    -- The HotelBooking's id.
    holder_id   TEXT    PRIMARY KEY,
    -- The HotelRoom's id.
    resource_id TEXT    NOT NULL,
    start_us    INTEGER NOT NULL,
    end_us      INTEGER NOT NULL
) STRICT;

CREATE INDEX hotel_room_slots_room ON hotel_room_slots (resource_id, start_us);

-- roomList: one row per hotel room.
CREATE TABLE room_list
(
    -- The HotelRoom aggregate's id.
    room_id       TEXT   PRIMARY KEY,
    host_id       TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    -- The price per night in minor units.
    price         INTEGER NOT NULL,
    room_status   TEXT   NOT NULL CHECK (room_status IN ('ACTIVE', 'DELETED')),
    registered_at TEXT   NOT NULL,
    -- YYYY-MM-DD, once deleted.
    deleted_on    TEXT,
    position      INTEGER NOT NULL,
    updated_at    TEXT   NOT NULL
) STRICT;

-- A host's rooms, in room_id (keyset) order.
CREATE INDEX room_list_host ON room_list (host_id, room_id);

-- hotelBookingList: one row per stay, with its payment.
CREATE TABLE hotel_booking_list
(
    -- The HotelBooking aggregate's id.
    booking_id     TEXT   PRIMARY KEY,
    room_id        TEXT   NOT NULL,
    -- The room's name and host when booked.
    room_name      TEXT   NOT NULL,
    host_id        TEXT   NOT NULL,
    guest_id       TEXT   NOT NULL,
    -- The nights [start_date, end_date), YYYY-MM-DD: text order is date order.
    start_date     TEXT   NOT NULL,
    end_date       TEXT   NOT NULL,
    nights         INTEGER NOT NULL,
    -- price × nights.
    amount         INTEGER NOT NULL,
    booking_status TEXT   NOT NULL CHECK (booking_status IN ('BOOKED', 'CANCELLED')),
    -- GUEST, HOST, ADMIN or ROOM_DELETED, once cancelled.
    cancelled_by   TEXT,
    -- The HotelPayment aggregate's id, from RoomBooked.
    payment_id     TEXT   NOT NULL,
    -- From the payment's events, committed with RoomBooked.
    pay_method     TEXT,
    payment_status TEXT   CHECK (payment_status IN ('APPROVED', 'CANCELLED')),
    booked_at      TEXT   NOT NULL,
    position       INTEGER NOT NULL,
    updated_at     TEXT   NOT NULL
) STRICT;

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
    user_id        TEXT   NOT NULL,
    booking_id     TEXT   PRIMARY KEY,
    room_id        TEXT   NOT NULL,
    room_name      TEXT   NOT NULL,
    host_id        TEXT   NOT NULL,
    guest_id       TEXT   NOT NULL,
    start_date     TEXT   NOT NULL,
    end_date       TEXT   NOT NULL,
    nights         INTEGER NOT NULL,
    amount         INTEGER NOT NULL,
    booking_status TEXT   NOT NULL,
    cancelled_by   TEXT,
    payment_id     TEXT   NOT NULL,
    pay_method     TEXT,
    payment_status TEXT,
    booked_at      TEXT   NOT NULL,
    position       INTEGER NOT NULL,
    updated_at     TEXT   NOT NULL
) STRICT;

CREATE INDEX mypage_stays_user ON mypage_stays (user_id, booking_id);

CREATE TABLE mypage_hosting
(
    user_id        TEXT   NOT NULL,
    booking_id     TEXT   PRIMARY KEY,
    room_id        TEXT   NOT NULL,
    room_name      TEXT   NOT NULL,
    host_id        TEXT   NOT NULL,
    guest_id       TEXT   NOT NULL,
    start_date     TEXT   NOT NULL,
    end_date       TEXT   NOT NULL,
    nights         INTEGER NOT NULL,
    amount         INTEGER NOT NULL,
    booking_status TEXT   NOT NULL,
    cancelled_by   TEXT,
    payment_id     TEXT   NOT NULL,
    pay_method     TEXT,
    payment_status TEXT,
    booked_at      TEXT   NOT NULL,
    position       INTEGER NOT NULL,
    updated_at     TEXT   NOT NULL
) STRICT;

CREATE INDEX mypage_hosting_user ON mypage_hosting (user_id, booking_id);

-- What the hotel policy remembers, each row written once, so a redelivered event finds
-- the same: every stay booked, by room and first night …
CREATE TABLE policy_hotel_stays
(
    booking_id TEXT PRIMARY KEY,
    room_id    TEXT NOT NULL,
    start_date TEXT NOT NULL
) STRICT;

CREATE INDEX policy_hotel_stays_room ON policy_hotel_stays (room_id, start_date);

-- … and every room deleted, from the day it was: a stay booked after it (one that
-- raced the deletion) is cancelled when the policy meets it.
CREATE TABLE policy_hotel_deleted_rooms
(
    room_id    TEXT PRIMARY KEY,
    deleted_on TEXT NOT NULL
) STRICT;
