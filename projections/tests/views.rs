//! Every context's views on both stores: hand-built log events go through
//! `projections::view::apply` as one batch inside a transaction, on a fresh, migrated database (an in-memory SQLite
//! one, and a uuid-named PostgreSQL one dropped afterwards), and plain SQL checks the rows.
//!
//! Each scenario runs twice, as `<scenario>::postgres` and `<scenario>::sqlite`.
//! PostgreSQL is `postgres://postgres@127.0.0.1:5432/postgres`, or
//! `STRATA_TEST_DATABASE_URL`.

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::booking::booking::BookingEvent;
use domain::booking::confirm::ConfirmEvent;
use domain::notifications::notification::NotificationEvent;
use domain::shop::delivery::DeliveryEvent;
use domain::shop::order::{CancelledBy, OrderEvent};
use domain::shop::payment::PaymentEvent;
use domain::shop::PayMethod;
use projections::booking::BookingRow;
use projections::event::{timestamp, LogEvent};
use projections::notifications::NotificationRow;
use projections::shop::OrderRow;
use projections::sql::ViewTx;
use projections::table::ViewRow;
use projections::View;
use serde::Serialize;
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPool, PgRow};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::FromRow;
use uuid::Uuid;

macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[tokio::test]
            async fn postgres() {
                super::on_postgres(super::$scenario).await
            }

            #[tokio::test]
            async fn sqlite() {
                super::on_sqlite(super::$scenario).await
            }
        }
    )*};
}

on_both_stores!(
    an_order_shows_its_payment_delivery_and_cancellation,
    one_batch_builds_the_same_rows_as_its_events_one_at_a_time,
    an_update_without_its_row_changes_nothing,
    a_booking_shows_its_confirm_through_denial_cancellation_and_deletion,
    mypage_keeps_the_20_latest_notifications_and_the_view_keeps_all,
);

// ---------------------------------------------------------------------------------------
// Scenarios

async fn an_order_shows_its_payment_delivery_and_cancellation(db: Db) {
    let mut log = Log::default();
    let (order, payment, delivery) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let events = [
        log.append("Order", order, placed("alice")),
        log.append("Payment", payment, paid(order)),
        log.append(
            "Delivery",
            delivery,
            DeliveryEvent::DeliveryStarted { order_id: order },
        ),
    ];
    db.apply(&events).await;

    let mut expected = OrderRow {
        order_id: order.to_string(),
        customer_id: "alice".into(),
        product: "컴퓨터".into(),
        qty: 2,
        price: 1000,
        pay_method: "CARD".into(),
        order_status: "PLACED".into(),
        cancelled_by: None,
        payment_id: Some(payment.to_string()),
        payment_status: Some("PAID".into()),
        delivery_id: Some(delivery.to_string()),
        delivery_status: Some("STARTED".into()),
        position: 3,
        updated_at: timestamp(&recorded_at(3)),
    };
    assert_eq!(db.order("order_list", order).await, Some(expected.clone()));
    assert_eq!(
        db.order("mypage_orders", order).await,
        Some(expected.clone())
    );

    // The customer cancels; the policies cancel the delivery and the payment.
    let cancelled_by = CancelledBy::Customer;
    let events = [
        log.append("Order", order, OrderEvent::OrderCancelled { cancelled_by }),
        log.append(
            "Delivery",
            delivery,
            DeliveryEvent::DeliveryCancelled { order_id: order },
        ),
        log.append(
            "Payment",
            payment,
            PaymentEvent::PaymentCancelled { order_id: order },
        ),
    ];
    db.apply(&events).await;

    expected.order_status = "CANCELLED".into();
    expected.cancelled_by = Some("CUSTOMER".into());
    expected.payment_status = Some("CANCELLED".into());
    expected.delivery_status = Some("CANCELLED".into());
    expected.position = 6;
    expected.updated_at = timestamp(&recorded_at(6));
    assert_eq!(db.order("order_list", order).await, Some(expected.clone()));
    assert_eq!(db.order("mypage_orders", order).await, Some(expected));
    let owner = "SELECT user_id FROM mypage_orders WHERE order_id = $1";
    assert_eq!(db.texts(owner, &order.to_string()).await, ["alice"]);
}

