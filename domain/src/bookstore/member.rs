//! The `Member` aggregate: a customer's membership of the bookstore, their mileage and
//! their grade.
//!
//! A customer joins once, under their own id. What they buy earns mileage (5 % of an
//! order's amount, rounded down) and moves their grade by the total amount of their
//! orders that are not cancelled; a cancelled order's mileage is revoked in full.
//! `GradeChanged` is recorded only when the grade moves.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{identifier, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a member id (a customer's id).
pub const MAX_MEMBER_ID_CHARS: usize = 64;
/// Most characters in a member's name.
pub const MAX_NAME_CHARS: usize = 100;
/// Mileage earned, in percent of an order's amount.
pub const MILEAGE_PERCENT: i64 = 5;
/// The total amount from which a member is SILVER.
pub const SILVER_FROM: i64 = 50_000;
/// The total amount from which a member is GOLD.
pub const GOLD_FROM: i64 = 200_000;

/// The stream of the member `member_id`: member ids are the customers' own, streams
/// are named by UUIDs, so one follows from the other.
pub fn member_stream(member_id: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x4d65_6d62_6572_4000_8000_626f_6f6b_7374);
    Uuid::new_v5(&NAMESPACE, member_id.as_bytes())
}

/// A member's grade, by the total amount of their orders that are not cancelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Grade {
    #[default]
    Bronze,
    Silver,
    Gold,
}

impl Grade {
    /// The grade a total amount earns.
    pub fn of(total_amount: i64) -> Self {
        match total_amount {
            total if total >= GOLD_FROM => Grade::Gold,
            total if total >= SILVER_FROM => Grade::Silver,
            _ => Grade::Bronze,
        }
    }
}

/// The mileage an order's amount earns: 5 %, rounded down.
pub fn mileage_of(amount: i64) -> i64 {
    amount * MILEAGE_PERCENT / 100
}

/// A member's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Member {
    member_id: Option<String>,
    total_amount: i64,
    mileage: i64,
    /// The orders whose mileage stands: their amount and points.
    earned: BTreeMap<Uuid, (i64, i64)>,
    /// Every order that ever earned mileage, revoked or not: each earns once.
    settled: BTreeSet<Uuid>,
}

impl Member {
    /// Whether the member has joined.
    pub fn has_joined(&self) -> bool {
        self.member_id.is_some()
    }

    pub fn mileage(&self) -> i64 {
        self.mileage
    }

    pub fn grade(&self) -> Grade {
        Grade::of(self.total_amount)
    }
}

/// What can be asked of a member.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberCommand {
    JoinMembership {
        member_id: String,
        name: String,
        at: DateTime<Utc>,
    },
    /// An order of `amount` earns mileage.
    EarnMileage { order_id: Uuid, amount: i64 },
    /// A cancelled order's mileage is revoked.
    RevokeMileage { order_id: Uuid },
}

/// What happened to a member. The serialized form is the stored contract; every event
/// names the member, whose views are keyed by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MemberEvent {
    #[serde(rename = "MemberJoined", rename_all = "camelCase")]
    MemberJoined {
        member_id: String,
        name: String,
        joined_at: DateTime<Utc>,
    },
    #[serde(rename = "MileageEarned", rename_all = "camelCase")]
    MileageEarned {
        member_id: String,
        order_id: Uuid,
        points: i64,
        amount: i64,
    },
    #[serde(rename = "MileageRevoked", rename_all = "camelCase")]
    MileageRevoked {
        member_id: String,
        order_id: Uuid,
        points: i64,
        amount: i64,
    },
    #[serde(rename = "GradeChanged", rename_all = "camelCase")]
    GradeChanged {
        member_id: String,
        from: Grade,
        to: Grade,
    },
}

/// The stored type names of [`MemberEvent`].
pub const EVENT_TYPES: &[&str] = &[
    "MemberJoined",
    "MileageEarned",
    "MileageRevoked",
    "GradeChanged",
];

