-- The bookNews policy compares what it remembers in the order it reads the log,
-- (transaction_id, global_position); on SQLite the transaction id is always 0 and the
-- position is that order, so the columns only keep one query for both stores.
ALTER TABLE policy_bookstore_members ADD COLUMN joined_transaction_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE policy_bookstore_refusals ADD COLUMN transaction_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE policy_bookstore_restocks ADD COLUMN transaction_id INTEGER NOT NULL DEFAULT 0;
