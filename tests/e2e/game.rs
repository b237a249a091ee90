//! Game rewards (SPEC §2 "Game context", "Outbound calls"): missions earn rewards that
//! land in wallets through policies that never call out; a reward is exchanged through
//! a real HTTP call to a gift service the test controls, behind a timeout, a bulkhead
//! and a circuit breaker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth::Role;
use command_api::game::GIFT_TARGET;
use command_api::outbound::{BreakerSettings, Outbound, TargetSettings};
use domain::game::mission::mission_id;
use domain::game::reward::reward_id;
use futures::future::join_all;
use policies::NotificationSink;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::gift_server::{GiftServer, Mode};
use crate::support::{Reply, Store, TestApp};

/// How long a gift call may take in these tests.
const TIMEOUT: Duration = Duration::from_millis(300);
/// How long the breaker stays open in these tests.
const OPEN_FOR: Duration = Duration::from_millis(500);

/// The gift target at `url`: 300 ms per call, `max_in_flight` at once, the breaker
/// opening after 5 failures for 500 ms.
fn gift_at(url: &str, max_in_flight: usize) -> Outbound {
    Outbound::default().with(
        GIFT_TARGET,
        TargetSettings {
            url: url.to_string(),
            timeout: TIMEOUT,
            max_in_flight,
            breaker: BreakerSettings {
                failures_to_open: 5,
                open_for: OPEN_FOR,
            },
        },
    )
}

async fn app_calling(store: Store, gifts: &GiftServer) -> TestApp {
    TestApp::spawn_calling(store, gift_at(&gifts.url, 16)).await
}

fn stores() -> [Store; 2] {
    [Store::Postgres, Store::Sqlite]
}

async fn achieve(app: &TestApp, customer: &str, code: &str) -> Reply {
    let body = json!({"customerId": customer, "missionCode": code});
    app.as_user(Role::Customer, customer)
        .post("/missions", body)
        .await
}

/// `customer`'s reward for mission `code`, once the policies have put it in the wallet.
async fn issued_reward(app: &TestApp, customer: &str, code: &str) -> Uuid {
    assert_eq!(
        achieve(app, customer, code).await.status,
        StatusCode::CREATED
    );
    app.settle().await;
    reward_id(mission_id(customer, code))
}

async fn exchange(app: &TestApp, customer: &str, reward: Uuid, product: &str) -> Reply {
    app.as_user(Role::Customer, customer)
        .post(
            &format!("/rewards/{reward}/exchange"),
            json!({"productCode": product}),
        )
        .await
}

