//! The gameNotify policy: the customer hears of each reward that lands in their wallet
//! (`reward for mission <code> is in your wallet`) and of each exchange (`reward
//! exchanged for <productCode>`), through the shared notifications context, once per
//! event.

use chrono::Utc;
use command_api::store::EventLog;
use cqrs_es::Aggregate;
use domain::game::wallet::{Wallet, WalletEvent};
use domain::notifications::notification::{Notification, NotificationCommand};
use futures::future::BoxFuture;
use projections::game::GameEvent;
use projections::LogEvent;

use crate::issue::{derived_id, PolicyError, Reaction};
use crate::policy::{Issue, Policy};

pub(super) struct NotifyPolicy;

/// What the customer is told of a wallet event.
fn contents(event: &WalletEvent) -> String {
    match event {
        WalletEvent::RewardIssued { mission_code, .. } => {
            format!("reward for mission {mission_code} is in your wallet")
        }
        WalletEvent::RewardExchanged { product_code, .. } => {
            format!("reward exchanged for {product_code}")
        }
    }
}

impl<L: EventLog> Policy<L> for NotifyPolicy {
    fn name(&self) -> &'static str {
        "gameNotify"
    }

    fn reads(&self) -> &[&'static str] {
        &[Wallet::TYPE]
    }

    fn key_of(&self, event: &LogEvent) -> Result<String, serde_json::Error> {
        Ok(event.aggregate_id.clone())
    }

    fn react<'a>(
        &'a self,
        reaction: &'a Reaction<'a, L>,
    ) -> BoxFuture<'a, Result<Vec<Issue<L>>, PolicyError>> {
        Box::pin(async move {
            let Some(GameEvent::Wallet(event)) = reaction.decode::<GameEvent>()? else {
                return Ok(Vec::new());
            };
            let customer_id = match &event {
                WalletEvent::RewardIssued { customer_id, .. } => Some(customer_id.clone()),
                WalletEvent::RewardExchanged { .. } => reaction
                    .load::<Wallet>(reaction.aggregate_id()?)
                    .await?
                    .customer_id()
                    .map(str::to_owned),
            };
            let Some(customer_id) = customer_id else {
                return Ok(Vec::new());
            };
            let event_id = reaction.event_id();
            let command = NotificationCommand::SendNotification {
                user_id: customer_id,
                contents: contents(&event),
                cause: reaction.event.event_type.clone(),
                sent_at: Utc::now(),
            };
            let id = derived_id("game notification", &event_id);
            Ok(vec![Issue::on_new_stream::<Notification>(id, command)])
        })
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn the_customer_is_told_of_a_reward_in_the_wallet_and_of_its_exchange() {
        let issued = WalletEvent::RewardIssued {
            reward_id: Uuid::nil(),
            customer_id: "kim".into(),
            mission_id: Uuid::nil(),
            mission_code: "FIRST-WIN".into(),
            issued_at: Utc::now(),
        };
        assert_eq!(
            contents(&issued),
            "reward for mission FIRST-WIN is in your wallet"
        );
        let exchanged = WalletEvent::RewardExchanged {
            reward_id: Uuid::nil(),
            mission_id: Uuid::nil(),
            product_code: "COFFEE-1".into(),
            gift_id: "g-1".into(),
            exchanged_at: Utc::now(),
        };
        assert_eq!(contents(&exchanged), "reward exchanged for COFFEE-1");
    }
}
