//! **walletList**: one row per reward in a wallet in `wallet_list`. The mypage's wallet
//! section keeps the same rows per customer in `mypage_wallet`.
//!
//! - `RewardIssued` starts the row (rewardStatus ISSUED).
//! - `RewardExchanged` sets EXCHANGED, exchangedAt, productCode and giftId.

use domain::game::wallet::WalletEvent;
use serde::Serialize;
use utoipa::ToSchema;

use super::GameEvent;
use crate::event::{timestamp, LogEvent};
use crate::table::{Projected, ViewRow};

/// A row of walletList (and of a mypage's wallet, whose table adds the owner).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WalletRow {
    pub reward_id: String,
    pub customer_id: String,
    pub mission_id: String,
    pub mission_code: String,
    /// `ISSUED` or `EXCHANGED`.
    pub reward_status: String,
    pub issued_at: String,
    pub exchanged_at: Option<String>,
    pub product_code: Option<String>,
    pub gift_id: Option<String>,
    pub position: i64,
    pub updated_at: String,
}

impl ViewRow for WalletRow {
    const COLUMNS: &'static [(&'static str, &'static str)] = &[
        ("reward_id", "text"),
        ("customer_id", "text"),
        ("mission_id", "text"),
        ("mission_code", "text"),
        ("reward_status", "text"),
        ("issued_at", "text"),
        ("exchanged_at", "text"),
        ("product_code", "text"),
        ("gift_id", "text"),
        ("position", "bigint"),
        ("updated_at", "text"),
    ];
    const OWNER: Option<&'static str> = Some("customer_id");

    fn key(&self) -> &str {
        &self.reward_id
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

impl Projected for WalletRow {
    type Event = GameEvent;

    fn key_of(_: &LogEvent, business: &GameEvent) -> Option<String> {
        match business {
            GameEvent::Wallet(
                WalletEvent::RewardIssued { reward_id, .. }
                | WalletEvent::RewardExchanged { reward_id, .. },
            ) => Some(reward_id.to_string()),
            _ => None,
        }
    }

    fn starts_row(business: &GameEvent) -> bool {
        matches!(
            business,
            GameEvent::Wallet(WalletEvent::RewardIssued { .. })
        )
    }

    fn apply(row: &mut Option<Self>, event: &LogEvent, business: &GameEvent) -> Result<(), String> {
        match business {
            GameEvent::Wallet(WalletEvent::RewardIssued {
                reward_id,
                customer_id,
                mission_id,
                mission_code,
                issued_at,
            }) => {
                *row = Some(WalletRow {
                    reward_id: reward_id.to_string(),
                    customer_id: customer_id.clone(),
                    mission_id: mission_id.to_string(),
                    mission_code: mission_code.clone(),
                    reward_status: "ISSUED".to_string(),
                    issued_at: timestamp(issued_at),
                    exchanged_at: None,
                    product_code: None,
                    gift_id: None,
                    position: event.position,
                    updated_at: event.recorded_at_text(),
                });
            }
            GameEvent::Wallet(WalletEvent::RewardExchanged {
                product_code,
                gift_id,
                exchanged_at,
                ..
            }) => {
                if let Some(row) = row {
                    row.reward_status = "EXCHANGED".to_string();
                    row.exchanged_at = Some(timestamp(exchanged_at));
                    row.product_code = Some(product_code.clone());
                    row.gift_id = Some(gift_id.clone());
                    row.position = event.position;
                    row.updated_at = event.recorded_at_text();
                }
            }
            _ => {}
        }
        Ok(())
    }
}
