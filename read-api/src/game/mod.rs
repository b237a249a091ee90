//! The game context's reads: missions (`GET /missions`), rewards in wallets
//! (`GET /rewards`), and the mypage's `missions` and `wallet`. A customer reads their
//! own.

mod missions;
mod rewards;

use projections::game::{MissionRow, WalletRow, MYPAGE_MISSIONS, MYPAGE_WALLET};
use utoipa::OpenApi;

use crate::mypage::RowsSection;
use crate::registry::Reads;

/// The mypage's `missions`: the customer's latest missions.
static MISSIONS: RowsSection<MissionRow> = RowsSection::new(
    "missions",
    &MYPAGE_MISSIONS,
    "position DESC",
    "/missions?customerId=",
);

/// The mypage's `wallet`: the rewards in the customer's wallet, latest first.
static WALLET: RowsSection<WalletRow> = RowsSection::new(
    "wallet",
    &MYPAGE_WALLET,
    "position DESC",
    "/rewards?customerId=",
);

/// The game's reads.
pub fn reads() -> Reads {
    Reads {
        routes: missions::router().merge(rewards::router()),
        openapi: GameDoc::openapi(),
        mypage: vec![&MISSIONS, &WALLET],
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(missions::list, missions::one, rewards::list, rewards::one),
    tags(
        (name = "missions", description = "Missions achieved, with their rewards"),
        (name = "rewards", description = "Rewards in wallets"),
    )
)]
struct GameDoc;
