//! PostgreSQL servers of a test's own: a primary and a streaming-replication standby,
//! made with the installed PostgreSQL's programs (`initdb`, `pg_basebackup -R`,
//! `pg_ctl`) in a directory of their own, on free ports. As root they run as the
//! `postgres` user, since PostgreSQL refuses to run as root.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sqlx::{Connection, PgConnection};

use crate::processes::free_port;

/// One server: its data directory and port.
pub struct Server {
    pub data: PathBuf,
    pub port: u16,
}

impl Server {
    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url())
            .await
            .expect("a connection to the test's server")
    }

    /// Runs one statement.
    pub async fn execute(&self, sql: &str) {
        sqlx::raw_sql(sql)
            .execute(&mut self.connect().await)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }

    /// Kills the postmaster and every process of the server at once, as a machine that
    /// died would leave it: no backend finishes what it was doing.
    pub fn kill(&self) {
        let pid = std::fs::read_to_string(self.data.join("postmaster.pid"))
            .expect("a running server")
            .lines()
            .next()
            .expect("its pid")
            .to_string();
        // Stopped first, the postmaster starts no process while its children are listed.
        run(Command::new("kill").args(["-STOP", &pid]));
        let mut pids = vec![pid.clone()];
        pids.extend(children_of(&pid));
        // A child that ended meanwhile makes kill report it, after killing the others.
        let _ = Command::new("kill").arg("-9").args(&pids).status();
    }

    /// Promotes a standby to a primary, waiting until it takes writes.
    pub fn promote(&self) {
        pg_ctl(&self.data, &["promote", "-w"]);
    }

    fn start(&self) {
        let log = self.data.with_extension("log");
        let log = log.to_str().expect("a UTF-8 path");
        pg_ctl(&self.data, &["start", "-w", "-t", "60", "-l", log]);
    }
}

/// A primary and its standby; both are stopped and their files removed when dropped.
pub struct Replicated {
    dir: PathBuf,
    pub primary: Server,
    pub standby: Server,
}

/// How the primary waits for its standby.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Commit {
    /// Each commit waits until the standby has flushed it (`synchronous_standby_names`).
    Synchronous,
    /// Commits return once the primary has them; the standby follows.
    Asynchronous,
}

impl Replicated {
    /// A new primary with a standby streaming from it.
    pub async fn start(commit: Commit) -> Self {
        let dir = std::env::temp_dir().join(format!("strata-replicated-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("a directory for the servers");
        if is_root() {
            run(Command::new("chown").args(["postgres:postgres", path(&dir)]));
        }
        // Made first, so that whatever fails below, dropping it stops what was started.
        let servers = Self {
            primary: Server {
                data: dir.join("primary"),
                port: free_port().await,
            },
            standby: Server {
                data: dir.join("standby"),
                port: free_port().await,
            },
            dir,
        };
        let (primary, standby, dir) = (&servers.primary, &servers.standby, &servers.dir);
        as_postgres(
            "initdb",
            &[
                "-D",
                path(&primary.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        );
        configure(primary, dir, "wal_level = replica\nmax_wal_senders = 4\n");
        primary.start();
        let port = primary.port.to_string();
        as_postgres(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                path(&standby.data),
                "-R",
                "-X",
                "stream",
            ],
        );
        configure(standby, dir, "");
        standby.start();
        if commit == Commit::Synchronous {
            // Set once the standby streams: it must not inherit it, or once promoted it
            // would wait for a standby of its own that never comes.
            let primary = &servers.primary;
            primary
                .execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
                .await;
            primary.execute("SELECT pg_reload_conf()").await;
        }
        let wanted = match commit {
            Commit::Synchronous => "sync",
            Commit::Asynchronous => "async",
        };
        servers.wait_for_standby(wanted).await;
        servers
    }

    /// Waits until the primary sees its standby streaming in `state` (`sync`, `async`).
    async fn wait_for_standby(&self, state: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut primary = self.primary.connect().await;
        loop {
            let streaming: Option<String> = sqlx::query_scalar(
                "SELECT sync_state FROM pg_stat_replication WHERE state = 'streaming'",
            )
            .fetch_optional(&mut primary)
            .await
            .expect("pg_stat_replication");
            if streaming.as_deref() == Some(state) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the standby never streamed as {state}: {streaming:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Replicated {
    fn drop(&mut self) {
        for server in [&self.primary, &self.standby] {
            if server.data.join("postmaster.pid").exists() {
                let _ = as_postgres_status(
                    "pg_ctl",
                    &["stop", "-D", path(&server.data), "-m", "immediate"],
                );
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The processes whose parent is `parent`, from `/proc`.
fn children_of(parent: &str) -> Vec<String> {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    processes
        .filter_map(|entry| {
            let pid = entry.ok()?.file_name().into_string().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid …: the command may hold spaces, its `)` ends it.
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

/// Listens on 127.0.0.1 only, on the server's port, with its socket in `dir`.
fn configure(server: &Server, dir: &Path, more: &str) {
    use std::io::Write as _;
    let conf = server.data.join("postgresql.conf");
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&conf)
        .expect("postgresql.conf");
    write!(
        file,
        "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n{more}",
        server.port,
        path(dir)
    )
    .expect("configured");
}

fn pg_ctl(data: &Path, args: &[&str]) {
    let mut all = vec!["-D", path(data)];
    all.extend_from_slice(args);
    as_postgres("pg_ctl", &all);
}

/// Runs one of the installed PostgreSQL's programs as the user PostgreSQL runs as.
fn as_postgres(program: &str, args: &[&str]) {
    let status = as_postgres_status(program, args);
    assert!(status.success(), "{program} {args:?}: {status}");
}

fn as_postgres_status(program: &str, args: &[&str]) -> std::process::ExitStatus {
    let program = bin_dir().join(program);
    let mut command = match is_root() {
        true => {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        }
        false => Command::new(program),
    };
    command
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("PostgreSQL's programs are installed")
}

/// The newest installed PostgreSQL's programs.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL installed under /usr/lib/postgresql")
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort_by_key(|bin| {
        let version = bin
            .parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str());
        version.and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
    });
    versions.pop().expect("an installed PostgreSQL with initdb")
}

fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("id");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

fn run(command: &mut Command) {
    let status = command.status().expect("ran");
    assert!(status.success(), "{command:?}: {status}");
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}
