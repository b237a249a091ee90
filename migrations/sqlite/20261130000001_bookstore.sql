-- The bookstore context's views on SQLite: the same tables, columns, checks and indexes
-- as the PostgreSQL migration of the same name, with TEXT and INTEGER columns.

-- bookList: one row per book of the catalogue, with its stock.
CREATE TABLE book_list
(
    -- The Book aggregate's id.
    book_id       TEXT   PRIMARY KEY,
    title         TEXT   NOT NULL,
    author        TEXT   NOT NULL,
    -- The unit price in minor units.
    price         INTEGER NOT NULL,
    -- Copies left: never below zero (the Book aggregate refuses what would take more).
    stock         INTEGER NOT NULL CHECK (stock >= 0),
    registered_at TEXT   NOT NULL,
    position      INTEGER NOT NULL,
    updated_at    TEXT   NOT NULL
) STRICT;

-- bookOrderList: one row per book order, with its shipment.
CREATE TABLE book_order_list
(
    -- The BookOrder aggregate's id.
    order_id        TEXT   PRIMARY KEY,
    member_id       TEXT   NOT NULL,
    book_id         TEXT   NOT NULL,
    -- The book's title when ordered.
    title           TEXT   NOT NULL,
    qty             INTEGER NOT NULL,
    -- price × qty; 0 for an order refused for want of stock.
    amount          INTEGER NOT NULL,
    order_status    TEXT   NOT NULL CHECK (order_status IN ('ORDERED', 'CANCELLED', 'OUT_OF_STOCK')),
    -- The Shipment aggregate's id and STARTED or CANCELLED, once a shipment event applies.
    shipment_id     TEXT,
    shipment_status TEXT   CHECK (shipment_status IN ('STARTED', 'CANCELLED')),
    ordered_at      TEXT   NOT NULL,
    position        INTEGER NOT NULL,
    updated_at      TEXT   NOT NULL
) STRICT;

-- A member's orders, a book's orders, orders by status, in order_id (keyset) order.
CREATE INDEX book_order_list_member ON book_order_list (member_id, order_id);
CREATE INDEX book_order_list_book ON book_order_list (book_id, order_id);
CREATE INDEX book_order_list_status ON book_order_list (order_status, order_id);

-- memberList: one row per member.
CREATE TABLE member_list
(
    -- The member's own id (a customer's).
    member_id    TEXT   PRIMARY KEY,
    name         TEXT   NOT NULL,
    -- Mileage points standing: earned minus revoked.
    mileage      INTEGER NOT NULL,
    grade        TEXT   NOT NULL CHECK (grade IN ('BRONZE', 'SILVER', 'GOLD')),
    -- The total amount of the member's orders that are not cancelled.
    total_amount INTEGER NOT NULL,
    joined_at    TEXT   NOT NULL,
    position     INTEGER NOT NULL,
    updated_at   TEXT   NOT NULL
) STRICT;

-- Members by grade, in member_id (keyset) order.
CREATE INDEX member_list_grade ON member_list (grade, member_id);

-- The mypage's bookOrders: rows as in book_order_list; user_id is the member_id.
CREATE TABLE mypage_book_orders
(
    user_id         TEXT   NOT NULL,
    order_id        TEXT   PRIMARY KEY,
    member_id       TEXT   NOT NULL,
    book_id         TEXT   NOT NULL,
    title           TEXT   NOT NULL,
    qty             INTEGER NOT NULL,
    amount          INTEGER NOT NULL,
    order_status    TEXT   NOT NULL,
    shipment_id     TEXT,
    shipment_status TEXT,
    ordered_at      TEXT   NOT NULL,
    position        INTEGER NOT NULL,
    updated_at      TEXT   NOT NULL
) STRICT;

CREATE INDEX mypage_book_orders_user ON mypage_book_orders (user_id, order_id);

-- The mypage's membership: the member's memberList row; user_id is the member_id.
CREATE TABLE mypage_membership
(
    user_id      TEXT   NOT NULL,
    member_id    TEXT   PRIMARY KEY,
    name         TEXT   NOT NULL,
    mileage      INTEGER NOT NULL,
    grade        TEXT   NOT NULL,
    total_amount INTEGER NOT NULL,
    joined_at    TEXT   NOT NULL,
    position     INTEGER NOT NULL,
    updated_at   TEXT   NOT NULL
) STRICT;

CREATE INDEX mypage_membership_user ON mypage_membership (user_id);

-- What the bookNews policy remembers, each row written once, so the recipients of an
-- event are the same however often it is delivered.
-- Members, with the position of their MemberJoined: a new book is for those before it.
CREATE TABLE policy_bookstore_members
(
    member_id       TEXT   PRIMARY KEY,
    joined_position INTEGER NOT NULL
) STRICT;

CREATE INDEX policy_bookstore_members_joined ON policy_bookstore_members (joined_position);

-- Books' titles, from BookRegistered.
CREATE TABLE policy_bookstore_books
(
    book_id TEXT PRIMARY KEY,
    title   TEXT NOT NULL
) STRICT;

-- Orders refused for want of stock (OutOfStocked), by book and position.
CREATE TABLE policy_bookstore_refusals
(
    order_id  TEXT   PRIMARY KEY,
    book_id   TEXT   NOT NULL,
    member_id TEXT   NOT NULL,
    position  INTEGER NOT NULL
) STRICT;

CREATE INDEX policy_bookstore_refusals_book ON policy_bookstore_refusals (book_id, position);

-- Each book's restocks (StockAdded), by position: a restock is for those refused since
-- the one before it.
CREATE TABLE policy_bookstore_restocks
(
    book_id  TEXT   NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (book_id, position)
) STRICT;
