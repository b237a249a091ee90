//! The `Wallet` aggregate: the rewards issued to one customer, and what each was
//! exchanged for.
//!
//! There is one wallet per customer, named after them ([`wallet_id`]). A reward is
//! issued into it once, by policy, and exchanged for a product at most once. The
//! exchange itself is a synchronous call to the gift service that the command API makes
//! outside any transaction: before the call it asks [`Wallet::exchangeable`] and
//! [`check_product_code`] (which record nothing), and after it records the answer,
//! the gift's id, with `ExchangeReward`, whose `RewardExchanged` commits together with
//! the reward's own `RewardRedeemed`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::game::mission::MAX_CUSTOMER_ID_CHARS;
use crate::rules::{identifier, text_length, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a product code.
pub const MAX_PRODUCT_CODE_CHARS: usize = 64;
/// Most characters in a gift id, as the gift service hands it out.
pub const MAX_GIFT_ID_CHARS: usize = 200;

/// The wallet of `customer_id`: one per customer, so it follows from their id.
pub fn wallet_id(customer_id: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x5761_6c6c_6574_4000_8000_2d67_616d_652d);
    Uuid::new_v5(&NAMESPACE, customer_id.as_bytes())
}

/// Whether `product_code` may be asked for: an identifier of 1 to
/// [`MAX_PRODUCT_CODE_CHARS`] characters. The command API checks it, with
/// [`Wallet::exchangeable`], before calling the gift service, so that no gift is handed
/// out for an exchange the wallet would then refuse.
pub fn check_product_code(product_code: &str) -> Result<(), WalletError> {
    identifier("productCode", product_code, MAX_PRODUCT_CODE_CHARS)?;
    Ok(())
}

/// Where a reward in a wallet stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RewardStatus {
    /// In the wallet, not yet exchanged.
    Issued,
    /// Exchanged for a product: spent.
    Exchanged,
}

/// A reward in a wallet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalletReward {
    pub status: RewardStatus,
    /// The mission that earned the reward.
    pub mission_id: Uuid,
    pub mission_code: String,
    pub issued_at: DateTime<Utc>,
    /// The product the reward was exchanged for, once exchanged.
    pub product_code: Option<String>,
    /// The gift service's id of the gift handed out, once exchanged.
    pub gift_id: Option<String>,
    pub exchanged_at: Option<DateTime<Utc>>,
}

/// A wallet's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Wallet {
    customer_id: Option<String>,
    rewards: BTreeMap<Uuid, WalletReward>,
}

impl Wallet {
    /// The customer whose wallet this is, once a reward was issued into it.
    pub fn customer_id(&self) -> Option<&str> {
        self.customer_id.as_deref()
    }

    /// The reward `reward_id`, if it was issued into this wallet.
    pub fn reward(&self, reward_id: Uuid) -> Option<&WalletReward> {
        self.rewards.get(&reward_id)
    }

    /// Every reward issued into this wallet, by id.
    pub fn rewards(&self) -> impl Iterator<Item = (Uuid, &WalletReward)> + '_ {
        self.rewards.iter().map(|(id, reward)| (*id, reward))
    }

    /// Whether the reward `reward_id` may be exchanged: issued into this wallet and not
    /// yet exchanged. Records nothing: the command API asks it before calling the gift
    /// service, and `ExchangeReward` gives the same answers after.
    pub fn exchangeable(&self, reward_id: Uuid) -> Result<(), WalletError> {
        match self.rewards.get(&reward_id) {
            None => Err(WalletError::RewardNotIssued),
            Some(reward) if reward.status == RewardStatus::Exchanged => {
                Err(WalletError::AlreadyExchanged)
            }
            Some(_) => Ok(()),
        }
    }
}

/// What can be asked of a wallet.
#[derive(Debug, Clone, PartialEq)]
pub enum WalletCommand {
    /// An allocated reward lands in its customer's wallet. The mission's fields come
    /// from the reward's event, which copied them from the mission that checked them.
    IssueReward {
        reward_id: Uuid,
        customer_id: String,
        mission_id: Uuid,
        mission_code: String,
        issued_at: DateTime<Utc>,
    },
    /// Record the exchange of a reward for `product_code`, once the gift service
    /// answered with `gift_id`, at `exchanged_at` (the crate reads no clock).
    ExchangeReward {
        reward_id: Uuid,
        product_code: String,
        gift_id: String,
        exchanged_at: DateTime<Utc>,
    },
}

/// What happened to a wallet. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum WalletEvent {
    #[serde(rename = "RewardIssued", rename_all = "camelCase")]
    RewardIssued {
        reward_id: Uuid,
        customer_id: String,
        mission_id: Uuid,
        mission_code: String,
        issued_at: DateTime<Utc>,
    },
    /// Names the reward's mission too, so that views of missions follow the exchange.
    #[serde(rename = "RewardExchanged", rename_all = "camelCase")]
    RewardExchanged {
        reward_id: Uuid,
        mission_id: Uuid,
        product_code: String,
        gift_id: String,
        exchanged_at: DateTime<Utc>,
    },
}

