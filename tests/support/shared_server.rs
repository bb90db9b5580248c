//! A real `codex app-server` listening on a unix socket or `ws://`, started by the test
//! (over the fixture's scripted provider) so that codex-lsp can connect to it as a shared
//! server, and be killed and restarted under it.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use super::{runtime_path, Fixture, WAIT};

/// Where the server listens.
#[derive(Debug, Clone)]
pub enum Listen {
    /// `unix://PATH`; `None` is the daemon's default socket under the fixture's CODEX_HOME.
    Unix(Option<PathBuf>),
    /// `ws://127.0.0.1:PORT`, with `--ws-auth capability-token --ws-token-file FILE`.
    WsWithToken { port: u16, token_file: PathBuf },
}

pub struct SharedAppServer {
    child: Child,
    listen: Listen,
    env: Vec<(String, std::ffi::OsString)>,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SharedAppServer {
    pub async fn start(fixture: &Fixture, listen: Listen) -> SharedAppServer {
        let env = fixture.env();
        let child = spawn(&env, &listen);
        let server = SharedAppServer { child, listen, env };
        server.wait_ready().await;
        server
    }

    /// The socket path (`unix://` only).
    pub fn socket_path(&self, fixture: &Fixture) -> PathBuf {
        match &self.listen {
            Listen::Unix(Some(path)) => path.clone(),
            Listen::Unix(None) => fixture
                .codex_home
                .path()
                .join("app-server-control/app-server-control.sock"),
            Listen::WsWithToken { .. } => panic!("not a unix socket"),
        }
    }

    /// Kills the server outright (no goodbye to its clients).
    pub async fn kill(&mut self) {
        self.child.start_kill().unwrap();
        let _ = tokio::time::timeout(WAIT, self.child.wait()).await;
    }

    /// Starts it again on the same address.
    pub async fn restart(&mut self) {
        self.child = spawn(&self.env, &self.listen);
        self.wait_ready().await;
    }

    async fn wait_ready(&self) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let ready = match &self.listen {
                Listen::Unix(path) => {
                    let path = path.clone().unwrap_or_else(|| {
                        let home = self
                            .env
                            .iter()
                            .find(|(k, _)| k == "CODEX_HOME")
                            .map(|(_, v)| PathBuf::from(v))
                            .unwrap();
                        home.join("app-server-control/app-server-control.sock")
                    });
                    tokio::net::UnixStream::connect(&path).await.is_ok()
                }
                Listen::WsWithToken { port, .. } => {
                    tokio::net::TcpStream::connect(("127.0.0.1", *port))
                        .await
                        .is_ok()
                }
            };
            if ready {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the app-server did not listen on {:?} within {WAIT:?}",
                self.listen
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn spawn(env: &[(String, std::ffi::OsString)], listen: &Listen) -> Child {
    let runtime = codex_lsp::runtime::discover(Some(&runtime_path())).unwrap();
    let mut command = Command::new(&runtime.codex);
    command.arg("app-server").arg("--listen");
    match listen {
        Listen::Unix(Some(path)) => command.arg(format!("unix://{}", path.display())),
        Listen::Unix(None) => command.arg("unix://"),
        Listen::WsWithToken { port, token_file } => command
            .arg(format!("ws://127.0.0.1:{port}"))
            .args(["--ws-auth", "capability-token", "--ws-token-file"])
            .arg(token_file),
    };
    if let Some(path_dir) = &runtime.path_dir {
        let mut paths = vec![path_dir.clone()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        command.env("PATH", std::env::join_paths(paths).unwrap());
    }
    for (k, v) in env {
        command.env(k, v);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start codex app-server --listen")
}
