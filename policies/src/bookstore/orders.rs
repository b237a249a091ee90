//! The bookstore policy: an order starts its shipment and earns its member mileage; a
//! cancelled order cancels its shipment (if started) and revokes the mileage.

use command_api::store::EventLog;
use cqrs_es::Aggregate;
use domain::bookstore::book_order::{BookOrder, BookOrderEvent};
use domain::bookstore::member::{member_stream, Member, MemberCommand};
use domain::bookstore::shipment::{Shipment, ShipmentCommand};
use futures::future::BoxFuture;
use projections::bookstore::BookstoreEvent;
use projections::LogEvent;
use uuid::Uuid;

use crate::issue::{derived_id, PolicyError, Reaction};
use crate::policy::{Issue, Policy};

/// The shipment of a book order: one per order, so its id follows from the order's.
pub fn shipment_id(order_id: Uuid) -> Uuid {
    derived_id("shipment of book order", order_id)
}

pub(super) struct OrdersPolicy;

/// What the policy does, as the "then" column of its table names it.
#[derive(Debug, Clone, PartialEq)]
enum Then {
    StartShipment {
        order_id: Uuid,
    },
    EarnMileage {
        member_id: String,
        order_id: Uuid,
        amount: i64,
    },
    CancelShipment {
        order_id: Uuid,
    },
    RevokeMileage {
        member_id: String,
        order_id: Uuid,
    },
}

/// The commands an event of `order_id` calls for; `shipment_active` is whether its
/// shipment has started and stands.
fn decide(order_id: Uuid, event: &BookOrderEvent, shipment_active: bool) -> Vec<Then> {
    match event {
        BookOrderEvent::BookOrdered {
            member_id, amount, ..
        } => vec![
            Then::StartShipment { order_id },
            Then::EarnMileage {
                member_id: member_id.clone(),
                order_id,
                amount: *amount,
            },
        ],
        BookOrderEvent::BookOrderCancelled { member_id, .. } => {
            let cancel_shipment = shipment_active.then_some(Then::CancelShipment { order_id });
            cancel_shipment
                .into_iter()
                .chain([Then::RevokeMileage {
                    member_id: member_id.clone(),
                    order_id,
                }])
                .collect()
        }
        BookOrderEvent::OutOfStocked { .. } => Vec::new(),
    }
}

impl<L: EventLog> Policy<L> for OrdersPolicy {
    fn name(&self) -> &'static str {
        "bookstore"
    }

    fn reads(&self) -> &[&'static str] {
        &[BookOrder::TYPE]
    }

    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        Ok(event.aggregate_id.clone())
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let Some(BookstoreEvent::BookOrder(event)) = reaction.decode::<BookstoreEvent>()?
            else {
                return Ok(Vec::new());
            };
            let order_id = reaction.aggregate_id()?;
            let shipment_active = match event {
                BookOrderEvent::BookOrderCancelled { .. } => reaction
                    .load::<Shipment>(shipment_id(order_id))
                    .await?
                    .is_active(),
                _ => false,
            };
            Ok(decide(order_id, &event, shipment_active)
                .into_iter()
                .map(issue)
                .collect())
        })
    }
}

fn issue<L: EventLog>(then: Then) -> Issue<L> {
    match then {
        Then::StartShipment { order_id } => Issue::on_new_stream::<Shipment>(
            shipment_id(order_id),
            ShipmentCommand::StartShipment { order_id },
        ),
        Then::EarnMileage {
            member_id,
            order_id,
            amount,
        } => Issue::command::<Member>(
            member_stream(&member_id),
            MemberCommand::EarnMileage { order_id, amount },
        ),
        Then::CancelShipment { order_id } => {
            Issue::command::<Shipment>(shipment_id(order_id), ShipmentCommand::CancelShipment)
        }
        Then::RevokeMileage {
            member_id,
            order_id,
        } => Issue::command::<Member>(
            member_stream(&member_id),
            MemberCommand::RevokeMileage { order_id },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_ships_and_earns_and_a_cancel_takes_both_back() {
        let order_id = Uuid::now_v7();
        let ordered = BookOrderEvent::BookOrdered {
            member_id: "kim".into(),
            book_id: Uuid::nil(),
            title: "데미안".into(),
            qty: 1,
            amount: 12_000,
            ordered_at: chrono::Utc::now(),
        };
        assert_eq!(
            decide(order_id, &ordered, false),
            [
                Then::StartShipment { order_id },
                Then::EarnMileage {
                    member_id: "kim".into(),
                    order_id,
                    amount: 12_000
                },
            ]
        );
        let cancelled = BookOrderEvent::BookOrderCancelled {
            member_id: "kim".into(),
            book_id: Uuid::nil(),
            qty: 1,
            amount: 12_000,
        };
        assert_eq!(
            decide(order_id, &cancelled, true),
            [
                Then::CancelShipment { order_id },
                Then::RevokeMileage {
                    member_id: "kim".into(),
                    order_id
                },
            ]
        );
        assert_eq!(
            decide(order_id, &cancelled, false),
            [Then::RevokeMileage {
                member_id: "kim".into(),
                order_id
            }]
        );
    }
}
