//! Account and models: login flows (each waits for its outcome in the background, never
//! inside the editor's request), logout, account state, models.
//!
//! The API key is passed through once and never logged, echoed or shown.

use serde_json::{json, Value};

use super::{Bridge, BridgeResult, MessageLevel};

/// How `codex.login` logs in.
#[derive(Clone)]
pub enum LoginMethod {
    ApiKey(String),
    Chatgpt,
    DeviceCode,
}

impl std::fmt::Debug for LoginMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Self::Chatgpt => f.write_str("Chatgpt"),
            Self::DeviceCode => f.write_str("DeviceCode"),
        }
    }
}

/// The port of the ChatGPT login callback, on the app-server's machine.
const CALLBACK_PORT: u16 = 1455;

impl Bridge {
    pub async fn login(&self, method: LoginMethod) -> BridgeResult<Value> {
        let (codex, _) = self.codex().await?;
        let ui = self.inner.ui.clone();
        match method {
            LoginMethod::ApiKey(key) => {
                tokio::spawn(async move {
                    match codex.login_api_key(&key).await {
                        Ok(()) => {
                            ui.show_message(MessageLevel::Info, "logged in with an API key.".into())
                        }
                        Err(e) => ui.show_message(
                            MessageLevel::Error,
                            format!("API key login failed: {e}"),
                        ),
                    }
                });
                Ok(json!({ "method": "apiKey", "status": "started" }))
            }
            LoginMethod::Chatgpt => {
                let handle = codex.login_chatgpt().await?;
                let url = handle.auth_url.clone().unwrap_or_default();
                ui.show_message(
                    MessageLevel::Info,
                    format!(
                        "opening the ChatGPT login in your browser. Its callback listens on \
                         127.0.0.1:{CALLBACK_PORT} of the machine running the app-server; on a remote \
                         machine use codex.login with method \"deviceCode\" instead. URL: {url}"
                    ),
                );
                let opener = ui.clone();
                let open_url = url.clone();
                tokio::spawn(async move {
                    if !opener.open_external(open_url).await {
                        tracing::info!("the editor did not open the login URL");
                    }
                });
                tokio::spawn(async move { report_login(ui, handle.wait().await) });
                Ok(json!({ "method": "chatgpt", "status": "started", "authUrl": url }))
            }
            LoginMethod::DeviceCode => {
                let handle = codex.login_device_code().await?;
                let url = handle.verification_url.clone().unwrap_or_default();
                let code = handle.user_code.clone().unwrap_or_default();
                ui.show_message(
                    MessageLevel::Info,
                    format!("to log in, open {url} and enter the code {code}"),
                );
                tokio::spawn(async move { report_login(ui, handle.wait().await) });
                Ok(json!({
                    "method": "deviceCode", "status": "started",
                    "verificationUrl": url, "userCode": code,
                }))
            }
        }
    }

    pub async fn logout(&self) -> BridgeResult<Value> {
        let (codex, _) = self.codex().await?;
        codex.logout().await?;
        Ok(json!({ "loggedOut": true }))
    }

    pub async fn account(&self) -> BridgeResult<Value> {
        let (codex, _) = self.codex().await?;
        let account = codex.account_read().await?;
        Ok(serde_json::to_value(account).unwrap_or(Value::Null))
    }

    pub async fn list_models(&self) -> BridgeResult<Value> {
        let (codex, _) = self.codex().await?;
        let models = codex.model_list().await?;
        Ok(json!({ "models": serde_json::to_value(models).unwrap_or(Value::Null) }))
    }
}

fn report_login(
    ui: std::sync::Arc<dyn super::EditorUi>,
    outcome: crate::app_server::Result<
        crate::app_server::protocol::AccountLoginCompletedNotification,
    >,
) {
    match outcome {
        Ok(done) if done.success => ui.show_message(MessageLevel::Info, "logged in.".into()),
        Ok(done) => ui.show_message(
            MessageLevel::Error,
            format!(
                "login failed: {}",
                done.error.unwrap_or_else(|| "no reason given".into())
            ),
        ),
        Err(e) => ui.show_message(MessageLevel::Error, format!("login did not finish: {e}")),
    }
}