/// The stored type names of [`WalletEvent`].
pub const EVENT_TYPES: &[&str] = &["RewardIssued", "RewardExchanged"];

impl WalletEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for WalletEvent {
    fn event_type(&self) -> String {
        match self {
            WalletEvent::RewardIssued { .. } => "RewardIssued",
            WalletEvent::RewardExchanged { .. } => "RewardExchanged",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a wallet command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum WalletError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("reward already issued")]
    AlreadyIssued,
    /// The reward is not in this wallet: never issued, or issued to another customer.
    #[error("reward not issued to this wallet")]
    RewardNotIssued,
    #[error("reward already exchanged")]
    AlreadyExchanged,
}

impl From<InvalidField> for WalletError {
    fn from(invalid: InvalidField) -> Self {
        WalletError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for WalletError {
    fn kind(&self) -> RejectionKind {
        match self {
            WalletError::Invalid { .. } => RejectionKind::Invalid,
            WalletError::AlreadyIssued
            | WalletError::RewardNotIssued
            | WalletError::AlreadyExchanged => RejectionKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            WalletError::Invalid { .. } => "invalid_field",
            WalletError::AlreadyIssued => "reward_already_issued",
            WalletError::RewardNotIssued => "reward_not_issued",
            WalletError::AlreadyExchanged => "reward_already_exchanged",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            WalletError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Wallet {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: WalletCommand) -> Result<Vec<WalletEvent>, WalletError> {
        match command {
            WalletCommand::IssueReward {
                reward_id,
                customer_id,
                mission_id,
                mission_code,
                issued_at,
            } => {
                if self.rewards.contains_key(&reward_id) {
                    return Err(WalletError::AlreadyIssued);
                }
                identifier("customerId", &customer_id, MAX_CUSTOMER_ID_CHARS)?;
                if self
                    .customer_id
                    .as_ref()
                    .is_some_and(|owner| *owner != customer_id)
                {
                    return Err(InvalidField::new(
                        "customerId",
                        "customerId must be the wallet's customer",
                    )
                    .into());
                }
                Ok(vec![WalletEvent::RewardIssued {
                    reward_id,
                    customer_id,
                    mission_id,
                    mission_code,
                    issued_at,
                }])
            }
            WalletCommand::ExchangeReward {
                reward_id,
                product_code,
                gift_id,
                exchanged_at,
            } => {
                self.exchangeable(reward_id)?;
                let Some(reward) = self.rewards.get(&reward_id) else {
                    return Err(WalletError::RewardNotIssued);
                };
                check_product_code(&product_code)?;
                text_length("giftId", &gift_id, 1, MAX_GIFT_ID_CHARS)?;
                Ok(vec![WalletEvent::RewardExchanged {
                    reward_id,
                    mission_id: reward.mission_id,
                    product_code,
                    gift_id,
                    exchanged_at,
                }])
            }
        }
    }
}

impl Aggregate for Wallet {
    const TYPE: &'static str = "Wallet";
    type Command = WalletCommand;
    type Event = WalletEvent;
    type Error = WalletError;
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
            WalletEvent::RewardIssued {
                reward_id,
                customer_id,
                mission_id,
                mission_code,
                issued_at,
            } => {
                self.customer_id.get_or_insert(customer_id);
                self.rewards.insert(
                    reward_id,
                    WalletReward {
                        status: RewardStatus::Issued,
                        mission_id,
                        mission_code,
                        issued_at,
                        product_code: None,
                        gift_id: None,
                        exchanged_at: None,
                    },
                );
            }
            WalletEvent::RewardExchanged {
                reward_id,
                product_code,
                gift_id,
                exchanged_at,
                ..
            } => {
                if let Some(reward) = self.rewards.get_mut(&reward_id) {
                    reward.status = RewardStatus::Exchanged;
                    reward.product_code = Some(product_code);
                    reward.gift_id = Some(gift_id);
                    reward.exchanged_at = Some(exchanged_at);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::bookstore::member::member_stream;
    use crate::testing::{assert_invalid, assert_stored_as};

    type WalletTest = TestFramework<Wallet>;

    const REWARD: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00e1);
    const OTHER_REWARD: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00e2);
    const MISSION: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00d1);

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    fn issue(reward_id: Uuid, customer_id: &str) -> WalletCommand {
        WalletCommand::IssueReward {
            reward_id,
            customer_id: customer_id.into(),
            mission_id: MISSION,
            mission_code: "first-order".into(),
            issued_at: at("2026-12-24T10:00:00Z"),
        }
    }

    fn issued(reward_id: Uuid) -> WalletEvent {
        WalletEvent::RewardIssued {
            reward_id,
            customer_id: "kim".into(),
            mission_id: MISSION,
            mission_code: "first-order".into(),
            issued_at: at("2026-12-24T10:00:00Z"),
        }
    }

    fn exchange(reward_id: Uuid, product_code: &str, gift_id: &str) -> WalletCommand {
        WalletCommand::ExchangeReward {
            reward_id,
            product_code: product_code.into(),
            gift_id: gift_id.into(),
            exchanged_at: at("2026-12-25T09:30:00Z"),
        }
    }

    fn exchanged(reward_id: Uuid) -> WalletEvent {
        WalletEvent::RewardExchanged {
            reward_id,
            mission_id: MISSION,
            product_code: "coffee-tall".into(),
            gift_id: "gift-0001".into(),
            exchanged_at: at("2026-12-25T09:30:00Z"),
        }
    }

    async fn rejects_exchange(command: WalletCommand, field: &str) {
        let result = WalletTest::with(())
            .given(vec![issued(REWARD)])
            .when_async(command)
            .await;
        assert_invalid(result, field);
    }

    #[tokio::test]
    async fn a_reward_lands_in_an_empty_wallet() {
        WalletTest::with(())
            .given_no_previous_events()
            .when_async(issue(REWARD, "kim"))
            .await
            .then_expect_events(vec![issued(REWARD)]);
    }

    #[tokio::test]
    async fn a_wallet_holds_many_rewards_of_its_customer() {
        WalletTest::with(())
            .given(vec![issued(REWARD)])
            .when_async(issue(OTHER_REWARD, "kim"))
            .await
            .then_expect_events(vec![issued(OTHER_REWARD)]);
    }

    #[tokio::test]
    async fn a_reward_is_issued_once() {
        WalletTest::with(())
            .given(vec![issued(REWARD)])
            .when_async(issue(REWARD, "kim"))
            .await
            .then_expect_error(WalletError::AlreadyIssued);
        assert_eq!(WalletError::AlreadyIssued.kind(), RejectionKind::Conflict);
        assert_eq!(WalletError::AlreadyIssued.code(), "reward_already_issued");
    }

    #[tokio::test]
    async fn another_customers_reward_is_refused_naming_customer_id() {
        let result = WalletTest::with(())
            .given(vec![issued(REWARD)])
            .when_async(issue(OTHER_REWARD, "lee"))
            .await;
        assert_invalid(result, "customerId");
    }

    #[tokio::test]
    async fn customer_id_is_an_identifier_of_1_to_64_chars() {
        for customer_id in [String::new(), "c".repeat(65), "kim\nINFO forged".into()] {
            let result = WalletTest::with(())
                .given_no_previous_events()
                .when_async(issue(REWARD, &customer_id))
                .await;
            assert_invalid(result, "customerId");
        }
    }

    #[tokio::test]
    async fn an_issued_reward_is_exchanged_for_the_gift_handed_out() {
        WalletTest::with(())
            .given(vec![issued(REWARD)])
            .when_async(exchange(REWARD, "coffee-tall", "gift-0001"))
            .await
            .then_expect_events(vec![exchanged(REWARD)]);
    }

    #[tokio::test]
    async fn the_longest_product_code_and_gift_id_are_accepted() {
        WalletTest::with(())
            .given(vec![issued(REWARD)])
            .when_async(exchange(REWARD, &"p".repeat(64), &"g".repeat(200)))
            .await
            .then_expect_events(vec![WalletEvent::RewardExchanged {
                reward_id: REWARD,
                mission_id: MISSION,
                product_code: "p".repeat(64),
                gift_id: "g".repeat(200),
                exchanged_at: at("2026-12-25T09:30:00Z"),
            }]);
    }

    #[tokio::test]
    async fn product_code_is_an_identifier_of_1_to_64_chars() {
        for product_code in [String::new(), "p".repeat(65), "coffee\r\ntall".into()] {
            rejects_exchange(exchange(REWARD, &product_code, "gift-0001"), "productCode").await;
        }
    }

    #[tokio::test]
    async fn gift_id_is_1_to_200_chars() {
        for gift_id in [String::new(), "g".repeat(201), "gift\0".into()] {
            rejects_exchange(exchange(REWARD, "coffee-tall", &gift_id), "giftId").await;
        }
    }

    #[tokio::test]
    async fn an_exchange_of_a_reward_not_in_the_wallet_is_refused() {
        for given in [vec![], vec![issued(OTHER_REWARD)]] {
            WalletTest::with(())
                .given(given)
                .when_async(exchange(REWARD, "coffee-tall", "gift-0001"))
                .await
                .then_expect_error(WalletError::RewardNotIssued);
        }
        assert_eq!(WalletError::RewardNotIssued.kind(), RejectionKind::Conflict);
        assert_eq!(WalletError::RewardNotIssued.code(), "reward_not_issued");
    }

    #[tokio::test]
    async fn a_reward_is_exchanged_at_most_once() {
        WalletTest::with(())
            .given(vec![issued(REWARD), exchanged(REWARD)])
            .when_async(exchange(REWARD, "cake-slice", "gift-0002"))
            .await
            .then_expect_error(WalletError::AlreadyExchanged);
        assert_eq!(
            WalletError::AlreadyExchanged.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            WalletError::AlreadyExchanged.code(),
            "reward_already_exchanged"
        );
    }

    #[test]
    fn exchangeable_answers_before_the_gift_call_as_the_exchange_would() {
        let mut wallet = Wallet::default();
        assert_eq!(
            wallet.exchangeable(REWARD),
            Err(WalletError::RewardNotIssued)
        );
        wallet.apply(issued(REWARD));
        assert_eq!(wallet.exchangeable(REWARD), Ok(()));
        assert_eq!(
            wallet.exchangeable(OTHER_REWARD),
            Err(WalletError::RewardNotIssued)
        );
        wallet.apply(exchanged(REWARD));
        assert_eq!(
            wallet.exchangeable(REWARD),
            Err(WalletError::AlreadyExchanged)
        );
    }

    #[test]
    fn a_product_code_is_checked_before_the_gift_call() {
        assert_eq!(check_product_code("coffee-tall"), Ok(()));
        for product_code in [String::new(), "p".repeat(65), "coffee\ntall".into()] {
            let refused = check_product_code(&product_code).unwrap_err();
            assert_eq!(refused.kind(), RejectionKind::Invalid);
            assert_eq!(refused.code(), "invalid_field");
            assert_eq!(refused.field(), Some("productCode"));
        }
    }

    #[test]
    fn the_wallet_id_follows_from_the_customer() {
        assert_eq!(wallet_id("kim"), wallet_id("kim"));
        assert_ne!(wallet_id("kim"), wallet_id("lee"));
        assert_ne!(wallet_id("kim"), member_stream("kim"));
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut wallet = Wallet::default();
        assert_eq!(wallet.customer_id(), None);
        assert_eq!(wallet.rewards().count(), 0);
        wallet.apply(issued(REWARD));
        wallet.apply(issued(OTHER_REWARD));
        assert_eq!(wallet.customer_id(), Some("kim"));
        let issued_reward = WalletReward {
            status: RewardStatus::Issued,
            mission_id: MISSION,
            mission_code: "first-order".into(),
            issued_at: at("2026-12-24T10:00:00Z"),
            product_code: None,
            gift_id: None,
            exchanged_at: None,
        };
        assert_eq!(wallet.reward(REWARD), Some(&issued_reward));
        wallet.apply(exchanged(REWARD));
        assert_eq!(
            wallet.reward(REWARD),
            Some(&WalletReward {
                status: RewardStatus::Exchanged,
                product_code: Some("coffee-tall".into()),
                gift_id: Some("gift-0001".into()),
                exchanged_at: Some(at("2026-12-25T09:30:00Z")),
                ..issued_reward.clone()
            })
        );
        assert_eq!(wallet.reward(Uuid::nil()), None);
        let statuses: Vec<_> = wallet.rewards().map(|(id, r)| (id, r.status)).collect();
        assert_eq!(
            statuses,
            vec![
                (REWARD, RewardStatus::Exchanged),
                (OTHER_REWARD, RewardStatus::Issued)
            ]
        );
    }

    #[test]
    fn a_snapshot_reads_back_as_the_same_wallet() {
        let mut wallet = Wallet::default();
        wallet.apply(issued(REWARD));
        wallet.apply(exchanged(REWARD));
        let snapshot = serde_json::to_value(&wallet).unwrap();
        assert_eq!(
            snapshot["rewards"][REWARD.to_string()]["status"],
            json!("EXCHANGED")
        );
        let read_back: Wallet = serde_json::from_value(snapshot).unwrap();
        assert_eq!(read_back.customer_id(), Some("kim"));
        assert_eq!(read_back.reward(REWARD), wallet.reward(REWARD));
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &issued(REWARD),
            json!({"RewardIssued": {
                "rewardId": REWARD.to_string(),
                "customerId": "kim",
                "missionId": MISSION.to_string(),
                "missionCode": "first-order",
                "issuedAt": "2026-12-24T10:00:00Z"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &exchanged(REWARD),
            json!({"RewardExchanged": {
                "rewardId": REWARD.to_string(),
                "missionId": MISSION.to_string(),
                "productCode": "coffee-tall",
                "giftId": "gift-0001",
                "exchangedAt": "2026-12-25T09:30:00Z"
            }}),
            EVENT_TYPES,
        );
    }
}
