//! The car-sharing context: cars for hire by the hour, a user's order of one for an
//! interval, its payment (approved in the same request) and the reservation the car
//! management confirms automatically.
//!
//! | module | aggregate (`TYPE`) |
//! |---|---|
//! | [`car`] | `Car` — register, with a price per hour |
//! | [`car_order`] | `CarOrder` — order a car for `[startDtm, endDtm)`, cancel |
//! | [`car_payment`] | `CarPayment` — approve, cancel; refuses large amounts |
//! | [`car_reservation`] | `CarReservation` — confirm, cancel; one per order |
//!
//! That two active orders of one car never overlap is a rule across aggregates: the
//! command API enforces it in the store, not here.

pub mod car;
pub mod car_order;
pub mod car_payment;
pub mod car_reservation;
