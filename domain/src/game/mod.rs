//! The game context: a customer achieves missions, each mission earns one reward, and
//! the reward lands in the customer's wallet, where it can be exchanged for a product.
//!
//! | module | aggregate (`TYPE`) |
//! |---|---|
//! | [`mission`] | `Mission` — achieved once per customer and mission code; linked to its reward |
//! | [`reward`] | `Reward` — a whole voucher, one per mission: allocated, then redeemed |
//! | [`wallet`] | `Wallet` — one per customer: the rewards issued to them, and their exchanges |
//!
//! Policies carry a reward from one aggregate to the next: an achieved mission allocates
//! its reward (whose id follows from the mission's, [`reward::reward_id`]), and an
//! allocated reward is issued into the wallet of its customer ([`wallet::wallet_id`]) and
//! linked back to its mission. Every id follows from what caused it, so a redelivered
//! event names the same streams and is refused or skipped rather than doubled.
//!
//! Exchanging a reward for a product takes a synchronous call to the gift service, and
//! that call is made by the command API, outside any transaction: no domain code calls
//! out. The command API first asks the wallet whether the reward may be exchanged
//! ([`wallet::Wallet::exchangeable`], [`wallet::check_product_code`]), then calls the
//! gift service, and only once it answered with a giftId records the result: the wallet's
//! `RewardExchanged` and the reward's `RewardRedeemed`, committed together.

pub mod mission;
pub mod reward;
pub mod wallet;