impl DomainEvent for MemberEvent {
    fn event_type(&self) -> String {
        match self {
            MemberEvent::MemberJoined { .. } => "MemberJoined",
            MemberEvent::MileageEarned { .. } => "MileageEarned",
            MemberEvent::MileageRevoked { .. } => "MileageRevoked",
            MemberEvent::GradeChanged { .. } => "GradeChanged",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a member command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MemberError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    /// Only a member may order; the field names who was asked for.
    #[error("{0} is not a member")]
    NotFound(&'static str),
    #[error("already a member")]
    AlreadyJoined,
    #[error("this order's mileage was already earned")]
    AlreadyEarned,
    #[error("this order has no mileage to revoke")]
    NothingToRevoke,
}

impl From<InvalidField> for MemberError {
    fn from(invalid: InvalidField) -> Self {
        MemberError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for MemberError {
    fn kind(&self) -> RejectionKind {
        match self {
            MemberError::Invalid { .. } | MemberError::NotFound(_) => RejectionKind::Invalid,
            MemberError::AlreadyJoined
            | MemberError::AlreadyEarned
            | MemberError::NothingToRevoke => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            MemberError::Invalid { .. } => "invalid_field",
            MemberError::NotFound(_) => "member_not_found",
            MemberError::AlreadyJoined => "member_already_joined",
            MemberError::AlreadyEarned => "mileage_already_earned",
            MemberError::NothingToRevoke => "no_mileage_to_revoke",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            MemberError::Invalid { field, .. } | MemberError::NotFound(field) => Some(field),
            _ => None,
        }
    }
}

impl Member {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: MemberCommand) -> Result<Vec<MemberEvent>, MemberError> {
        match command {
            MemberCommand::JoinMembership {
                member_id,
                name,
                at,
            } => {
                if self.has_joined() {
                    return Err(MemberError::AlreadyJoined);
                }
                identifier("memberId", &member_id, MAX_MEMBER_ID_CHARS)?;
                text_length("name", &name, 1, MAX_NAME_CHARS)?;
                Ok(vec![MemberEvent::MemberJoined {
                    member_id,
                    name,
                    joined_at: at,
                }])
            }
            MemberCommand::EarnMileage { order_id, amount } => {
                let Some(member_id) = self.member_id.clone() else {
                    return Err(MemberError::NotFound("memberId"));
                };
                if self.settled.contains(&order_id) {
                    return Err(MemberError::AlreadyEarned);
                }
                let earned = MemberEvent::MileageEarned {
                    member_id: member_id.clone(),
                    order_id,
                    points: mileage_of(amount),
                    amount,
                };
                Ok(self.with_grade_change(member_id, earned, self.total_amount + amount))
            }
            MemberCommand::RevokeMileage { order_id } => {
                let (Some(member_id), Some(&(amount, points))) =
                    (self.member_id.clone(), self.earned.get(&order_id))
                else {
                    return Err(MemberError::NothingToRevoke);
                };
                let revoked = MemberEvent::MileageRevoked {
                    member_id: member_id.clone(),
                    order_id,
                    points,
                    amount,
                };
                Ok(self.with_grade_change(member_id, revoked, self.total_amount - amount))
            }
        }
    }

    /// `event`, and `GradeChanged` when the new total moves the grade.
    fn with_grade_change(
        &self,
        member_id: String,
        event: MemberEvent,
        new_total: i64,
    ) -> Vec<MemberEvent> {
        let (from, to) = (self.grade(), Grade::of(new_total));
        let mut events = vec![event];
        if from != to {
            events.push(MemberEvent::GradeChanged {
                member_id,
                from,
                to,
            });
        }
        events
    }
}

impl Aggregate for Member {
    const TYPE: &'static str = "Member";
    type Command = MemberCommand;
    type Event = MemberEvent;
    type Error = MemberError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _service: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            MemberEvent::MemberJoined { member_id, .. } => self.member_id = Some(member_id),
            MemberEvent::MileageEarned {
                order_id,
                points,
                amount,
                ..
            } => {
                self.earned.insert(order_id, (amount, points));
                self.settled.insert(order_id);
                self.mileage += points;
                self.total_amount += amount;
            }
            MemberEvent::MileageRevoked {
                order_id,
                points,
                amount,
                ..
            } => {
                self.earned.remove(&order_id);
                self.mileage -= points;
                self.total_amount -= amount;
            }
            MemberEvent::GradeChanged { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type MemberTest = TestFramework<Member>;

    fn joined() -> MemberEvent {
        MemberEvent::MemberJoined {
            member_id: "kim".into(),
            name: "Kim".into(),
            joined_at: "2026-12-01T09:00:00Z".parse().unwrap(),
        }
    }

    fn earned(order_id: Uuid, amount: i64) -> MemberEvent {
        MemberEvent::MileageEarned {
            member_id: "kim".into(),
            order_id,
            points: mileage_of(amount),
            amount,
        }
    }

    #[tokio::test]
    async fn a_customer_joins_once() {
        let join = MemberCommand::JoinMembership {
            member_id: "kim".into(),
            name: "Kim".into(),
            at: "2026-12-01T09:00:00Z".parse().unwrap(),
        };
        MemberTest::with(())
            .given_no_previous_events()
            .when_async(join.clone())
            .await
            .then_expect_events(vec![joined()]);
        MemberTest::with(())
            .given(vec![joined()])
            .when_async(join)
            .await
            .then_expect_error(MemberError::AlreadyJoined);
    }

    #[tokio::test]
    async fn a_name_must_be_1_to_100_characters() {
        let result = MemberTest::with(())
            .given_no_previous_events()
            .when_async(MemberCommand::JoinMembership {
                member_id: "kim".into(),
                name: "x".repeat(101),
                at: Utc::now(),
            })
            .await;
        assert_invalid(result, "name");
    }

    #[test]
    fn grades_start_at_50000_and_200000() {
        assert_eq!(Grade::of(49_999), Grade::Bronze);
        assert_eq!(Grade::of(50_000), Grade::Silver);
        assert_eq!(Grade::of(199_999), Grade::Silver);
        assert_eq!(Grade::of(200_000), Grade::Gold);
        assert_eq!(mileage_of(12_345), 617);
    }

    #[tokio::test]
    async fn an_order_earns_5_percent_and_moves_the_grade_only_across_a_threshold() {
        let (first, second) = (Uuid::now_v7(), Uuid::now_v7());
        MemberTest::with(())
            .given(vec![joined()])
            .when_async(MemberCommand::EarnMileage {
                order_id: first,
                amount: 49_999,
            })
            .await
            .then_expect_events(vec![earned(first, 49_999)]);
        MemberTest::with(())
            .given(vec![joined(), earned(first, 49_999)])
            .when_async(MemberCommand::EarnMileage {
                order_id: second,
                amount: 1,
            })
            .await
            .then_expect_events(vec![
                earned(second, 1),
                MemberEvent::GradeChanged {
                    member_id: "kim".into(),
                    from: Grade::Bronze,
                    to: Grade::Silver,
                },
            ]);
    }

    #[tokio::test]
    async fn an_order_earns_once_and_only_for_a_member() {
        let order_id = Uuid::now_v7();
        MemberTest::with(())
            .given(vec![joined(), earned(order_id, 100)])
            .when_async(MemberCommand::EarnMileage {
                order_id,
                amount: 100,
            })
            .await
            .then_expect_error(MemberError::AlreadyEarned);
        MemberTest::with(())
            .given_no_previous_events()
            .when_async(MemberCommand::EarnMileage {
                order_id,
                amount: 100,
            })
            .await
            .then_expect_error(MemberError::NotFound("memberId"));
    }

    #[tokio::test]
    async fn a_cancel_revokes_the_orders_mileage_and_moves_the_grade_back() {
        let order_id = Uuid::now_v7();
        MemberTest::with(())
            .given(vec![
                joined(),
                earned(order_id, 200_000),
                MemberEvent::GradeChanged {
                    member_id: "kim".into(),
                    from: Grade::Bronze,
                    to: Grade::Gold,
                },
            ])
            .when_async(MemberCommand::RevokeMileage { order_id })
            .await
            .then_expect_events(vec![
                MemberEvent::MileageRevoked {
                    member_id: "kim".into(),
                    order_id,
                    points: 10_000,
                    amount: 200_000,
                },
                MemberEvent::GradeChanged {
                    member_id: "kim".into(),
                    from: Grade::Gold,
                    to: Grade::Bronze,
                },
            ]);
        MemberTest::with(())
            .given(vec![joined()])
            .when_async(MemberCommand::RevokeMileage { order_id })
            .await
            .then_expect_error(MemberError::NothingToRevoke);
    }

    #[test]
    fn events_are_stored_under_their_names() {
        assert_stored_as(
            &MemberEvent::GradeChanged {
                member_id: "kim".into(),
                from: Grade::Silver,
                to: Grade::Gold,
            },
            json!({"GradeChanged": {"memberId": "kim", "from": "SILVER", "to": "GOLD"}}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &earned(Uuid::nil(), 1000),
            json!({"MileageEarned": {"memberId": "kim", "orderId": Uuid::nil(), "points": 50, "amount": 1000}}),
            EVENT_TYPES,
        );
    }

    #[test]
    fn a_members_stream_follows_from_their_id() {
        assert_eq!(member_stream("kim"), member_stream("kim"));
        assert_ne!(member_stream("kim"), member_stream("lee"));
    }
}
