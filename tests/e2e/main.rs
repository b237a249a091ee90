//! End-to-end scenarios: the real server over HTTP against a real database, each test
//! with a database of its own (a fresh PostgreSQL database or a fresh SQLite file).

mod pg_servers;
mod processes;
mod support;
mod tcp_proxy;

mod auth;
mod bookings;
mod bookstore;
mod car_sharing;
mod concurrency;
mod confirms_and_deliveries;
mod database_outage;
mod errors;
mod game;
mod gift_server;
mod group_commit;
mod hostile_input;
mod hotel;
mod idempotency;
mod live_streams;
mod metrics;
mod notification_delivery;
mod openapi;
mod operations;
mod orders;
mod overload;
mod policies;
mod projectors;
mod read_your_writes;
mod reads;
mod replays;
mod rolling_update;
mod shutdown;
mod snapshots;
mod split_mode;
mod standby;
mod write_faults;
