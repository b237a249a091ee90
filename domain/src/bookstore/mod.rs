//! The bookstore context: a catalogue of books whose stock is taken in the same commit
//! as an order, members who earn mileage and a grade by what they buy, and shipments.

pub mod book;
pub mod book_order;
pub mod member;
pub mod shipment;
