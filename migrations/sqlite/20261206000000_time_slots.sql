-- The meeting rooms' reservations become a table of the shared time-slot guard, whose
-- tables all name their columns holder_id, resource_id, start_us and end_us.
ALTER TABLE room_reservations RENAME COLUMN booking_id TO holder_id;
ALTER TABLE room_reservations RENAME COLUMN room_id TO resource_id;
