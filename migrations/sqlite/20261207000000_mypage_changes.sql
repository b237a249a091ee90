-- The mypage's live streams ask each section's table which users' rows changed between
-- two positions (read-api's live module): an index on position answers that from the
-- changed rows alone. A new context's section table gets one in its own migration.
CREATE INDEX mypage_orders_position ON mypage_orders (position);
CREATE INDEX mypage_bookings_position ON mypage_bookings (position);
CREATE INDEX mypage_notifications_position ON mypage_notifications (position);
CREATE INDEX mypage_book_orders_position ON mypage_book_orders (position);
CREATE INDEX mypage_membership_position ON mypage_membership (position);
CREATE INDEX mypage_stays_position ON mypage_stays (position);
CREATE INDEX mypage_hosting_position ON mypage_hosting (position);
CREATE INDEX mypage_car_orders_position ON mypage_car_orders (position);
CREATE INDEX mypage_missions_position ON mypage_missions (position);
CREATE INDEX mypage_wallet_position ON mypage_wallet (position);
