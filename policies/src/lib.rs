//! strata's policies (sagas): subscribers over the global log that react to events by
//! issuing commands through the same [`CommandService`](command_api::CommandService)
//! the HTTP API uses, and the sink that delivers recorded notifications.
//!
//! | context | policy | when | then |
//! |---|---|---|---|
//! | [`shop`] | `shop` | `PaymentMade` | `StartDelivery` for the order, unless it is already cancelled |
//! | | | `OrderCancelled` by the customer | `CancelDelivery` if started, `CancelPayment` |
//! | | | `DeliveryCancelled` while its order stands | `CancelOrder{DELIVERY}`, `CancelPayment` |
//! | [`booking`] | `booking` | `BookingCreated` | `RequestConfirm` |
//! | | | `ConfirmDenied` | `CancelBooking{reason: DENIED}` |
//! | | | `BookingCancelled` | `DeleteConfirm` |
//! | | `notify` | `BookingCreated`, `ConfirmCompleted`, `ConfirmDenied`, `BookingCancelled` | `SendNotification` to the booking user |
//! | [`notifications`] | `notificationSink` | `NotificationSent` | delivers it: the log, or a webhook |
//! | [`bookstore`] | `bookstore` | `BookOrdered` | `StartShipment`, `EarnMileage` |
//! | | | `BookOrderCancelled` | `CancelShipment` if started, `RevokeMileage` |
//! | | `bookNews` | `BookRegistered` | `SendNotification` to every member who joined before it |
//! | | | `StockAdded` | `SendNotification` to every member refused the book since its previous restock |
//! | [`hotel`] | `hotel` | `RoomDeleted` | `CancelRoomBooking{ROOM_DELETED}` for each active stay from that day on, also one that raced it |
//! | | | `RoomBookingCancelled` | `CancelHotelPayment` |
//! | | `hotelNotify` | `RoomBooked`, `RoomBookingCancelled` | `SendNotification` to the guest and the host |
//! | | | `PaymentCancelled` | `SendNotification` to the guest |
//! | [`game`] | `game` | `MissionAchieved` | `AllocateReward` |
//! | | | `RewardAllocated` | `IssueReward` (wallet), `LinkReward` (mission) |
//! | | `gameNotify` | `RewardIssued`, `RewardExchanged` | `SendNotification` to the customer |
//! | [`sharecar`] | `sharecar` | `PayApproved` | `ConfirmReservation` |
//! | | | `CarOrderCancelled` | `CancelReservation` |
//! | | | `ReservationCancelled` | `CancelPay` |
//!
//! Each policy follows the log from its own checkpoint, in log order (so it sees every
//! event of one order or booking in order), one worker at a time. Every command carries
//! an idempotency key made of the policy, the command and the causing event, committed
//! with the command's events: a redelivered or replayed event never appends twice.
//!
//! # Layout
//! The platform:
//! - [`policy`]: the [`Policy`] trait every context's policies implement, and [`Issue`],
//!   a command a policy decided on.
//! - [`issue`]: one reaction: what it may consult, and its commands' keys, correlation
//!   and outcomes.
//! - [`runner`]: [`Policies`], the loops that keep every policy caught up.
//! - [`registry`]: what policies are built with, and lookup by name.
//! - [`dead_letters`]: what a policy could not do and skipped, for an operator to see
//!   and, for a refused notification, send again.
//!
//! The contexts, each a folder with its policies: [`shop`], [`booking`],
//! [`notifications`] (where notifications go, with retries and a circuit breaker),
//! [`bookstore`], [`hotel`], [`sharecar`], [`game`].
#![forbid(unsafe_code)]

pub mod booking;
pub mod bookstore;
pub mod dead_letters;
pub mod game;
pub mod hotel;
pub mod issue;
pub mod notifications;
pub mod policy;
pub mod registry;
pub mod runner;
pub mod sharecar;
pub mod shop;

pub use dead_letters::DeadLetter;
pub use issue::PolicyError;
pub use notifications::{NotificationSink, ResendError, WebhookSettings};
pub use policy::{Issue, Policy, SharedPolicy};
pub use registry::{PolicySettings, UnknownPolicy};
pub use runner::Policies;