async fn breaker(app: &TestApp) -> Value {
    app.get("/admin/outbound").await.body["items"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_gift_service_exchanges_a_reward_once_and_every_view_shows_it() {
    for store in stores() {
        let gifts = GiftServer::start(Mode::Accept).await;
        let app = app_calling(store, &gifts).await;
        let reward = issued_reward(&app, "kim", "FIRST-WIN").await;
        let wallet = app.get(&format!("/rewards/{reward}")).await;
        assert_eq!(wallet.body["rewardStatus"], "ISSUED", "{:?}", wallet.body);

        let key = [("Idempotency-Key", "exchange-1")];
        let path = format!("/rewards/{reward}/exchange");
        let kim = app.as_user(Role::Customer, "kim");
        let first = kim
            .post_with(&path, json!({"productCode": "COFFEE-1"}), &key)
            .await;
        assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
        let gift_id = first.body["giftId"].as_str().expect("a giftId").to_string();
        assert_eq!(gifts.gift_of(&reward.to_string()), Some(gift_id.clone()));
        assert_eq!(
            (
                first.body["rewardId"].as_str(),
                first.body["productCode"].as_str()
            ),
            (Some(reward.to_string().as_str()), Some("COFFEE-1"))
        );
        let retried = kim
            .post_with(&path, json!({"productCode": "COFFEE-1"}), &key)
            .await;
        assert_eq!(
            (retried.status, &retried.body),
            (StatusCode::OK, &first.body)
        );
        let again = exchange(&app, "kim", reward, "COFFEE-1").await;
        assert_eq!(
            (again.status, again.body["error"].as_str()),
            (StatusCode::CONFLICT, Some("reward_already_exchanged"))
        );
        assert_eq!(gifts.gifts(), 1);
        assert_eq!(
            app.event_types("Reward", reward).await,
            ["RewardAllocated", "RewardRedeemed"]
        );

        app.settle().await;
        let wallet = app.get(&format!("/rewards/{reward}")).await;
        assert_eq!(
            (
                wallet.body["rewardStatus"].as_str(),
                wallet.body["giftId"].as_str()
            ),
            (Some("EXCHANGED"), Some(gift_id.as_str()))
        );
        let mission = app
            .get(&format!("/missions/{}", mission_id("kim", "FIRST-WIN")))
            .await;
        assert_eq!(
            (
                mission.body["rewardStatus"].as_str(),
                mission.body["productCode"].as_str()
            ),
            (Some("EXCHANGED"), Some("COFFEE-1"))
        );
        let page = kim.get("/mypages/kim").await;
        assert_eq!(
            page.body["wallet"][0]["rewardStatus"], "EXCHANGED",
            "{:?}",
            page.body
        );
        assert_eq!(page.body["missions"][0]["giftId"], gift_id.as_str());
        let notices = app.get("/notifications?userId=kim").await.body["items"].clone();
        let mut contents: Vec<&str> = notices
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["contents"].as_str().unwrap())
            .collect();
        contents.sort();
        assert_eq!(
            contents,
            [
                "reward exchanged for COFFEE-1",
                "reward for mission FIRST-WIN is in your wallet"
            ]
        );
        app.assert_views_equal_a_rebuild().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mission_is_achieved_once_and_a_second_try_names_it() {
    for store in stores() {
        let app = TestApp::spawn(store).await;
        let app = &app;
        let replies = join_all((0..20).map(|_| achieve(app, "kim", "DAILY-1"))).await;
        let created = replies
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        assert_eq!(created, 1);
        let mission = mission_id("kim", "DAILY-1").to_string();
        for reply in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
            assert_eq!(
                (
                    reply.status,
                    reply.body["error"].as_str(),
                    reply.body["missionId"].as_str()
                ),
                (
                    StatusCode::CONFLICT,
                    Some("mission_already_achieved"),
                    Some(mission.as_str())
                )
            );
        }
        let for_another = app
            .as_user(Role::Customer, "lee")
            .post(
                "/missions",
                json!({"customerId": "kim", "missionCode": "X"}),
            )
            .await;
        assert_eq!(for_another.status, StatusCode::FORBIDDEN);
        let by_the_game_server = app
            .as_user(Role::Manager, "game-server")
            .post(
                "/missions",
                json!({"customerId": "kim", "missionCode": "X"}),
            )
            .await;
        assert_eq!(by_the_game_server.status, StatusCode::CREATED);
        for (body, field) in [
            (
                json!({"customerId": "kim", "missionCode": ""}),
                "missionCode",
            ),
            (json!({"customerId": "kim"}), "missionCode"),
            (
                json!({"customerId": "kim", "missionCode": "a".repeat(65)}),
                "missionCode",
            ),
        ] {
            let reply = app.post("/missions", body).await;
            assert_eq!(
                (reply.status, reply.body["field"].as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, Some(field))
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_gift_service_failing_missions_still_reward_and_the_breaker_opens_then_closes() {
    for store in stores() {
        let gifts = GiftServer::start(Mode::Fail).await;
        let app = app_calling(store, &gifts).await;
        let rewards: Vec<Uuid> = {
            let mut rewards = Vec::new();
            for n in 0..7 {
                rewards.push(issued_reward(&app, "kim", &format!("M-{n}")).await);
            }
            rewards
        };
        assert_eq!(
            app.get("/rewards?customerId=kim").await.body["items"]
                .as_array()
                .map(Vec::len),
            Some(7)
        );
        for reward in &rewards[..5] {
            let refused = exchange(&app, "kim", *reward, "COFFEE-1").await;
            assert_eq!(
                (refused.status, refused.body["error"].as_str()),
                (StatusCode::SERVICE_UNAVAILABLE, Some("gift_unavailable")),
                "{:?}",
                refused.body
            );
            assert!(refused.header("retry-after").is_some());
        }
        assert_eq!(breaker(&app).await["state"], "OPEN");
        assert_eq!(breaker(&app).await["consecutiveFailures"], 5);
        let (connections, calls) = (gifts.connections(), gifts.calls());
        assert_eq!(calls, 5);
        let refused = exchange(&app, "kim", rewards[5], "COFFEE-1").await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        let wait: u64 = refused
            .header("retry-after")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!(wait >= 1, "seconds until the probe, at least 1");
        assert_eq!(
            (gifts.connections(), gifts.calls()),
            (connections, calls),
            "an open breaker makes no call"
        );
        assert_eq!(
            app.event_types("Reward", rewards[5]).await,
            ["RewardAllocated"],
            "nothing appended"
        );
        assert!(
            app.get("/health/ready").await.status.is_success(),
            "readiness does not depend on the gift service"
        );

        gifts.set(Mode::Accept);
        tokio::time::sleep(OPEN_FOR).await;
        assert_eq!(breaker(&app).await["state"], "HALF_OPEN");
        let probe = exchange(&app, "kim", rewards[5], "COFFEE-1").await;
        assert_eq!(probe.status, StatusCode::OK, "{:?}", probe.body);
        assert_eq!(breaker(&app).await["state"], "CLOSED");
        assert_eq!(
            exchange(&app, "kim", rewards[6], "COFFEE-1").await.status,
            StatusCode::OK
        );
        let metrics = app.metrics().await;
        assert!(
            metrics
                .contains(r#"strata_outbound_calls_total{target="gift",outcome="breaker_open"} 1"#),
            "{metrics}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gift_service_too_slow_is_a_503_and_the_retry_gets_the_gift_it_made() {
    for store in stores() {
        let gifts = GiftServer::start(Mode::Delay(TIMEOUT * 3)).await;
        let app = app_calling(store, &gifts).await;
        let reward = issued_reward(&app, "kim", "SLOW").await;
        let started = Instant::now();
        let slow = exchange(&app, "kim", reward, "COFFEE-1").await;
        assert_eq!(
            (slow.status, slow.body["error"].as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, Some("gift_unavailable"))
        );
        assert!(
            started.elapsed() < TIMEOUT + Duration::from_secs(2),
            "answered within the timeout and a margin"
        );
        assert_eq!(
            app.event_types("Reward", reward).await,
            ["RewardAllocated"],
            "nothing committed"
        );
        tokio::time::sleep(TIMEOUT * 3).await;
        let made = gifts
            .gift_of(&reward.to_string())
            .expect("the slow service made the gift");
        gifts.set(Mode::Accept);
        let other_product = exchange(&app, "kim", reward, "TEA-2").await;
        assert_eq!(
            (other_product.status, other_product.body["error"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("gift_refused")),
            "the gift made is for COFFEE-1"
        );
        assert_eq!(app.event_types("Reward", reward).await, ["RewardAllocated"]);
        let retried = exchange(&app, "kim", reward, "COFFEE-1").await;
        assert_eq!(
            (retried.status, retried.body["giftId"].as_str()),
            (StatusCode::OK, Some(made.as_str()))
        );
        assert_eq!(gifts.gifts(), 1);
        let wallet = app
            .stream("Wallet", domain::game::wallet::wallet_id("kim"))
            .await;
        let exchanged = wallet
            .iter()
            .filter(|event| event["eventType"] == "RewardExchanged")
            .count();
        assert_eq!(exchanged, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_product_is_a_422_naming_it_and_appends_nothing() {
    for store in stores() {
        let gifts = GiftServer::start(Mode::Refuse).await;
        let app = app_calling(store, &gifts).await;
        let reward = issued_reward(&app, "kim", "REFUSED").await;
        let before = app.count_events().await;
        let refused = exchange(&app, "kim", reward, "NOT-CARRIED").await;
        assert_eq!(
            (
                refused.status,
                refused.body["error"].as_str(),
                refused.body["field"].as_str()
            ),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("gift_refused"),
                Some("productCode")
            ),
            "{:?}",
            refused.body
        );
        assert_eq!(app.count_events().await, before);
        assert_eq!(
            breaker(&app).await["state"],
            "CLOSED",
            "a refusal is an answer, not a failure"
        );
        let bad = exchange(&app, "kim", reward, "").await;
        assert_eq!(
            (bad.status, bad.body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("productCode"))
        );
        let unknown = exchange(&app, "kim", Uuid::now_v7(), "COFFEE-1").await;
        assert_eq!(
            (unknown.status, unknown.body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("reward_not_found"))
        );
        let anothers = exchange(&app, "lee", reward, "COFFEE-1").await;
        assert_eq!(
            (anothers.status, anothers.body["error"].as_str()),
            (StatusCode::NOT_FOUND, Some("reward_not_found"))
        );
        assert_eq!(
            gifts.connections(),
            1,
            "only the refused call reached the service"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_bulkhead_the_surplus_is_refused_at_once() {
    for store in stores() {
        let gifts = GiftServer::start(Mode::Delay(Duration::from_millis(200))).await;
        let outbound = Outbound::default().with(
            GIFT_TARGET,
            TargetSettings {
                url: gifts.url.clone(),
                timeout: Duration::from_secs(2),
                max_in_flight: 2,
                breaker: BreakerSettings {
                    failures_to_open: 5,
                    open_for: OPEN_FOR,
                },
            },
        );
        let app = TestApp::spawn_calling(store, outbound).await;
        let mut rewards = Vec::new();
        for n in 0..5 {
            rewards.push(issued_reward(&app, "kim", &format!("B-{n}")).await);
        }
        let app = &app;
        let replies = join_all(
            rewards
                .iter()
                .map(|reward| exchange(app, "kim", *reward, "COFFEE-1")),
        )
        .await;
        let exchanged = replies
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        let refused = replies
            .iter()
            .filter(|r| {
                r.status == StatusCode::SERVICE_UNAVAILABLE && r.body["error"] == "gift_unavailable"
            })
            .count();
        assert_eq!(
            (exchanged, refused),
            (2, 3),
            "{:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert_eq!(gifts.gifts(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_exchanges_of_one_reward_one_is_made_and_one_gift() {
    for store in stores() {
        let gifts = GiftServer::start(Mode::Delay(Duration::from_millis(50))).await;
        let app = app_calling(store, &gifts).await;
        let reward = issued_reward(&app, "kim", "TWICE").await;
        let app = &app;
        let replies = join_all((0..2).map(|_| exchange(app, "kim", reward, "COFFEE-1"))).await;
        let mut statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
        statuses.sort();
        assert_eq!(statuses, [200, 409]);
        let conflict = replies
            .iter()
            .find(|r| r.status == StatusCode::CONFLICT)
            .unwrap();
        assert_eq!(conflict.body["error"], "reward_already_exchanged");
        assert_eq!(gifts.gifts(), 1);
        assert_eq!(
            app.event_types("Reward", reward).await,
            ["RewardAllocated", "RewardRedeemed"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_reward_policy_down_missions_are_achieved_and_each_gets_one_reward_when_it_starts()
{
    for store in stores() {
        let app = TestApp::spawn(store).await;
        let customers = ["kim", "lee", "park"];
        for customer in customers {
            assert_eq!(
                achieve(&app, customer, "FIRST").await.status,
                StatusCode::CREATED
            );
        }
        let others = app
            .backend
            .policies(&["gameNotify"], Arc::new(NotificationSink::log()))
            .await;
        app.settle_with(&others).await;
        assert_eq!(app.get("/rewards").await.body["items"], json!([]));
        let rewards = app
            .backend
            .policies(&["game"], Arc::new(NotificationSink::log()))
            .await;
        rewards.catch_up_all().await.expect("rewarded");
        rewards.catch_up_all().await.expect("caught up again");
        app.settle().await;
        for customer in customers {
            let reward = reward_id(mission_id(customer, "FIRST"));
            assert_eq!(app.event_types("Reward", reward).await, ["RewardAllocated"]);
            let mission = mission_id(customer, "FIRST");
            assert_eq!(
                app.event_types("Mission", mission).await,
                ["MissionAchieved", "MissionRewarded"]
            );
        }
        assert_eq!(
            app.get("/rewards").await.body["items"]
                .as_array()
                .map(Vec::len),
            Some(3)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_gift_service_an_exchange_is_a_503_saying_so() {
    let app = TestApp::spawn(Store::Sqlite).await;
    let reward = issued_reward(&app, "kim", "NONE").await;
    let reply = exchange(&app, "kim", reward, "COFFEE-1").await;
    assert_eq!(
        (reply.status, reply.body["error"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("gift_unavailable"))
    );
    assert!(reply.body["message"]
        .as_str()
        .unwrap()
        .contains("no gift service configured"));
    assert!(reply.header("retry-after").is_some());
    assert_eq!(app.get("/admin/outbound").await.body["items"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_gift_service_keeps_the_contract_and_serves_an_exchange() {
    use crate::processes::{eventually, free_port, Processes};

    let port = free_port().await;
    let data = std::env::temp_dir().join(format!("strata-gifts-{}", Uuid::now_v7()));
    let service = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "gift-service",
            "--port",
            &port.to_string(),
            "--gift-data-dir",
        ])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("the gift service started");
    let _processes = Processes(vec![service]);
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    eventually(&client, &format!("{url}/health"), |status, _| {
        status == StatusCode::OK
    })
    .await;
    let gift = |key: &str, product: &str| {
        let body = json!({"exchangeId": "ex-1", "customerId": "kim", "rewardId": "ex-1", "productCode": product});
        client
            .post(format!("{url}/gifts"))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = gift("ex-1", "COFFEE-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = gift("ex-1", "COFFEE-1").await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        again.json::<Value>().await.unwrap()["giftId"],
        first["giftId"],
        "one gift per exchangeId"
    );
    assert_eq!(
        gift("other-key", "COFFEE-1").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        gift("ex-1", "커피").await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let app = TestApp::spawn_calling(Store::Sqlite, gift_at(&url, 16)).await;
    let reward = issued_reward(&app, "kim", "THROUGH-THE-SERVICE").await;
    let exchanged = exchange(&app, "kim", reward, "COFFEE-1").await;
    assert_eq!(exchanged.status, StatusCode::OK, "{:?}", exchanged.body);
    let _ = std::fs::remove_dir_all(data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_is_not_a_gift_is_a_failure_and_a_probe_given_up_leaves_no_breaker_stuck() {
    use axum::routing::post;
    use axum::{Json, Router};

    // A "gift service" that answers 200 without a giftId: a proxy's page, say.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let nonsense = Router::new().route("/gifts", post(|| async { Json(json!({"ok": true})) }));
    let server = tokio::spawn(async move { axum::serve(listener, nonsense).await });
    let app = TestApp::spawn_calling(Store::Sqlite, gift_at(&url, 16)).await;
    let mut rewards = Vec::new();
    for n in 0..6 {
        rewards.push(issued_reward(&app, "kim", &format!("N-{n}")).await);
    }
    for reward in &rewards[..5] {
        let reply = exchange(&app, "kim", *reward, "COFFEE-1").await;
        assert_eq!(reply.body["error"], "gift_unavailable");
    }
    assert_eq!(
        breaker(&app).await["state"],
        "OPEN",
        "five non-answers open the breaker"
    );
    server.abort();

    // A probe whose client goes away mid-call (its request dropped before the gift
    // service answers): the next call may probe, and is not refused as "probe out".
    let gifts = GiftServer::start(Mode::Fail).await;
    let patient = Outbound::default().with(
        GIFT_TARGET,
        TargetSettings {
            url: gifts.url.clone(),
            timeout: Duration::from_secs(5),
            max_in_flight: 16,
            breaker: BreakerSettings {
                failures_to_open: 5,
                open_for: OPEN_FOR,
            },
        },
    );
    let app = TestApp::spawn_calling(Store::Sqlite, patient).await;
    let reward = issued_reward(&app, "kim", "GIVEN-UP").await;
    for _ in 0..5 {
        exchange(&app, "kim", reward, "COFFEE-1").await;
    }
    assert_eq!(breaker(&app).await["state"], "OPEN");
    tokio::time::sleep(OPEN_FOR).await;
    gifts.set(Mode::Delay(Duration::from_secs(3)));
    let path = format!("/rewards/{reward}/exchange");
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let given_up = impatient
        .post(format!("{}{path}", app.address))
        .bearer_auth(app.token(Role::Customer, "kim"))
        .json(&json!({"productCode": "COFFEE-1"}))
        .send()
        .await;
    assert!(given_up.is_err(), "the client gave up on the probe");
    tokio::time::sleep(Duration::from_millis(200)).await;
    gifts.set(Mode::Accept);
    let next = exchange(&app, "kim", reward, "COFFEE-1").await;
    assert_eq!(next.status, StatusCode::OK, "{:?}", next.body);
    assert_eq!(breaker(&app).await["state"], "CLOSED");
}
