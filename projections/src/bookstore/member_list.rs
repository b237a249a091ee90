//! **memberList**: one row per member in `member_list` — their mileage, grade and the
//! total amount of their orders that are not cancelled. The mypage's membership section
//! keeps the same row per member in `mypage_membership`.
//!
//! - `MemberJoined` starts the row (BRONZE, nothing earned).
//! - `MileageEarned` / `MileageRevoked` add / take its points and amount.
//! - `GradeChanged` sets the grade.

use domain::bookstore::member::MemberEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::BookstoreEvent;
use crate::event::{timestamp, wire_name, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of memberList (and the mypage's membership, whose table adds the owner).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberRow {
    pub member_id: String,
    pub name: String,
    pub mileage: i64,
    /// BRONZE, SILVER or GOLD.
    pub grade: String,
    pub total_amount: i64,
    pub joined_at: String,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for MemberRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("member_id", "text"),
        ("name", "text"),
        ("mileage", "bigint"),
        ("grade", "text"),
        ("total_amount", "bigint"),
        ("joined_at", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    const OWNER: Option<&'static str> = Some("member_id");

    fn key(&self) -> &str {
        &self.member_id
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.member_id)
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for MemberRow {
    type Event = BookstoreEvent;

    fn key_of(_: &LogEvent, business: &BookstoreEvent) -> Option<String> {
        match business {
            BookstoreEvent::Member(
                MemberEvent::MemberJoined { member_id, .. }
                | MemberEvent::MileageEarned { member_id, .. }
                | MemberEvent::MileageRevoked { member_id, .. }
                | MemberEvent::GradeChanged { member_id, .. },
            ) => Some(member_id.clone()),
            _ => None,
        }
    }

    fn starts_row(business: &BookstoreEvent) -> bool {
        matches!(
            business,
            BookstoreEvent::Member(MemberEvent::MemberJoined { .. })
        )
    }

    fn apply(
        row: &mut Option<Self>,
        event: &LogEvent,
        business: &BookstoreEvent,
    ) -> Result<(), String> {
        let BookstoreEvent::Member(member) = business else {
            return Ok(());
        };
        if let MemberEvent::MemberJoined {
            member_id,
            name,
            joined_at,
        } = member
        {
            *row = Some(MemberRow {
                member_id: member_id.clone(),
                name: name.clone(),
                mileage: 0,
                grade: wire_name(&domain::bookstore::member::Grade::default())?,
                total_amount: 0,
                joined_at: timestamp(joined_at),
                position: event.position,
                updated_at: event.recorded_at_text(),
            });
            return Ok(());
        }
        let Some(row) = row else {
            return Ok(());
        };
        match member {
            MemberEvent::MileageEarned { points, amount, .. } => {
                row.mileage += points;
                row.total_amount += amount;
            }
            MemberEvent::MileageRevoked { points, amount, .. } => {
                row.mileage -= points;
                row.total_amount -= amount;
            }
            MemberEvent::GradeChanged { to, .. } => row.grade = wire_name(to)?,
            MemberEvent::MemberJoined { .. } => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}
