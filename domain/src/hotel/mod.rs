//! The hotel context: hosts register rooms, guests book nights in them and pay for the
//! stay in the same request.
//!
//! | module | aggregate (`TYPE`) |
//! |---|---|
//! | [`hotel_room`] | `HotelRoom` — register, delete (by its host or an admin) |
//! | [`hotel_booking`] | `HotelBooking` — book nights `[startDate, endDate)`, cancel |
//! | [`hotel_payment`] | `HotelPayment` — approve, cancel; refuses large amounts |
//!
//! A booking does not read its room's stream itself: the command API reads the room,
//! hands the booking [`hotel_booking::RoomFacts`] (from [`hotel_room::HotelRoom::facts`]),
//! and claims the nights in the store, where two active bookings of one room may not
//! overlap.

pub mod hotel_booking;
pub mod hotel_payment;
pub mod hotel_room;
