-- The bookstore context's views (SPEC §3) and its policies' own tables. Views as in
-- 20261122000001_views.sql: built from the log alone, each row with position and
-- updated_at, ids and times as text.

-- bookList: one row per book of the catalogue, with its stock.
CREATE TABLE book_list
(
    -- The Book aggregate's id.
    book_id       text   PRIMARY KEY,
    title         text   NOT NULL,
    author        text   NOT NULL,
    -- The unit price in minor units.
    price         bigint NOT NULL,
    -- Copies left: never below zero (the Book aggregate refuses what would take more).
    stock         bigint NOT NULL CHECK (stock >= 0),
    registered_at text   NOT NULL,
    position      bigint NOT NULL,
    updated_at    text   NOT NULL
);

-- bookOrderList: one row per book order, with its shipment.
CREATE TABLE book_order_list
(
    -- The BookOrder aggregate's id.
    order_id        text   PRIMARY KEY,
    member_id       text   NOT NULL,
    book_id         text   NOT NULL,
    -- The book's title when ordered.
    title           text   NOT NULL,
    qty             bigint NOT NULL,
    -- price × qty; 0 for an order refused for want of stock.
    amount          bigint NOT NULL,
    order_status    text   NOT NULL CHECK (order_status IN ('ORDERED', 'CANCELLED', 'OUT_OF_STOCK')),
    -- The Shipment aggregate's id and STARTED or CANCELLED, once a shipment event applies.
    shipment_id     text,
    shipment_status text   CHECK (shipment_status IN ('STARTED', 'CANCELLED')),
    ordered_at      text   NOT NULL,
    position        bigint NOT NULL,
    updated_at      text   NOT NULL
);

-- A member's orders, a book's orders, orders by status, in order_id (keyset) order.
CREATE INDEX book_order_list_member ON book_order_list (member_id, order_id);
CREATE INDEX book_order_list_book ON book_order_list (book_id, order_id);
CREATE INDEX book_order_list_status ON book_order_list (order_status, order_id);

-- memberList: one row per member.
CREATE TABLE member_list
(
    -- The member's own id (a customer's).
    member_id    text   PRIMARY KEY,
    name         text   NOT NULL,
    -- Mileage points standing: earned minus revoked.
    mileage      bigint NOT NULL,
    grade        text   NOT NULL CHECK (grade IN ('BRONZE', 'SILVER', 'GOLD')),
    -- The total amount of the member's orders that are not cancelled.
    total_amount bigint NOT NULL,
    joined_at    text   NOT NULL,
    position     bigint NOT NULL,
    updated_at   text   NOT NULL
);

-- Members by grade, in member_id (keyset) order.
CREATE INDEX member_list_grade ON member_list (grade, member_id);

-- The mypage's bookOrders: rows as in book_order_list; user_id is the member_id.
CREATE TABLE mypage_book_orders
(
    user_id         text   NOT NULL,
    order_id        text   PRIMARY KEY,
    member_id       text   NOT NULL,
    book_id         text   NOT NULL,
    title           text   NOT NULL,
    qty             bigint NOT NULL,
    amount          bigint NOT NULL,
    order_status    text   NOT NULL,
    shipment_id     text,
    shipment_status text,
    ordered_at      text   NOT NULL,
    position        bigint NOT NULL,
    updated_at      text   NOT NULL
);

CREATE INDEX mypage_book_orders_user ON mypage_book_orders (user_id, order_id);

-- The mypage's membership: the member's memberList row; user_id is the member_id.
CREATE TABLE mypage_membership
(
    user_id      text   NOT NULL,
    member_id    text   PRIMARY KEY,
    name         text   NOT NULL,
    mileage      bigint NOT NULL,
    grade        text   NOT NULL,
    total_amount bigint NOT NULL,
    joined_at    text   NOT NULL,
    position     bigint NOT NULL,
    updated_at   text   NOT NULL
);

CREATE INDEX mypage_membership_user ON mypage_membership (user_id);

-- What the bookNews policy remembers, each row written once, so the recipients of an
-- event are the same however often it is delivered.
-- Members, with the position of their MemberJoined: a new book is for those before it.
CREATE TABLE policy_bookstore_members
(
    member_id       text   PRIMARY KEY,
    joined_position bigint NOT NULL
);

CREATE INDEX policy_bookstore_members_joined ON policy_bookstore_members (joined_position);

-- Books' titles, from BookRegistered.
CREATE TABLE policy_bookstore_books
(
    book_id text PRIMARY KEY,
    title   text NOT NULL
);

-- Orders refused for want of stock (OutOfStocked), by book and position.
CREATE TABLE policy_bookstore_refusals
(
    order_id  text   PRIMARY KEY,
    book_id   text   NOT NULL,
    member_id text   NOT NULL,
    position  bigint NOT NULL
);

CREATE INDEX policy_bookstore_refusals_book ON policy_bookstore_refusals (book_id, position);

-- Each book's restocks (StockAdded), by position: a restock is for those refused since
-- the one before it.
CREATE TABLE policy_bookstore_restocks
(
    book_id  text   NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (book_id, position)
);
