//! The four views of the spec, each a set of SQL tables updated from events only
//! (never from other views or aggregates). Every row records `position`, the global
//! position of the last event applied to it, and `updated_at`. A batch of events
//! changes each table at once ([`table`]).

mod booking_list;
mod mypage;
mod notifications;
mod order_list;
mod table;

use std::fmt;
use std::str::FromStr;

use crate::event::{BusinessEvent, LogEvent};
use crate::sql::ViewTx;
use crate::subscription::ProjectionError;

/// A log event with its decoded domain event.
pub(crate) struct DecodedEvent<'a> {
    pub event: &'a LogEvent,
    pub business: BusinessEvent,
}

/// Why a batch could not be applied to a view.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApplyError {
    /// The event at `position` cannot be applied: it is poison.
    #[error("{reason}")]
    Unappliable { position: i64, reason: String },
    /// The database refused the batch's writes (a constraint, say): one of its events
    /// is poison, but which one shows only when they are applied one at a time.
    #[error("{0}")]
    Refused(sqlx::Error),
    /// The database failed; the batch can be retried.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A materialized view, by the name the CLI and `/admin/projections` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewName {
    OrderList,
    MyPage,
    BookingList,
    Notifications,
}

impl ViewName {
    pub const ALL: [ViewName; 4] = [
        ViewName::OrderList,
        ViewName::MyPage,
        ViewName::BookingList,
        ViewName::Notifications,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderList => "orderList",
            Self::MyPage => "mypage",
            Self::BookingList => "bookingList",
            Self::Notifications => "notifications",
        }
    }

    /// The tables the view is made of.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Self::OrderList => &["order_list"],
            Self::MyPage => &["mypage_orders", "mypage_bookings", "mypage_notifications"],
            Self::BookingList => &["booking_list"],
            Self::Notifications => &["notifications"],
        }
    }

    /// Whether events of this aggregate type change the view. Others are skipped
    /// without being decoded, so an undecodable event stops only the views that read it.
    pub fn reads(self, aggregate_type: &str) -> bool {
        let types: &[&str] = match self {
            Self::OrderList => &["Order", "Payment", "Delivery"],
            Self::MyPage => &[
                "Order",
                "Payment",
                "Delivery",
                "Booking",
                "Confirm",
                "Notification",
            ],
            Self::BookingList => &["Booking", "Confirm"],
            Self::Notifications => &["Notification"],
        };
        types.contains(&aggregate_type)
    }

    /// Applies a batch of events, in order, inside the batch's transaction; events of
    /// aggregate types the view does not read are skipped. An event that cannot be
    /// decoded or applied is poison; if the database refuses a batch of several events,
    /// the caller retries them one at a time to find the poison one.
    pub async fn apply(
        self,
        tx: &mut ViewTx<'_>,
        events: &[LogEvent],
    ) -> Result<(), ProjectionError> {
        let poison = |position: i64, reason: String| ProjectionError::Poison {
            view: self,
            position,
            reason,
        };
        let mut decoded = Vec::with_capacity(events.len());
        for event in events
            .iter()
            .filter(|event| self.reads(&event.aggregate_type))
        {
            match event.decode() {
                Ok(Some(business)) => decoded.push(DecodedEvent { event, business }),
                Ok(None) => {}
                Err(error) => {
                    let reason = format!("undecodable {}: {error}", event.event_type);
                    return Err(poison(event.position, reason));
                }
            }
        }
        match self.apply_decoded(tx, &decoded).await {
            Ok(()) => Ok(()),
            Err(ApplyError::Unappliable { position, reason }) => Err(poison(position, reason)),
            Err(ApplyError::Refused(error)) => match events {
                [event] => Err(poison(event.position, error.to_string())),
                _ => Err(ProjectionError::Refused(self, error)),
            },
            Err(ApplyError::Database(error)) => Err(ProjectionError::Database(error)),
        }
    }

    async fn apply_decoded(
        self,
        tx: &mut ViewTx<'_>,
        events: &[DecodedEvent<'_>],
    ) -> Result<(), ApplyError> {
        match self {
            Self::OrderList => order_list::ORDER_LIST.apply(tx, events).await,
            Self::MyPage => mypage::apply(tx, events).await,
            Self::BookingList => booking_list::BOOKING_LIST.apply(tx, events).await,
            Self::Notifications => notifications::NOTIFICATIONS.apply(tx, events).await,
        }
    }
}

impl fmt::Display for ViewName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown view name.
#[derive(Debug, thiserror::Error)]
#[error("unknown view '{0}'; views are orderList, mypage, bookingList, notifications")]
pub struct UnknownView(String);

impl FromStr for ViewName {
    type Err = UnknownView;

    fn from_str(name: &str) -> Result<Self, UnknownView> {
        Self::ALL
            .into_iter()
            .find(|view| view.as_str() == name)
            .ok_or_else(|| UnknownView(name.to_string()))
    }
}
