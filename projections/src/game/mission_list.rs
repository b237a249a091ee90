//! **missionList**: one row per mission in `mission_list` — who achieved it, and where
//! its reward stands. The mypage's missions section keeps the same rows per customer in
//! `mypage_missions`.
//!
//! - `MissionAchieved` starts the row.
//! - `RewardAllocated` (naming its mission) sets rewardId and rewardStatus ALLOCATED.
//! - `RewardIssued` sets ISSUED, `RewardExchanged` EXCHANGED with productCode and
//!   giftId (both name the mission).

use domain::game::mission::MissionEvent;
use domain::game::reward::RewardEvent;
use domain::game::wallet::WalletEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::GameEvent;
use crate::event::{timestamp, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of missionList (and of a mypage's missions, whose table adds the owner).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MissionRow {
    pub mission_id: String,
    pub customer_id: String,
    pub mission_code: String,
    pub achieved_at: String,
    pub reward_id: Option<String>,
    /// `ALLOCATED`, `ISSUED` or `EXCHANGED`, once the reward exists.
    pub reward_status: Option<String>,
    pub product_code: Option<String>,
    pub gift_id: Option<String>,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for MissionRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("mission_id", "text"),
        ("customer_id", "text"),
        ("mission_code", "text"),
        ("achieved_at", "text"),
        ("reward_id", "text"),
        ("reward_status", "text"),
        ("product_code", "text"),
        ("gift_id", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    const OWNER: Option<&'static str> = Some("customer_id");

    fn key(&self) -> &str {
        &self.mission_id
    }

    fn owner(&self) -> Option<&str> {
        Some(&self.customer_id)
    }

    fn position(&self) -> i64 {
        self.position
    }

    fn updated_at(&self) -> &str {
        &self.updated_at
    }
}

impl Projected for MissionRow {
    type Event = GameEvent;

    fn key_of(event: &LogEvent, business: &GameEvent) -> Option<String> {
        match business {
            GameEvent::Mission(_) => Some(event.aggregate_id.clone()),
            GameEvent::Reward(RewardEvent::RewardAllocated { mission_id, .. })
            | GameEvent::Wallet(
                WalletEvent::RewardIssued { mission_id, .. }
                | WalletEvent::RewardExchanged { mission_id, .. },
            ) => Some(mission_id.to_string()),
            GameEvent::Reward(RewardEvent::RewardRedeemed { .. }) => None,
        }
    }

    fn starts_row(business: &GameEvent) -> bool {
        matches!(
            business,
            GameEvent::Mission(MissionEvent::MissionAchieved { .. })
        )
    }

    fn apply(row: &mut Option<Self>, event: &LogEvent, business: &GameEvent) -> Result<(), String> {
        if let GameEvent::Mission(MissionEvent::MissionAchieved {
            customer_id,
            mission_code,
            achieved_at,
        }) = business
        {
            *row = Some(MissionRow {
                mission_id: event.aggregate_id.clone(),
                customer_id: customer_id.clone(),
                mission_code: mission_code.clone(),
                achieved_at: timestamp(achieved_at),
                reward_id: None,
                reward_status: None,
                product_code: None,
                gift_id: None,
                position: event.position,
                updated_at: event.recorded_at_text(),
            });
            return Ok(());
        }
        let Some(row) = row else {
            return Ok(());
        };
        match business {
            GameEvent::Reward(RewardEvent::RewardAllocated { .. }) => {
                row.reward_id = Some(event.aggregate_id.clone());
                row.reward_status
                    .get_or_insert_with(|| "ALLOCATED".to_string());
            }
            GameEvent::Wallet(WalletEvent::RewardIssued { reward_id, .. }) => {
                row.reward_id = Some(reward_id.to_string());
                if row.reward_status.as_deref() != Some("EXCHANGED") {
                    row.reward_status = Some("ISSUED".to_string());
                }
            }
            GameEvent::Wallet(WalletEvent::RewardExchanged {
                reward_id,
                product_code,
                gift_id,
                ..
            }) => {
                row.reward_id = Some(reward_id.to_string());
                row.reward_status = Some("EXCHANGED".to_string());
                row.product_code = Some(product_code.clone());
                row.gift_id = Some(gift_id.clone());
            }
            _ => return Ok(()),
        }
        row.position = event.position;
        row.updated_at = event.recorded_at_text();
        Ok(())
    }
}
