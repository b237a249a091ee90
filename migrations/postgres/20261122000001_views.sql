-- The read views (SPEC §3), materialized by the projector from the event log alone: no
-- view reads another view or an aggregate. Every row also records
--   position   - the global position of the last event applied to it; an update runs
--                only WHERE position < the event's, so re-applying an older event is a
--                no-op;
--   updated_at - when that event was recorded.
-- Ids are text (UUIDs as the events carry them); times are text, RFC 3339 UTC with
-- microseconds ('2026-12-01T09:00:00.000000Z': one width, so text order is time order);
-- statuses are the upper-case names of SPEC §2. The read API serves these tables only.

-- orderList: one row per order, with its payment and delivery.
CREATE TABLE order_list
(
    -- The Order aggregate's id.
    order_id        text   PRIMARY KEY,
    -- Who ordered (customerId).
    customer_id     text   NOT NULL,
    -- What was ordered (any Unicode), how many, at what unit price in minor units.
    product         text   NOT NULL,
    qty             bigint NOT NULL,
    price           bigint NOT NULL,
    -- CARD, BANK or POINT.
    pay_method      text   NOT NULL,
    -- PLACED, or CANCELLED once OrderCancelled is applied.
    order_status    text   NOT NULL CHECK (order_status IN ('PLACED', 'CANCELLED')),
    -- CUSTOMER or DELIVERY, once cancelled.
    cancelled_by    text   CHECK (cancelled_by IN ('CUSTOMER', 'DELIVERY')),
    -- The Payment aggregate's id and PAID or CANCELLED, once a payment event applies.
    payment_id      text,
    payment_status  text   CHECK (payment_status IN ('PAID', 'CANCELLED')),
    -- The Delivery aggregate's id and STARTED or CANCELLED, likewise.
    delivery_id     text,
    delivery_status text   CHECK (delivery_status IN ('STARTED', 'CANCELLED')),
    position        bigint NOT NULL,
    updated_at      text   NOT NULL
);

-- A customer's orders, and orders by status, in order_id (keyset) order.
CREATE INDEX order_list_customer ON order_list (customer_id, order_id);
CREATE INDEX order_list_status ON order_list (order_status, order_id);

-- bookingList: one row per booking, with its manager's confirm.
CREATE TABLE booking_list
(
    -- The Booking aggregate's id.
    booking_id      text   PRIMARY KEY,
    -- The room (a positive integer) and the booked half-open period [start, end).
    room_id         bigint NOT NULL,
    use_start_dtm   text   NOT NULL,
    use_end_dtm     text   NOT NULL,
    -- Who booked, and when.
    booking_user_id text   NOT NULL,
    booking_dtm     text   NOT NULL,
    -- CREATED, or CANCELLED once BookingCancelled is applied.
    booking_status  text   NOT NULL CHECK (booking_status IN ('CREATED', 'CANCELLED')),
    -- The Confirm aggregate's id, once ConfirmRequested is applied.
    confirm_id      text,
    -- BOOKED (requested), CONFIRMED, DENIED or DELETED.
    confirm_status  text   CHECK (confirm_status IN ('BOOKED', 'CONFIRMED', 'DENIED', 'DELETED')),
    -- When the manager decided, and who (the manager's id), once decided.
    confirm_dtm     text,
    confirm_user_id text,
    position        bigint NOT NULL,
    updated_at      text   NOT NULL
);

-- A room's bookings, a user's bookings, bookings by confirm status, in booking_id order.
CREATE INDEX booking_list_room ON booking_list (room_id, booking_id);
CREATE INDEX booking_list_user ON booking_list (booking_user_id, booking_id);
CREATE INDEX booking_list_confirm_status ON booking_list (confirm_status, booking_id);

-- notifications: one row per notification sent.
CREATE TABLE notifications
(
    -- The Notification aggregate's id.
    notification_id text   PRIMARY KEY,
    -- To whom, what it said, and why (e.g. 'BookingCreated').
    user_id         text   NOT NULL,
    contents        text   NOT NULL,
    cause           text   NOT NULL,
    -- When it was sent.
    send_dtm        text   NOT NULL,
    -- The correlation id of the request that caused it (NULL if the event had none).
    correlation_id  text,
    position        bigint NOT NULL,
    updated_at      text   NOT NULL
);

-- A user's notifications in notification_id order.
CREATE INDEX notifications_user ON notifications (user_id, notification_id);

-- mypage: one document per user, assembled from the three tables below. Each holds the
-- columns of its view above plus user_id, and is keyed like that view, so payment,
-- delivery and confirm events (which do not name the user) update it by order or
-- booking id.

-- The user's orders: rows as in order_list; user_id is the customer_id.
CREATE TABLE mypage_orders
(
    user_id         text   NOT NULL,
    order_id        text   PRIMARY KEY,
    customer_id     text   NOT NULL,
    product         text   NOT NULL,
    qty             bigint NOT NULL,
    price           bigint NOT NULL,
    pay_method      text   NOT NULL,
    order_status    text   NOT NULL CHECK (order_status IN ('PLACED', 'CANCELLED')),
    cancelled_by    text   CHECK (cancelled_by IN ('CUSTOMER', 'DELIVERY')),
    payment_id      text,
    payment_status  text   CHECK (payment_status IN ('PAID', 'CANCELLED')),
    delivery_id     text,
    delivery_status text   CHECK (delivery_status IN ('STARTED', 'CANCELLED')),
    position        bigint NOT NULL,
    updated_at      text   NOT NULL
);

CREATE INDEX mypage_orders_user ON mypage_orders (user_id, order_id);

-- The user's bookings: rows as in booking_list; user_id is the booking_user_id.
CREATE TABLE mypage_bookings
(
    user_id         text   NOT NULL,
    booking_id      text   PRIMARY KEY,
    room_id         bigint NOT NULL,
    use_start_dtm   text   NOT NULL,
    use_end_dtm     text   NOT NULL,
    booking_user_id text   NOT NULL,
    booking_dtm     text   NOT NULL,
    booking_status  text   NOT NULL CHECK (booking_status IN ('CREATED', 'CANCELLED')),
    confirm_id      text,
    confirm_status  text   CHECK (confirm_status IN ('BOOKED', 'CONFIRMED', 'DENIED', 'DELETED')),
    confirm_dtm     text,
    confirm_user_id text,
    position        bigint NOT NULL,
    updated_at      text   NOT NULL
);

CREATE INDEX mypage_bookings_user ON mypage_bookings (user_id, booking_id);

-- The user's 20 latest notifications: rows as in notifications. The projector deletes
-- a user's older ones (by send_dtm, then position) after each insert.
CREATE TABLE mypage_notifications
(
    notification_id text   PRIMARY KEY,
    user_id         text   NOT NULL,
    contents        text   NOT NULL,
    cause           text   NOT NULL,
    send_dtm        text   NOT NULL,
    correlation_id  text,
    position        bigint NOT NULL,
    updated_at      text   NOT NULL
);

-- Latest first per user: serves both the page and the trimming.
CREATE INDEX mypage_notifications_user ON mypage_notifications (user_id, send_dtm, position);
