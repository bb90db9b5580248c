//! The app-server never outlives codex-lsp: dropped with the client, and killed with the
//! process even when codex-lsp itself is SIGKILLed (no chance to clean up).

mod app_support;

use std::io::BufRead;
use std::time::{Duration, Instant};

use app_support::TestEnv;

fn alive(pid: u32) -> bool {
    // A zombie has been killed already; only a running process counts as alive.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn wait_gone(pid: u32, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_client_kills_the_app_server() {
    let env = TestEnv::new(vec![]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let pid = codex.connection().peer_pid().unwrap();
    assert!(alive(pid));
    drop(codex);
    assert!(
        wait_gone(pid, Duration::from_secs(5)),
        "app-server {pid} outlived its client"
    );
}

const CHILD_ENV: &str = "CODEX_LSP_LIFETIME_CHILD";

/// Run as a child process by the test below: starts an app-server, prints its pid, and
/// waits to be killed. Run directly (without the variable) it only checks its own setup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifetime_child_process() {
    let env = TestEnv::new(vec![]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let pid = codex.connection().peer_pid().unwrap();
    assert!(alive(pid));
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    println!("APP_SERVER_PID={pid}");
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[test]
fn killing_codex_lsp_with_sigkill_leaves_no_app_server() {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lifetime_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut pid = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints "test name ... " on the same line before our output.
        if let Some((_, p)) = line.split_once("APP_SERVER_PID=") {
            pid = Some(p.trim().parse::<u32>().unwrap());
            break;
        }
    }
    let pid = pid.expect("the child reported its app-server");
    assert!(alive(pid));
    child.kill().unwrap(); // SIGKILL: no destructors run in the parent
    child.wait().unwrap();
    assert!(
        wait_gone(pid, Duration::from_secs(5)),
        "app-server {pid} was orphaned when its parent was killed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_kills_the_app_server_even_while_clones_are_held() {
    let env = TestEnv::new(vec![]).await;
    let codex = env
        .codex(codex_lsp::app_server::client::decline_all())
        .await;
    let clone = codex.clone();
    let pid = codex.connection().peer_pid().unwrap();
    codex.connection().close();
    assert!(
        wait_gone(pid, Duration::from_secs(5)),
        "app-server {pid} survived close()"
    );
    let err = clone.model_list().await.unwrap_err();
    assert!(err.is_transport_closed(), "{err:?}");
}
