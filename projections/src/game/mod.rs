//! The game context's views: **missionList**, **walletList**, and the mypage's sections
//! **mypageMissions** and **mypageWallet** (a customer's).

mod mission_list;
mod wallet_list;

use cqrs_es::Aggregate;
use domain::game::mission::{Mission, MissionEvent};
use domain::game::reward::{Reward, RewardEvent};
use domain::game::wallet::{Wallet, WalletEvent};

pub use mission_list::MissionRow;
pub use wallet_list::WalletRow;

use crate::event::LogEvent;
use crate::table::{ContextEvent, Table, TableView};
use crate::view::View;

/// missionList: one row per mission.
pub static MISSION_LIST: TableView<MissionRow> =
    TableView::new("missionList", Table::new("mission_list"));

/// walletList: one row per reward in a wallet.
pub static WALLET_LIST: TableView<WalletRow> =
    TableView::new("walletList", Table::new("wallet_list"));

/// The mypage's `missions`: the same rows as missionList, per customer.
pub static MYPAGE_MISSIONS: TableView<MissionRow> = TableView::new(
    "mypageMissions",
    Table::new("mypage_missions").owned_by("user_id", "customer_id"),
);

/// The mypage's `wallet`: the same rows as walletList, per customer.
pub static MYPAGE_WALLET: TableView<WalletRow> = TableView::new(
    "mypageWallet",
    Table::new("mypage_wallet").owned_by("user_id", "customer_id"),
);

/// The game's views.
pub fn views() -> Vec<&'static dyn View> {
    vec![
        &MISSION_LIST,
        &WALLET_LIST,
        &MYPAGE_MISSIONS,
        &MYPAGE_WALLET,
    ]
}

/// A game event as read from the log.
#[derive(Debug, Clone, PartialEq)]
pub enum GameEvent {
    Mission(MissionEvent),
    Reward(RewardEvent),
    Wallet(WalletEvent),
}

impl ContextEvent for GameEvent {
    const AGGREGATE_TYPES: &'static [&'static str] = &[Mission::TYPE, Reward::TYPE, Wallet::TYPE];

    fn decode(event: &LogEvent) -> Result<Option<Self>, serde_json::Error> {
        Ok(Some(match event.aggregate_type.as_str() {
            Mission::TYPE => Self::Mission(event.payload_as()?),
            Reward::TYPE => Self::Reward(event.payload_as()?),
            Wallet::TYPE => Self::Wallet(event.payload_as()?),
            _ => return Ok(None),
        }))
    }
}
