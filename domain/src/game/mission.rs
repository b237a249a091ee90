//! The `Mission` aggregate: one customer's achievement of one mission.
//!
//! A mission is achieved at most once per customer and mission code, which is why its
//! stream is named by the pair ([`mission_id`]): achieving it again lands on the same
//! stream and is refused. Each achieved mission earns exactly one reward; the policy that
//! allocates it links it back here, once.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rules::{identifier, InvalidField};
use crate::{Rejection, RejectionKind};

/// Most characters in a customer id.
pub const MAX_CUSTOMER_ID_CHARS: usize = 64;
/// Most characters in a mission code.
pub const MAX_MISSION_CODE_CHARS: usize = 64;

/// The stream of the mission `mission_code` achieved by `customer_id`: the pair names it,
/// so a mission is achieved once per customer.
///
/// The customer id is length-prefixed before the code is appended, so no two pairs join
/// alike (`("a b", "c")` and `("a", "b c")` differ), whatever characters either holds.
pub fn mission_id(customer_id: &str, mission_code: &str) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x4d69_7373_696f_4000_8000_6e2d_6761_6d65);
    let name = format!("{}:{customer_id}{mission_code}", customer_id.len());
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// A mission's state, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Mission {
    achieved: Option<AchievedMission>,
    reward_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AchievedMission {
    customer_id: String,
    mission_code: String,
    achieved_at: DateTime<Utc>,
}

impl Mission {
    /// The customer who achieved the mission, once achieved.
    pub fn customer_id(&self) -> Option<&str> {
        self.achieved.as_ref().map(|m| m.customer_id.as_str())
    }

    /// The mission achieved, once achieved.
    pub fn mission_code(&self) -> Option<&str> {
        self.achieved.as_ref().map(|m| m.mission_code.as_str())
    }

    /// The reward the mission earned, once linked.
    pub fn reward_id(&self) -> Option<Uuid> {
        self.reward_id
    }

    /// Whether the mission has been achieved.
    pub fn is_achieved(&self) -> bool {
        self.achieved.is_some()
    }
}

/// What can be asked of a mission.
#[derive(Debug, Clone, PartialEq)]
pub enum MissionCommand {
    /// The customer achieved the mission, at the instant the command API was told so
    /// (the crate reads no clock).
    AchieveMission {
        customer_id: String,
        mission_code: String,
        achieved_at: DateTime<Utc>,
    },
    /// The policy allocated the mission's reward: link it, so the mission tells which
    /// reward it earned.
    LinkReward { reward_id: Uuid },
}

/// What happened to a mission. The serialized form is the stored contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MissionEvent {
    #[serde(rename = "MissionAchieved", rename_all = "camelCase")]
    MissionAchieved {
        customer_id: String,
        mission_code: String,
        achieved_at: DateTime<Utc>,
    },
    #[serde(rename = "MissionRewarded", rename_all = "camelCase")]
    MissionRewarded { reward_id: Uuid },
}

/// The stored type names of [`MissionEvent`].
pub const EVENT_TYPES: &[&str] = &["MissionAchieved", "MissionRewarded"];

impl MissionEvent {
    /// The stored type names of every variant (same as [`EVENT_TYPES`]).
    pub const EVENT_TYPES: &'static [&'static str] = EVENT_TYPES;
}

impl DomainEvent for MissionEvent {
    fn event_type(&self) -> String {
        match self {
            MissionEvent::MissionAchieved { .. } => "MissionAchieved",
            MissionEvent::MissionRewarded { .. } => "MissionRewarded",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// Why a mission command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MissionError {
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("mission not found")]
    NotFound,
    #[error("mission already achieved")]
    AlreadyAchieved,
    #[error("mission already rewarded")]
    AlreadyRewarded,
}

impl From<InvalidField> for MissionError {
    fn from(invalid: InvalidField) -> Self {
        MissionError::Invalid {
            field: invalid.field,
            reason: invalid.reason,
        }
    }
}

impl Rejection for MissionError {
    fn kind(&self) -> RejectionKind {
        match self {
            MissionError::Invalid { .. } => RejectionKind::Invalid,
            MissionError::NotFound => RejectionKind::NotFound,
            MissionError::AlreadyAchieved | MissionError::AlreadyRewarded => {
                RejectionKind::Conflict
            }
        }
    }