async fn one_batch_builds_the_same_rows_as_its_events_one_at_a_time(db: Db) {
    let mut log = Log::default();
    let (order, payment, delivery) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let (booking, confirm) = (Uuid::now_v7(), Uuid::now_v7());
    let events = [
        log.append("Order", order, placed("bob")),
        log.append("Payment", payment, paid(order)),
        log.append(
            "Delivery",
            delivery,
            DeliveryEvent::DeliveryStarted { order_id: order },
        ),
        log.append(
            "Delivery",
            delivery,
            DeliveryEvent::DeliveryCancelled { order_id: order },
        ),
        log.append(
            "Order",
            order,
            OrderEvent::OrderCancelled {
                cancelled_by: CancelledBy::Delivery,
            },
        ),
        log.append(
            "Payment",
            payment,
            PaymentEvent::PaymentCancelled { order_id: order },
        ),
        log.append("Booking", booking, created("bob")),
        log.append(
            "Confirm",
            confirm,
            ConfirmEvent::ConfirmRequested {
                booking_id: booking,
                user_id: "bob".into(),
            },
        ),
        log.append(
            "Confirm",
            confirm,
            ConfirmEvent::ConfirmCompleted {
                booking_id: booking,
                manager_id: "manager-1".into(),
                confirm_dtm: recorded_at(8),
            },
        ),
        log.append(
            "Booking",
            booking,
            BookingEvent::BookingCancelled {
                reason: "CUSTOMER".into(),
            },
        ),
        log.append(
            "Confirm",
            confirm,
            ConfirmEvent::ConfirmDeleted {
                booking_id: booking,
            },
        ),
        log.append(
            "Notification",
            Uuid::now_v7(),
            NotificationEvent::NotificationSent {
                user_id: "bob".into(),
                contents: "reservation has been canceled".into(),
                cause: "BookingCancelled".into(),
                send_dtm: recorded_at(11),
            },
        ),
    ];
    db.apply(&events).await;
    let before = db.snapshot().await;
    let order_row = &before.orders[0];
    assert_eq!(
        (order_row.order_status.as_str(), order_row.position),
        ("CANCELLED", 6)
    );
    let booking_row = &before.bookings[0];
    assert_eq!(
        (booking_row.confirm_status.as_deref(), booking_row.position),
        (Some("DELETED"), 11)
    );

    db.clear().await;
    for event in &events {
        db.apply(std::slice::from_ref(event)).await;
    }
    assert_eq!(db.snapshot().await, before);
}

