//! The game context's commands: `POST /missions` (a customer achieves a mission) and
//! `POST /rewards/{id}/exchange` (a reward exchanged for a product through the gift
//! service, an outbound call made before anything is committed).

mod exchanges;
mod missions;

use cqrs_es::Aggregate;
use domain::game::mission::{Mission, MissionCommand};
use domain::game::reward::{Reward, RewardCommand};
use domain::game::wallet::{Wallet, WalletCommand};
use utoipa::OpenApi;

use crate::dispatch::CommandTarget;
use crate::registry::Commands;
use crate::store::EventLog;

/// The outbound target the exchanges call: the gift service.
pub const GIFT_TARGET: &str = "gift";

/// The game's aggregates, routes and their OpenAPI.
pub fn commands<L: EventLog>() -> Commands<L> {
    Commands {
        aggregate_types: &[Mission::TYPE, Reward::TYPE, Wallet::TYPE],
        routes: missions::router().merge(exchanges::router()),
        openapi: GameDoc::openapi(),
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(missions::achieve_mission, exchanges::exchange_reward),
    tags(
        (name = "missions", description = "Customers achieve missions; each earns a reward"),
        (name = "rewards", description = "Rewards exchanged for products through the gift \
            service"),
    )
)]
struct GameDoc;

impl CommandTarget for Mission {
    fn command_name(command: &MissionCommand) -> &'static str {
        match command {
            MissionCommand::AchieveMission { .. } => "AchieveMission",
            MissionCommand::LinkReward { .. } => "LinkReward",
        }
    }
}

impl CommandTarget for Reward {
    fn command_name(command: &RewardCommand) -> &'static str {
        match command {
            RewardCommand::AllocateReward { .. } => "AllocateReward",
            RewardCommand::RedeemReward { .. } => "RedeemReward",
        }
    }
}

impl CommandTarget for Wallet {
    fn command_name(command: &WalletCommand) -> &'static str {
        match command {
            WalletCommand::IssueReward { .. } => "IssueReward",
            WalletCommand::ExchangeReward { .. } => "ExchangeReward",
        }
    }
}
