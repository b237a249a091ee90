//! The `Reward` aggregate: the voucher one achieved mission earns.
//!
//! A reward is whole: it is exchanged for one product, once, and never split. Each
//! mission earns exactly one, which is why the policy names it after its mission
//! ([`reward_id`]): allocating it again lands on the same stream and is refused.
//!
//! A reward is redeemed in the same commit as its wallet's `RewardExchanged`, once the
//! gift service, called by the command API, has answered with a giftId; the reward only
//! records its own change of status.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::game::wallet::{MAX_GIFT_ID_CHARS, MAX_PRODUCT_CODE_CHARS};
use crate::rules::{identifier, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// The reward the mission `mission_id` earns: one per mission, so it follows from it.
pub fn reward_id(mission_id: Uuid) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x5265_7761_7264_4000_8000_2d67_616d_652d);
    Uuid::new_v5(&NAMESPACE, mission_id.as_bytes())
}

/// A reward's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Reward {
    allocated: Option<AllocatedReward>,
    redeemed: Option<Redemption>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AllocatedReward {
    mission_id: Uuid,
    customer_id: String,
    mission_code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Redemption {
    product_code: String,
    gift_id: String,
}

impl Reward {
    /// The mission that earned the reward, once allocated.
    pub fn mission_id(&self) -> Option<Uuid> {
        self.allocated.as_ref().map(|r| r.mission_id)
    }

    /// The customer the reward is for, once allocated.
    pub fn customer_id(&self) -> Option<&str> {
        self.allocated.as_ref().map(|r| r.customer_id.as_str())
    }

    /// The code of the mission that earned the reward, once allocated.
    pub fn mission_code(&self) -> Option<&str> {
        self.allocated.as_ref().map(|r| r.mission_code.as_str())
    }

    /// Whether the reward has been exchanged for a product.
    pub fn is_redeemed(&self) -> bool {
        self.redeemed.is_some()
    }

    /// The product the reward was exchanged for, once redeemed.
    pub fn product_code(&self) -> Option<&str> {
        self.redeemed.as_ref().map(|r| r.product_code.as_str())
    }

    /// The gift service's id of the gift handed out, once redeemed.
    pub fn gift_id(&self) -> Option<&str> {
        self.redeemed.as_ref().map(|r| r.gift_id.as_str())
    }
}

/// What can be asked of a reward.
#[derive(Debug, Clone, PartialEq)]
pub enum RewardCommand {
    /// An achieved mission earns its reward. The customer and code come from the
    /// mission's event, which has checked them already.
    AllocateReward {
        mission_id: Uuid,
        customer_id: String,
        mission_code: String,
    },
    /// The reward was exchanged for `product_code`, and the gift service handed out
    /// `gift_id`.
    RedeemReward {
        product_code: String,
        gift_id: String,
    },
}

/// What happened to a reward. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RewardEvent {
    #[serde(rename = "RewardAllocated", rename_all = "camelCase")]
    RewardAllocated {
        mission_id: Uuid,
        customer_id: String,
        mission_code: String,
    },
    #[serde(rename = "RewardRedeemed", rename_all = "camelCase")]
    RewardRedeemed {
        product_code: String,
        gift_id: String,
    },
}

/// The stored type names of [`RewardEvent`].
pub const EVENT_TYPES: &[&str] = &["RewardAllocated", "RewardRedeemed"];

