//! A TCP proxy the test steers, in front of PostgreSQL: as an HA tool's virtual address
//! would, it carries new connections to the server it points at, and cuts the ones it
//! carries when it is pointed elsewhere or taken down (refusing new ones meanwhile).

use std::sync::Arc;

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::processes::free_port;

pub struct Proxy {
    pub port: u16,
    /// The port of the server new connections go to; `None` while down.
    target: Arc<watch::Sender<Option<u16>>>,
}

impl Proxy {
    /// A proxy to the server on `target` (on 127.0.0.1).
    pub async fn start(target: u16) -> Self {
        let port = free_port().await;
        let target = Arc::new(watch::Sender::new(Some(target)));
        let state = target.clone();
        tokio::spawn(async move {
            loop {
                let mut changed = state.subscribe();
                let Some(to) = *changed.borrow_and_update() else {
                    // Down: no listener, so connections are refused, until it is up again
                    // (the task holds a sender: the wait ends only that way).
                    let _ = changed.wait_for(Option::is_some).await;
                    continue;
                };
                let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((inbound, _)) = accepted else { break };
                            tokio::spawn(carry(inbound, to, state.subscribe()));
                        }
                        _ = changed.changed() => break,
                    }
                }
            }
        });
        Self { port, target }
    }

    /// New connections go to the server on `port`; the ones carried now are cut.
    pub fn point_at(&self, port: u16) {
        self.target.send_replace(Some(port));
    }

    /// Connections are refused, and the ones carried now are cut.
    pub fn take_down(&self) {
        self.target.send_replace(None);
    }

    /// `url` (a PostgreSQL URL on 127.0.0.1:`server`) through this proxy.
    pub fn in_front_of(&self, url: &str, server: u16) -> String {
        let through = url.replace(
            &format!("127.0.0.1:{server}"),
            &format!("127.0.0.1:{}", self.port),
        );
        assert_ne!(through, url, "the URL goes through the proxy");
        through
    }
}

/// Copies both ways between a client and the server on `to` until either closes or the
/// proxy is pointed elsewhere.
async fn carry(mut inbound: TcpStream, to: u16, mut state: watch::Receiver<Option<u16>>) {
    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", to)).await else {
        return;
    };
    tokio::select! {
        _ = copy_bidirectional(&mut inbound, &mut outbound) => {}
        _ = state.changed() => {}
    }
}
