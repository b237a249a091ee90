-- The bookNews policy compares what it remembers in the order it reads the log,
-- (transaction_id, global_position), not by position alone: a member whose join
-- committed before a book's registration, at a higher position, joined before it.
-- Rows remembered before this are older than any to come (transaction id 0).
ALTER TABLE policy_bookstore_members ADD COLUMN joined_transaction_id bigint NOT NULL DEFAULT 0;
ALTER TABLE policy_bookstore_refusals ADD COLUMN transaction_id bigint NOT NULL DEFAULT 0;
ALTER TABLE policy_bookstore_restocks ADD COLUMN transaction_id bigint NOT NULL DEFAULT 0;
DROP INDEX policy_bookstore_members_joined;
CREATE INDEX policy_bookstore_members_joined
    ON policy_bookstore_members (joined_transaction_id, joined_position);
DROP INDEX policy_bookstore_refusals_book;
CREATE INDEX policy_bookstore_refusals_book
    ON policy_bookstore_refusals (book_id, transaction_id, position);