impl RewardEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for RewardEvent {
    fn event_type(&self) -> String {
        match self {
            RewardEvent::RewardAllocated { .. } => "RewardAllocated",
            RewardEvent::RewardRedeemed { .. } => "RewardRedeemed",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a reward command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RewardError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("reward not found")]
    NotFound,
    #[error("reward already allocated")]
    AlreadyAllocated,
    #[error("reward already exchanged")]
    AlreadyExchanged,
}

impl From<InvalidField> for RewardError {
    fn from(invalid: InvalidField) -> Self {
        RewardError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for RewardError {
    fn kind(&self) -> RejectionKind {
        match self {
            RewardError::Invalid { .. } => RejectionKind::Invalid,
            RewardError::NotFound => RejectionKind::NotFound,
            RewardError::AlreadyAllocated | RewardError::AlreadyExchanged => {
                RejectionKind::Conflict
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            RewardError::Invalid { .. } => "invalid_field",
            RewardError::NotFound => "reward_not_found",
            RewardError::AlreadyAllocated => "reward_already_allocated",
            RewardError::AlreadyExchanged => "reward_already_exchanged",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            RewardError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Reward {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: RewardCommand) -> Result<Vec<RewardEvent>, RewardError> {
        match command {
            RewardCommand::AllocateReward {
                mission_id,
                customer_id,
                mission_code,
            } => {
                if self.allocated.is_some() {
                    return Err(RewardError::AlreadyAllocated);
                }
                Ok(vec![RewardEvent::RewardAllocated {
                    mission_id,
                    customer_id,
                    mission_code,
                }])
            }
            RewardCommand::RedeemReward {
                product_code,
                gift_id,
            } => {
                if self.allocated.is_none() {
                    return Err(RewardError::NotFound);
                }
                if self.redeemed.is_some() {
                    return Err(RewardError::AlreadyExchanged);
                }
                // The wallet's rules, so the two events committed together never disagree.
                identifier("productCode", &product_code, MAX_PRODUCT_CODE_CHARS)?;
                text_length("giftId", &gift_id, 1, MAX_GIFT_ID_CHARS)?;
                Ok(vec![RewardEvent::RewardRedeemed {
                    product_code,
                    gift_id,
                }])
            }
        }
    }
}

impl Aggregate for Reward {
    const TYPE: &'static str = "Reward";
    type Command = RewardCommand;
    type Event = RewardEvent;
    type Error = RewardError;
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
            RewardEvent::RewardAllocated {
                mission_id,
                customer_id,
                mission_code,
            } => {
                self.allocated = Some(AllocatedReward {
                    mission_id,
                    customer_id,
                    mission_code,
                });
            }
            RewardEvent::RewardRedeemed {
                product_code,
                gift_id,
            } => {
                self.redeemed = Some(Redemption {
                    product_code,
                    gift_id,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::game::mission::mission_id;
    use crate::testing::{assert_invalid, assert_stored_as};

    type RewardTest = TestFramework<Reward>;

    const MISSION: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00d1);

    fn allocate() -> RewardCommand {
        RewardCommand::AllocateReward {
            mission_id: MISSION,
            customer_id: "kim".into(),
            mission_code: "first-order".into(),
        }
    }

    fn allocated() -> RewardEvent {
        RewardEvent::RewardAllocated {
            mission_id: MISSION,
            customer_id: "kim".into(),
            mission_code: "first-order".into(),
        }
    }

    fn redeem(product_code: &str, gift_id: &str) -> RewardCommand {
        RewardCommand::RedeemReward {
            product_code: product_code.into(),
            gift_id: gift_id.into(),
        }
    }

    fn redeemed() -> RewardEvent {
        RewardEvent::RewardRedeemed {
            product_code: "coffee-tall".into(),
            gift_id: "gift-0001".into(),
        }
    }

    #[tokio::test]
    async fn an_achieved_mission_allocates_its_reward() {
        RewardTest::with(())
            .given_no_previous_events()
            .when_async(allocate())
            .await
            .then_expect_events(vec![allocated()]);
    }

    #[tokio::test]
    async fn a_reward_is_allocated_once() {
        RewardTest::with(())
            .given(vec![allocated()])
            .when_async(allocate())
            .await
            .then_expect_error(RewardError::AlreadyAllocated);
        assert_eq!(
            RewardError::AlreadyAllocated.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            RewardError::AlreadyAllocated.code(),
            "reward_already_allocated"
        );
    }

    #[tokio::test]
    async fn an_allocated_reward_is_redeemed_with_the_gift_handed_out() {
        RewardTest::with(())
            .given(vec![allocated()])
            .when_async(redeem("coffee-tall", "gift-0001"))
            .await
            .then_expect_events(vec![redeemed()]);
    }

    #[tokio::test]
    async fn redeeming_a_reward_never_allocated_is_not_found() {
        RewardTest::with(())
            .given_no_previous_events()
            .when_async(redeem("coffee-tall", "gift-0001"))
            .await
            .then_expect_error(RewardError::NotFound);
        assert_eq!(RewardError::NotFound.kind(), RejectionKind::NotFound);
        assert_eq!(RewardError::NotFound.code(), "reward_not_found");
    }

    #[tokio::test]
    async fn a_reward_is_exchanged_at_most_once() {
        RewardTest::with(())
            .given(vec![allocated(), redeemed()])
            .when_async(redeem("cake-slice", "gift-0002"))
            .await
            .then_expect_error(RewardError::AlreadyExchanged);
        assert_eq!(
            RewardError::AlreadyExchanged.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            RewardError::AlreadyExchanged.code(),
            "reward_already_exchanged"
        );
    }

    #[tokio::test]
    async fn a_redemption_follows_the_wallets_rules_for_product_code_and_gift_id() {
        for (command, field) in [
            (redeem("", "gift-0001"), "productCode"),
            (redeem(&"p".repeat(65), "gift-0001"), "productCode"),
            (redeem("coffee\ntall", "gift-0001"), "productCode"),
            (redeem("coffee-tall", ""), "giftId"),
            (redeem("coffee-tall", &"g".repeat(201)), "giftId"),
        ] {
            let result = RewardTest::with(())
                .given(vec![allocated()])
                .when_async(command)
                .await;
            assert_invalid(result, field);
        }
    }

    #[test]
    fn the_reward_id_follows_from_its_mission() {
        let mission = mission_id("kim", "first-order");
        assert_eq!(reward_id(mission), reward_id(mission));
        assert_ne!(reward_id(mission), mission);
        assert_ne!(
            reward_id(mission),
            reward_id(mission_id("kim", "second-order"))
        );
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut reward = Reward::default();
        assert_eq!(
            (
                reward.mission_id(),
                reward.customer_id(),
                reward.mission_code()
            ),
            (None, None, None)
        );
        reward.apply(allocated());
        assert_eq!(reward.mission_id(), Some(MISSION));
        assert_eq!(reward.customer_id(), Some("kim"));
        assert_eq!(reward.mission_code(), Some("first-order"));
        assert!(!reward.is_redeemed());
        assert_eq!((reward.product_code(), reward.gift_id()), (None, None));
        reward.apply(redeemed());
        assert!(reward.is_redeemed());
        assert_eq!(reward.product_code(), Some("coffee-tall"));
        assert_eq!(reward.gift_id(), Some("gift-0001"));
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &allocated(),
            json!({"RewardAllocated": {
                "missionId": MISSION.to_string(),
                "customerId": "kim",
                "missionCode": "first-order"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &redeemed(),
            json!({"RewardRedeemed": {"productCode": "coffee-tall", "giftId": "gift-0001"}}),
            EVENT_TYPES,
        );
    }
}
