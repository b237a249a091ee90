//! The game policy: `MissionAchieved` → `AllocateReward` (one reward per mission, its id
//! derived from the mission's); `RewardAllocated` → `IssueReward` into the customer's
//! wallet and `LinkReward` on the mission. It follows each mission's events in log
//! order (a reward's events name their mission).

use chrono::Utc;
use command_api::store::EventLog;
use cqrs_es::Aggregate;
use domain::game::mission::{Mission, MissionCommand, MissionEvent};
use domain::game::reward::{reward_id, Reward, RewardCommand, RewardEvent};
use domain::game::wallet::{wallet_id, Wallet, WalletCommand};
use futures::future::BoxFuture;
use projections::game::GameEvent;
use projections::table::ContextEvent;
use projections::LogEvent;
use uuid::Uuid;

use crate::issue::{PolicyError, Reaction};
use crate::policy::{Issue, Policy};

pub(super) struct RewardsPolicy;

/// What the policy does, as the "then" column of its table names it (every command of
/// it happens to be about a reward).
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::enum_variant_names)]
enum Then {
    AllocateReward {
        mission_id: Uuid,
        customer_id: String,
        mission_code: String,
    },
    IssueReward {
        reward_id: Uuid,
        customer_id: String,
        mission_id: Uuid,
        mission_code: String,
    },
    LinkReward {
        mission_id: Uuid,
        reward_id: Uuid,
    },
}

/// The commands an event of the aggregate `id` calls for.
fn decide(id: Uuid, event: &GameEvent) -> Vec<Then> {
    match event {
        GameEvent::Mission(MissionEvent::MissionAchieved {
            customer_id,
            mission_code,
            ..
        }) => vec![Then::AllocateReward {
            mission_id: id,
            customer_id: customer_id.clone(),
            mission_code: mission_code.clone(),
        }],
        GameEvent::Reward(RewardEvent::RewardAllocated {
            mission_id,
            customer_id,
            mission_code,
        }) => vec![
            Then::IssueReward {
                reward_id: id,
                customer_id: customer_id.clone(),
                mission_id: *mission_id,
                mission_code: mission_code.clone(),
            },
            Then::LinkReward {
                mission_id: *mission_id,
                reward_id: id,
            },
        ],
        _ => Vec::new(),
    }
}

impl<L: EventLog> Policy<L> for RewardsPolicy {
    fn name(&self) -> &'static str {
        "game"
    }

    fn reads(&self) -> &[&'static str] {
        &[Mission::TYPE, Reward::TYPE]
    }

    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        Ok(match GameEvent::decode(event)? {
            Some(GameEvent::Reward(RewardEvent::RewardAllocated { mission_id, .. })) => {
                mission_id.to_string()
            }
            _ => event.aggregate_id.clone(),
        })
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let Some(event) = reaction.decode::<GameEvent>()? else {
                return Ok(Vec::new());
            };
            let id = reaction.aggregate_id()?;
            Ok(decide(id, &event).into_iter().map(issue).collect())
        })
    }
}

fn issue<L: EventLog>(then: Then) -> Issue<L> {
    match then {
        Then::AllocateReward {
            mission_id,
            customer_id,
            mission_code,
        } => Issue::on_new_stream::<Reward>(
            reward_id(mission_id),
            RewardCommand::AllocateReward {
                mission_id,
                customer_id,
                mission_code,
            },
        ),
        Then::IssueReward {
            reward_id,
            customer_id,
            mission_id,
            mission_code,
        } => Issue::command::<Wallet>(
            wallet_id(&customer_id),
            WalletCommand::IssueReward {
                reward_id,
                customer_id,
                mission_id,
                mission_code,
                issued_at: Utc::now(),
            },
        ),
        Then::LinkReward {
            mission_id,
            reward_id,
        } => Issue::command::<Mission>(mission_id, MissionCommand::LinkReward { reward_id }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mission_earns_a_reward_that_lands_in_the_wallet_and_on_the_mission() {
        let (mission_id, reward) = (Uuid::now_v7(), Uuid::now_v7());
        let achieved = GameEvent::Mission(MissionEvent::MissionAchieved {
            customer_id: "kim".into(),
            mission_code: "FIRST-WIN".into(),
            achieved_at: Utc::now(),
        });
        assert_eq!(
            decide(mission_id, &achieved),
            [Then::AllocateReward {
                mission_id,
                customer_id: "kim".into(),
                mission_code: "FIRST-WIN".into()
            }]
        );
        let allocated = GameEvent::Reward(RewardEvent::RewardAllocated {
            mission_id,
            customer_id: "kim".into(),
            mission_code: "FIRST-WIN".into(),
        });
        assert_eq!(
            decide(reward, &allocated),
            [
                Then::IssueReward {
                    reward_id: reward,
                    customer_id: "kim".into(),
                    mission_id,
                    mission_code: "FIRST-WIN".into()
                },
                Then::LinkReward {
                    mission_id,
                    reward_id: reward
                },
            ]
        );
    }
}