    fn code(&self) -> &'static str {
        match self {
            MissionError::Invalid { .. } => "invalid_field",
            MissionError::NotFound => "mission_not_found",
            MissionError::AlreadyAchieved => "mission_already_achieved",
            MissionError::AlreadyRewarded => "mission_already_rewarded",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            MissionError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl Mission {
    /// Decides a command against the current state: the events to record, or why not.
    fn decide(&self, command: MissionCommand) -> Result<Vec<MissionEvent>, MissionError> {
        match command {
            MissionCommand::AchieveMission {
                customer_id,
                mission_code,
                achieved_at,
            } => {
                if self.achieved.is_some() {
                    return Err(MissionError::AlreadyAchieved);
                }
                identifier("customerId", &customer_id, MAX_CUSTOMER_ID_CHARS)?;
                identifier("missionCode", &mission_code, MAX_MISSION_CODE_CHARS)?;
                Ok(vec![MissionEvent::MissionAchieved {
                    customer_id,
                    mission_code,
                    achieved_at,
                }])
            }
            MissionCommand::LinkReward { reward_id } => {
                if self.achieved.is_none() {
                    return Err(MissionError::NotFound);
                }
                if self.reward_id.is_some() {
                    return Err(MissionError::AlreadyRewarded);
                }
                Ok(vec![MissionEvent::MissionRewarded { reward_id }])
            }
        }
    }
}

impl Aggregate for Mission {
    const TYPE: &'static str = "Mission";
    type Command = MissionCommand;
    type Event = MissionEvent;
    type Error = MissionError;
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
            MissionEvent::MissionAchieved {
                customer_id,
                mission_code,
                achieved_at,
            } => {
                self.achieved = Some(AchievedMission {
                    customer_id,
                    mission_code,
                    achieved_at,
                });
            }
            MissionEvent::MissionRewarded { reward_id } => self.reward_id = Some(reward_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use serde_json::json;

    use super::*;
    use crate::testing::{assert_invalid, assert_stored_as};

    type MissionTest = TestFramework<Mission>;

    const REWARD: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_00e1);

    fn at(rfc3339: &str) -> DateTime<Utc> {
        rfc3339.parse().unwrap()
    }

    fn achieve(customer_id: &str, mission_code: &str) -> MissionCommand {
        MissionCommand::AchieveMission {
            customer_id: customer_id.into(),
            mission_code: mission_code.into(),
            achieved_at: at("2026-12-24T10:00:00Z"),
        }
    }

    fn achieved() -> MissionEvent {
        MissionEvent::MissionAchieved {
            customer_id: "kim".into(),
            mission_code: "first-order".into(),
            achieved_at: at("2026-12-24T10:00:00Z"),
        }
    }

    fn rewarded() -> MissionEvent {
        MissionEvent::MissionRewarded { reward_id: REWARD }
    }

    async fn rejects(command: MissionCommand, field: &str) {
        let result = MissionTest::with(())
            .given_no_previous_events()
            .when_async(command)
            .await;
        assert_invalid(result, field);
    }

    #[tokio::test]
    async fn a_customer_achieves_a_mission_stamped_with_the_command_time() {
        MissionTest::with(())
            .given_no_previous_events()
            .when_async(achieve("kim", "first-order"))
            .await
            .then_expect_events(vec![achieved()]);
    }

    #[tokio::test]
    async fn a_mission_is_achieved_once_per_customer_and_code() {
        MissionTest::with(())
            .given(vec![achieved()])
            .when_async(achieve("kim", "first-order"))
            .await
            .then_expect_error(MissionError::AlreadyAchieved);
        assert_eq!(
            MissionError::AlreadyAchieved.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            MissionError::AlreadyAchieved.code(),
            "mission_already_achieved"
        );
    }

    #[tokio::test]
    async fn customer_id_is_an_identifier_of_1_to_64_chars() {
        MissionTest::with(())
            .given_no_previous_events()
            .when_async(achieve(&"c".repeat(64), "first-order"))
            .await
            .then_expect_events(vec![MissionEvent::MissionAchieved {
                customer_id: "c".repeat(64),
                mission_code: "first-order".into(),
                achieved_at: at("2026-12-24T10:00:00Z"),
            }]);
        for customer_id in [String::new(), "c".repeat(65), "kim\r\nINFO forged".into()] {
            rejects(achieve(&customer_id, "first-order"), "customerId").await;
        }
    }

    #[tokio::test]
    async fn mission_code_is_an_identifier_of_1_to_64_chars() {
        MissionTest::with(())
            .given_no_previous_events()
            .when_async(achieve("kim", &"m".repeat(64)))
            .await
            .then_expect_events(vec![MissionEvent::MissionAchieved {
                customer_id: "kim".into(),
                mission_code: "m".repeat(64),
                achieved_at: at("2026-12-24T10:00:00Z"),
            }]);
        for mission_code in [String::new(), "m".repeat(65), "first\norder".into()] {
            rejects(achieve("kim", &mission_code), "missionCode").await;
        }
    }

    #[tokio::test]
    async fn an_achieved_mission_is_linked_to_its_reward() {
        MissionTest::with(())
            .given(vec![achieved()])
            .when_async(MissionCommand::LinkReward { reward_id: REWARD })
            .await
            .then_expect_events(vec![rewarded()]);
    }

    #[tokio::test]
    async fn linking_a_reward_to_a_mission_not_achieved_is_not_found() {
        MissionTest::with(())
            .given_no_previous_events()
            .when_async(MissionCommand::LinkReward { reward_id: REWARD })
            .await
            .then_expect_error(MissionError::NotFound);
        assert_eq!(MissionError::NotFound.kind(), RejectionKind::NotFound);
        assert_eq!(MissionError::NotFound.code(), "mission_not_found");
    }

    #[tokio::test]
    async fn a_mission_earns_one_reward() {
        MissionTest::with(())
            .given(vec![achieved(), rewarded()])
            .when_async(MissionCommand::LinkReward {
                reward_id: Uuid::from_u128(0xe2),
            })
            .await
            .then_expect_error(MissionError::AlreadyRewarded);
        assert_eq!(
            MissionError::AlreadyRewarded.kind(),
            RejectionKind::Conflict
        );
        assert_eq!(
            MissionError::AlreadyRewarded.code(),
            "mission_already_rewarded"
        );
    }

    #[test]
    fn the_mission_id_follows_from_the_customer_and_code() {
        assert_eq!(
            mission_id("kim", "first-order"),
            mission_id("kim", "first-order")
        );
        assert_ne!(
            mission_id("kim", "first-order"),
            mission_id("lee", "first-order")
        );
        assert_ne!(
            mission_id("kim", "first-order"),
            mission_id("kim", "second-order")
        );
        assert_ne!(mission_id("kim", "lee"), mission_id("lee", "kim"));
    }

    #[test]
    fn the_mission_id_tells_apart_ids_that_join_alike() {
        assert_ne!(mission_id("a b", "c"), mission_id("a", "b c"));
        assert_ne!(mission_id("ab", "c"), mission_id("a", "bc"));
        assert_ne!(mission_id("a\nb", "c"), mission_id("a", "b\nc"));
        assert_ne!(mission_id("1:a", "b"), mission_id("1", ":ab"));
        assert_ne!(mission_id("", "ab"), mission_id("ab", ""));
    }

    #[test]
    fn state_answers_from_its_events() {
        let mut mission = Mission::default();
        assert_eq!(
            (
                mission.customer_id(),
                mission.mission_code(),
                mission.reward_id()
            ),
            (None, None, None)
        );
        assert!(!mission.is_achieved());
        mission.apply(achieved());
        assert_eq!(mission.customer_id(), Some("kim"));
        assert_eq!(mission.mission_code(), Some("first-order"));
        assert!(mission.is_achieved());
        assert_eq!(mission.reward_id(), None);
        mission.apply(rewarded());
        assert_eq!(mission.reward_id(), Some(REWARD));
    }

    #[test]
    fn stored_format_is_the_contract() {
        assert_stored_as(
            &achieved(),
            json!({"MissionAchieved": {
                "customerId": "kim",
                "missionCode": "first-order",
                "achievedAt": "2026-12-24T10:00:00Z"
            }}),
            EVENT_TYPES,
        );
        assert_stored_as(
            &rewarded(),
            json!({"MissionRewarded": {"rewardId": REWARD.to_string()}}),
            EVENT_TYPES,
        );
    }
}
