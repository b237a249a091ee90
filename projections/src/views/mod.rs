//! The four views of the spec, each a set of SQL tables updated from events only
//! (never from other views or aggregates). Every row records `position`, the global
//! position of the last event applied to it, and `updated_at`.

mod booking_list;
mod mypage;
mod notifications;
mod order_list;

use std::fmt;
use std::str::FromStr;

use crate::event::{BusinessEvent, LogEvent};
use crate::sql::ViewTx;

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

    /// Applies one event to the view inside the batch's transaction.
    pub async fn apply(
        self,
        tx: &mut ViewTx<'_>,
        event: &LogEvent,
        business: &BusinessEvent,
    ) -> Result<(), sqlx::Error> {
        match self {
            Self::OrderList => order_list::apply(tx, event, business).await,
            Self::MyPage => mypage::apply(tx, event, business).await,
            Self::BookingList => booking_list::apply(tx, event, business).await,
            Self::Notifications => notifications::apply(tx, event, business).await,
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