async fn an_update_without_its_row_changes_nothing(db: Db) {
    let mut log = Log::default();
    let (order, booking) = (Uuid::now_v7(), Uuid::now_v7());
    let events = [
        log.append("Payment", Uuid::now_v7(), paid(order)),
        log.append(
            "Delivery",
            Uuid::now_v7(),
            DeliveryEvent::DeliveryStarted { order_id: order },
        ),
        log.append(
            "Order",
            order,
            OrderEvent::OrderCancelled {
                cancelled_by: CancelledBy::Customer,
            },
        ),
        log.append(
            "Confirm",
            Uuid::now_v7(),
            ConfirmEvent::ConfirmRequested {
                booking_id: booking,
                user_id: "carol".into(),
            },
        ),
        log.append(
            "Booking",
            booking,
            BookingEvent::BookingCancelled {
                reason: "DENIED".into(),
            },
        ),
    ];
    db.apply(&events).await;

    for table in [
        "order_list",
        "mypage_orders",
        "booking_list",
        "mypage_bookings",
    ] {
        assert_eq!(
            db.count(&format!("SELECT COUNT(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
}

async fn a_booking_shows_its_confirm_through_denial_cancellation_and_deletion(db: Db) {
    let mut log = Log::default();
    let (booking, confirm) = (Uuid::now_v7(), Uuid::now_v7());
    let events = [
        log.append("Booking", booking, created("dave")),
        log.append(
            "Confirm",
            confirm,
            ConfirmEvent::ConfirmRequested {
                booking_id: booking,
                user_id: "dave".into(),
            },
        ),
    ];
    db.apply(&events).await;

    let mut expected = BookingRow {
        booking_id: booking.to_string(),
        room_id: 556677,
        use_start_dtm: "2026-12-02T10:00:00.000000Z".into(),
        use_end_dtm: "2026-12-02T11:30:00.000000Z".into(),
        booking_user_id: "dave".into(),
        booking_dtm: "2026-12-01T08:59:00.000000Z".into(),
        booking_status: "CREATED".into(),
        confirm_id: Some(confirm.to_string()),
        confirm_status: Some("BOOKED".into()),
        confirm_dtm: None,
        confirm_user_id: None,
        position: 2,
        updated_at: timestamp(&recorded_at(2)),
    };
    assert_eq!(
        db.booking("booking_list", booking).await,
        Some(expected.clone())
    );
    assert_eq!(
        db.booking("mypage_bookings", booking).await,
        Some(expected.clone())
    );

    let denied_at = Utc.with_ymd_and_hms(2026, 12, 1, 9, 30, 0).unwrap();
    let events = [log.append(
        "Confirm",
        confirm,
        ConfirmEvent::ConfirmDenied {
            booking_id: booking,
            manager_id: "manager-7".into(),
            confirm_dtm: denied_at,
        },
    )];
    db.apply(&events).await;

    expected.confirm_status = Some("DENIED".into());
    expected.confirm_dtm = Some("2026-12-01T09:30:00.000000Z".into());
    expected.confirm_user_id = Some("manager-7".into());
    expected.position = 3;
    expected.updated_at = timestamp(&recorded_at(3));
    assert_eq!(
        db.booking("booking_list", booking).await,
        Some(expected.clone())
    );

    // The policies cancel the denied booking, then delete its confirm.
    let events = [
        log.append(
            "Booking",
            booking,
            BookingEvent::BookingCancelled {
                reason: "DENIED".into(),
            },
        ),
        log.append(
            "Confirm",
            confirm,
            ConfirmEvent::ConfirmDeleted {
                booking_id: booking,
            },
        ),
    ];
    db.apply(&events).await;

    expected.booking_status = "CANCELLED".into();
    expected.confirm_status = Some("DELETED".into());
    expected.position = 5;
    expected.updated_at = timestamp(&recorded_at(5));
    assert_eq!(
        db.booking("booking_list", booking).await,
        Some(expected.clone())
    );
    assert_eq!(db.booking("mypage_bookings", booking).await, Some(expected));
    let owner = "SELECT user_id FROM mypage_bookings WHERE booking_id = $1";
    assert_eq!(db.texts(owner, &booking.to_string()).await, ["dave"]);
}

async fn mypage_keeps_the_20_latest_notifications_and_the_view_keeps_all(db: Db) {
    let mut log = Log::default();
    let sent = |minute: i64, user: &str| NotificationEvent::NotificationSent {
        user_id: user.into(),
        contents: format!("conference room[556677] reservation is complete ({minute})"),
        cause: "ConfirmCompleted".into(),
        send_dtm: recorded_at(0) + Duration::minutes(minute),
    };
    // Sent out of log order, so the page must rank by sendDtm, not by position.
    let mut minutes: Vec<i64> = (0..25).collect();
    minutes.swap(3, 21);
    let mut events: Vec<LogEvent> = minutes
        .iter()
        .map(|&minute| log.append("Notification", Uuid::now_v7(), sent(minute, "erin")))
        .collect();
    events.push(log.append("Notification", Uuid::now_v7(), sent(0, "frank")));
    db.apply(&events[..13]).await;
    db.apply(&events[13..]).await;

    let kept = db
        .texts(
            "SELECT send_dtm FROM mypage_notifications WHERE user_id = $1 ORDER BY send_dtm",
            "erin",
        )
        .await;
    let latest: Vec<String> = (5..25)
        .map(|minute| timestamp(&(recorded_at(0) + Duration::minutes(minute))))
        .collect();
    assert_eq!(kept, latest);
    let others = "SELECT notification_id FROM mypage_notifications WHERE user_id = $1";
    assert_eq!(db.texts(others, "frank").await.len(), 1);

    let all = format!(
        "SELECT {} FROM notifications ORDER BY position",
        NotificationRow::select_list()
    );
    let rows: Vec<NotificationRow> = db.rows(&all, &[]).await;
    assert_eq!(rows.len(), 26);
    for (row, event) in rows.iter().zip(&events) {
        assert_eq!(row.notification_id, event.aggregate_id);
        assert_eq!(row.correlation_id.as_deref(), event.correlation_id());
        assert_eq!(row.position, event.position);
        assert_eq!(row.updated_at, event.recorded_at_text());
        assert_eq!(row.cause, "ConfirmCompleted");
    }
    let erin = rows.iter().filter(|row| row.user_id == "erin").count();
    assert_eq!(erin, 25);
}

// ---------------------------------------------------------------------------------------
// Events

fn placed(customer: &str) -> OrderEvent {
    OrderEvent::OrderPlaced {
        customer_id: customer.into(),
        product: "컴퓨터".into(),
        qty: 2,
        price: 1000,
        pay_method: PayMethod::Card,
    }
}

fn paid(order_id: Uuid) -> PaymentEvent {
    PaymentEvent::PaymentMade {
        order_id,
        amount: 2000,
        pay_method: PayMethod::Card,
    }
}

fn created(user: &str) -> BookingEvent {
    BookingEvent::BookingCreated {
        room_id: 556677,
        use_start_dtm: Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap(),
        use_end_dtm: Utc.with_ymd_and_hms(2026, 12, 2, 11, 30, 0).unwrap(),
        booking_user_id: user.into(),
        booking_dtm: Utc.with_ymd_and_hms(2026, 12, 1, 8, 59, 0).unwrap(),
    }
}

/// When the event at `position` was recorded: one second apart, from 2026-12-01 09:00.
fn recorded_at(position: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() + Duration::seconds(position)
}

/// The global log being written: positions 1, 2, 3…, sequences per stream, and a fresh
/// correlation id on each event.
#[derive(Default)]
struct Log {
    position: i64,
    sequences: HashMap<Uuid, i64>,
}

impl Log {
    fn append(&mut self, aggregate_type: &str, id: Uuid, event: impl Serialize) -> LogEvent {
        self.position += 1;
        let sequence = self.sequences.entry(id).or_default();
        *sequence += 1;
        let payload = serde_json::to_value(&event).expect("a serializable event");
        let event_type = payload
            .as_object()
            .and_then(|variant| variant.keys().next().cloned())
            .expect("an externally tagged event");
        LogEvent {
            position: self.position,
            transaction_id: 0,
            aggregate_type: aggregate_type.into(),
            aggregate_id: id.to_string(),
            sequence: *sequence,
            event_type,
            payload,
            metadata: json!({ "correlationId": Uuid::now_v7().to_string() }),
            recorded_at: recorded_at(self.position),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Rows

/// Every row of every view table.
#[derive(Debug, PartialEq)]
struct Snapshot {
    orders: Vec<OrderRow>,
    mypage_orders: Vec<OrderRow>,
    bookings: Vec<BookingRow>,
    mypage_bookings: Vec<BookingRow>,
    notifications: Vec<NotificationRow>,
    mypage_notifications: Vec<NotificationRow>,
}

// ---------------------------------------------------------------------------------------
// Stores

/// A fresh, migrated database of either store.
#[derive(Clone)]
enum Db {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A row type both stores can decode.
trait Decoded: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin {}
impl<T> Decoded for T where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

impl Db {
    /// Applies the events to every view in one transaction, as one projector batch would.
    async fn apply(&self, events: &[LogEvent]) {
        match self {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                apply_to_all(&mut ViewTx::Postgres(&mut tx), events).await;
                tx.commit().await.expect("commit");
            }
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await.expect("begin");
                apply_to_all(&mut ViewTx::Sqlite(&mut tx), events).await;
                tx.commit().await.expect("commit");
            }
        }
    }

    /// Empties every view's tables.
    async fn clear(&self) {
        for table in all_views().iter().flat_map(|view| view.tables()) {
            let sql = format!("DELETE FROM {table}");
            match self {
                Db::Postgres(pool) => sqlx::query(&sql).execute(pool).await.map(drop),
                Db::Sqlite(pool) => sqlx::query(&sql).execute(pool).await.map(drop),
            }
            .expect("delete");
        }
    }

    /// The rows of a query with text parameters.
    async fn rows<T: Decoded>(&self, sql: &str, args: &[&str]) -> Vec<T> {
        match self {
            Db::Postgres(pool) => {
                let mut query = sqlx::query_as::<_, T>(sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                query.fetch_all(pool).await.expect(sql)
            }
            Db::Sqlite(pool) => {
                let mut query = sqlx::query_as::<_, T>(sql);
                for arg in args {
                    query = query.bind(*arg);
                }
                query.fetch_all(pool).await.expect(sql)
            }
        }
    }

    /// The first column of each row of a query with one parameter.
    async fn texts(&self, sql: &str, arg: &str) -> Vec<String> {
        let rows: Vec<(String,)> = self.rows(sql, &[arg]).await;
        rows.into_iter().map(|(text,)| text).collect()
    }

    async fn count(&self, sql: &str) -> i64 {
        let rows: Vec<(i64,)> = self.rows(sql, &[]).await;
        rows[0].0
    }

    async fn snapshot(&self) -> Snapshot {
        let orders = |table| {
            format!(
                "SELECT {} FROM {table} ORDER BY order_id",
                OrderRow::select_list()
            )
        };
        let bookings = |table| {
            format!(
                "SELECT {} FROM {table} ORDER BY booking_id",
                BookingRow::select_list()
            )
        };
        let notifications = |table| {
            format!(
                "SELECT {} FROM {table} ORDER BY notification_id",
                NotificationRow::select_list()
            )
        };
        Snapshot {
            orders: self.rows(&orders("order_list"), &[]).await,
            mypage_orders: self.rows(&orders("mypage_orders"), &[]).await,
            bookings: self.rows(&bookings("booking_list"), &[]).await,
            mypage_bookings: self.rows(&bookings("mypage_bookings"), &[]).await,
            notifications: self.rows(&notifications("notifications"), &[]).await,
            mypage_notifications: self.rows(&notifications("mypage_notifications"), &[]).await,
        }
    }

    async fn order(&self, table: &str, order_id: Uuid) -> Option<OrderRow> {
        let sql = format!(
            "SELECT {} FROM {table} WHERE order_id = $1",
            OrderRow::select_list()
        );
        self.rows(&sql, &[&order_id.to_string()]).await.pop()
    }

    async fn booking(&self, table: &str, booking_id: Uuid) -> Option<BookingRow> {
        let sql = format!(
            "SELECT {} FROM {table} WHERE booking_id = $1",
            BookingRow::select_list()
        );
        self.rows(&sql, &[&booking_id.to_string()]).await.pop()
    }
}

/// The views of every context.
fn all_views() -> Vec<&'static dyn View> {
    [
        projections::shop::views(),
        projections::booking::views(),
        projections::notifications::views(),
    ]
    .concat()
}

async fn apply_to_all(tx: &mut ViewTx<'_>, events: &[LogEvent]) {
    for view in all_views() {
        projections::view::apply(view, tx, events)
            .await
            .unwrap_or_else(|error| panic!("{view}: {error}"));
    }
}

/// Runs a scenario on a fresh PostgreSQL database, dropped afterwards (also when the
/// scenario fails).
async fn on_postgres<F, Fut>(scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let admin_url = std::env::var("STRATA_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let admin = PgPool::connect(&admin_url).await.expect("PostgreSQL");
    let name = format!("strata_views_{}", Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create the database");
    let options = PgConnectOptions::from_str(&admin_url)
        .expect("a PostgreSQL URL")
        .database(&name);
    let pool = PgPool::connect_with(options).await.expect("connect");
    sqlx::migrate!("../migrations/postgres")
        .run(&pool)
        .await
        .expect("migrate");

    let outcome = tokio::spawn(scenario(Db::Postgres(pool.clone()))).await;
    pool.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .expect("drop the database");
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

/// Runs a scenario on a fresh in-memory SQLite database (one connection, kept open).
async fn on_sqlite<F, Fut>(scenario: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await
        .expect("SQLite");
    sqlx::migrate!("../migrations/sqlite")
        .run(&pool)
        .await
        .expect("migrate");
    scenario(Db::Sqlite(pool)).await;
}
