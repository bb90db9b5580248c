//! Shared by the integration tests: the pinned runtime, a scripted provider, a scratch
//! `CODEX_HOME` and workspace, and a client of the real app-server over them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use codex_lsp::app_server::{Codex, ServerRequestHandler, SpawnOptions};
use codex_lsp::runtime::{self, Runtime};
use mock_provider::{MockProvider, Rule};

/// The pinned runtime, installed by the project's own script. Missing is a failure, never
/// a skip: these tests are the evidence that we work with the real app-server.
/// `$CODEX_LSP_TEST_CODEX`, when set, stands in for it (scripts/test.sh runs a second pass
/// with npm's release there).
pub fn pinned_runtime() -> Runtime {
    if let Some(path) = std::env::var_os("CODEX_LSP_TEST_CODEX").filter(|p| !p.is_empty()) {
        return runtime::discover(Some(Path::new(&path)))
            .expect("$CODEX_LSP_TEST_CODEX names an executable");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(root.join("scripts/install-runtime.sh"))
        .arg("--print")
        .output()
        .expect("run scripts/install-runtime.sh");
    assert!(
        out.status.success(),
        "scripts/install-runtime.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    runtime::discover(Some(&path)).expect("the pinned runtime is executable")
}

/// A scripted provider, a `CODEX_HOME` that points at it, and an empty workspace.
pub struct TestEnv {
    pub provider: MockProvider,
    pub codex_home: tempfile::TempDir,
    pub workspace: tempfile::TempDir,
    pub runtime: Runtime,
}

impl TestEnv {
    pub async fn new(rules: Vec<Rule>) -> TestEnv {
        let provider = MockProvider::start(rules)
            .await
            .expect("start the provider");
        let codex_home = tempfile::tempdir().unwrap();
        mock_provider::write_codex_home(codex_home.path(), &provider.base_url()).unwrap();
        let workspace = tempfile::tempdir().unwrap();
        TestEnv {
            provider,
            codex_home,
            workspace,
            runtime: pinned_runtime(),
        }
    }

    pub fn spawn_options(&self) -> SpawnOptions {
        let mut options = SpawnOptions::new(self.runtime.clone()).cwd(self.workspace.path());
        for (key, value) in mock_provider::codex_env(self.codex_home.path()) {
            options = options.env(key, value);
        }
        options
    }

    pub async fn codex(&self, handler: Arc<dyn ServerRequestHandler>) -> Codex {
        Codex::spawn(&self.spawn_options(), handler)
            .await
            .expect("start and initialize the real app-server")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.workspace.path().join(name)
    }

    pub fn cwd(&self) -> String {
        self.workspace.path().display().to_string()
    }
}

/// Bounds every wait in a test: a hang fails with a message instead of stalling CI.
pub async fn within<T>(what: &str, seconds: u64, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(seconds), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {seconds} s"))
}
