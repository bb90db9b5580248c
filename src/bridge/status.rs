//! What the user watches: the model and effort in use and `codex.setModel`, token usage
//! and the context's fill, the rate limits — in `codex.status` and the editor's status line
//! (`codex/status`). The figures are kept by the `Meters` part (`meters.rs`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::meters::{self, ModelInUse};
use super::workspace::ModelChoice;
use super::{
    Bridge, BridgeError, BridgeResult, ChoiceAnswer, ChoicePrompt, MessageLevel, ModelOption,
    RateLimitUse, StatusLine,
};
use crate::app_server::{protocol as p, Codex};

/// How long `codex.status` waits for `account/rateLimits/read`.
const RATE_LIMITS_WAIT: Duration = Duration::from_secs(3);

/// The effort choice that keeps the model's default, in the picker.
const DEFAULT_EFFORT: &str = "default effort";

/// How long the model choices stay in the code actions of an editor without prompts.
const MODEL_OPTIONS_OFFERED: Duration = Duration::from_secs(120);

impl Bridge {
    /// `codex.setModel {model?, effort?}`: the model and effort this workspace's turns ask
    /// for from the next one on, checked against what `model/list` offers. With neither,
    /// the user picks them (`window/showMessageRequest`).
    pub async fn set_model(
        &self,
        model: Option<String>,
        effort: Option<String>,
    ) -> BridgeResult<Value> {
        let (codex, _) = self.codex().await?;
        let models = codex.model_list().await?;
        let (model, effort) = match (model, effort) {
            (None, None) if !self.inner.prompts.prompts_supported() => {
                return Ok(self.offer_models_in_code_actions(&models))
            }
            (None, None) => match self.pick_model(&models).await {
                Ok(Some(picked)) => picked,
                Ok(None) => return Ok(json!({ "changed": false })),
                Err(_) => return Ok(self.offer_models_in_code_actions(&models)),
            },
            given => given,
        };
        let offered = |m: &p::Model| !m.hidden;
        let chosen = match &model {
            Some(name) => Some(
                models
                    .iter()
                    .find(|m| m.id == *name || m.model == *name)
                    .ok_or_else(|| BridgeError::UnknownModel {
                        model: name.clone(),
                        offered: models
                            .iter()
                            .filter(|m| offered(m))
                            .map(|m| m.id.clone())
                            .collect(),
                    })?,
            ),
            None => None,
        };
        if let Some(effort) = &effort {
            // The model the effort goes with: the one chosen now, else the one in use, else
            // the app-server's default.
            let in_use = self.model_in_use(self.inner.meters.last_thread().as_deref());
            let target = chosen
                .or_else(|| {
                    let name = in_use.as_ref()?.model.clone();
                    models.iter().find(|m| m.id == name || m.model == name)
                })
                .or_else(|| models.iter().find(|m| m.is_default));
            if let Some(target) = target {
                let efforts: Vec<String> = target
                    .supported_reasoning_efforts
                    .iter()
                    .map(|e| e.reasoning_effort.clone())
                    .collect();
                if !efforts.is_empty() && !efforts.contains(effort) {
                    return Err(BridgeError::UnsupportedEffort {
                        effort: effort.clone(),
                        model: target.id.clone(),
                        offered: efforts,
                    });
                }
            }
        }
        self.inner.prompts.withdraw_models();
        self.inner.workspace.choose_model(ModelChoice {
            model: chosen.map(|m| m.id.clone()),
            effort,
        });
        self.push_status();
        let settings = self.settings();
        Ok(json!({
            "changed": true,
            "model": settings.model,
            "effort": settings.effort,
            "appliesFrom": "the next turn",
        }))
    }

    /// For an editor without `window/showMessageRequest` (Helix): each model, and each
    /// effort of the model in use, as a code action ("Codex: use model gpt-5.4") for a
    /// while; the action sends `codex.setModel` with it.
    fn offer_models_in_code_actions(&self, models: &[p::Model]) -> Value {
        let in_use = self.model_in_use(self.inner.meters.last_thread().as_deref());
        let mut options: Vec<ModelOption> = models
            .iter()
            .filter(|m| !m.hidden)
            .map(|m| ModelOption {
                title: format!("Codex: use model {}", m.id),
                model: Some(m.id.clone()),
                effort: None,
            })
            .collect();
        let current = in_use
            .as_ref()
            .and_then(|u| {
                models
                    .iter()
                    .find(|m| m.id == u.model || m.model == u.model)
            })
            .or_else(|| models.iter().find(|m| m.is_default));
        if let Some(current) = current {
            options.extend(
                current
                    .supported_reasoning_efforts
                    .iter()
                    .map(|e| ModelOption {
                        title: format!("Codex: use effort {} ({})", e.reasoning_effort, current.id),
                        model: None,
                        effort: Some(e.reasoning_effort.clone()),
                    }),
            );
        }
        let titles: Vec<String> = options.iter().map(|o| o.title.clone()).collect();
        self.inner
            .prompts
            .offer_models(options, std::time::Instant::now() + MODEL_OPTIONS_OFFERED);
        self.inner.ui.show_message(
            MessageLevel::Info,
            format!(
                "pick the model or effort in the code actions (for {} s): {} of them",
                MODEL_OPTIONS_OFFERED.as_secs(),
                titles.len()
            ),
        );
        json!({ "changed": false, "offered": titles })
    }

    /// The model choices offered in the code actions (see `codex.setModel`).
    pub fn model_options(&self) -> Vec<ModelOption> {
        self.inner.prompts.model_options()
    }

    /// The user picks a model, then its effort; `None` when they dismissed the first.
    async fn pick_model(
        &self,
        models: &[p::Model],
    ) -> BridgeResult<Option<(Option<String>, Option<String>)>> {
        let shown: Vec<&p::Model> = models.iter().filter(|m| !m.hidden).collect();
        let now = self
            .model_in_use(self.inner.meters.last_thread().as_deref())
            .map_or_else(|| "the default".to_string(), |m| format!("`{}`", m.model));
        let picked = self
            .inner
            .ui
            .ask_choice(ChoicePrompt {
                level: MessageLevel::Info,
                message: format!("Codex model for the next turns (now {now}):"),
                choices: shown.iter().map(|m| m.id.clone()).collect(),
            })
            .await;
        let model = match picked {
            ChoiceAnswer::Picked(id) => id,
            ChoiceAnswer::Dismissed => return Ok(None),
            ChoiceAnswer::Unsupported { known } => {
                if known {
                    self.inner.prompts.prompts_are_unsupported();
                }
                return Err(BridgeError::InvalidParams(
                    "codex.setModel: the editor shows no choice prompt".into(),
                ));
            }
        };
        let efforts: Vec<String> = shown
            .iter()
            .find(|m| m.id == model)
            .map(|m| {
                m.supported_reasoning_efforts
                    .iter()
                    .map(|e| e.reasoning_effort.clone())
                    .collect()
            })
            .unwrap_or_default();
        if efforts.is_empty() {
            return Ok(Some((Some(model), None)));
        }
        let mut choices = efforts;
        choices.push(DEFAULT_EFFORT.to_string());
        let effort = match self
            .inner
            .ui
            .ask_choice(ChoicePrompt {
                level: MessageLevel::Info,
                message: format!("Reasoning effort for `{model}`:"),
                choices,
            })
            .await
        {
            ChoiceAnswer::Picked(effort) if effort != DEFAULT_EFFORT => Some(effort),
            _ => None,
        };
        Ok(Some((Some(model), effort)))
    }

    /// The model and effort a thread's next turn runs with: `codex.setModel`'s or the
    /// settings', else what the app-server said the thread runs on.
    fn model_in_use(&self, thread_id: Option<&str>) -> Option<ModelInUse> {
        let settings = self.settings();
        let thread_model = thread_id.and_then(|t| self.inner.meters.model(t));
        let mut model = match settings.model {
            Some(model) => ModelInUse {
                model,
                effort: thread_model.and_then(|m| m.effort),
            },
            None => thread_model?,
        };
        if settings.effort.is_some() {
            model.effort = settings.effort;
        }
        Some(model)
    }

    /// A turn started asking for `model` and `effort` (each when set): the thread runs on
    /// them from now on.
    pub(in crate::bridge) fn turn_model_asked(
        &self,
        thread_id: &str,
        model: Option<String>,
        effort: Option<String>,
    ) {
        if model.is_none() && effort.is_none() {
            return;
        }
        let mut in_use = self.inner.meters.model(thread_id).unwrap_or_default();
        if let Some(model) = model {
            in_use.model = model;
        }
        if effort.is_some() {
            in_use.effort = effort;
        }
        self.inner.meters.record_model(thread_id, in_use);
        self.push_status();
    }

    /// `thread/tokenUsage/updated` of a followed turn.
    pub(in crate::bridge) fn usage_updated(&self, thread_id: &str, usage: &p::ThreadTokenUsage) {
        self.inner.meters.record_usage(thread_id, usage);
        self.push_status();
    }

    /// Follows `account/rateLimits/updated` for as long as the app-server runs.
    pub(in crate::bridge) fn watch_rate_limits(&self, codex: &Codex) {
        let mut events = codex
            .connection()
            .subscribe_method("account/rateLimits/updated");
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let p::ServerNotification::AccountRateLimitsUpdated(update) = event.decode() {
                    let Some(inner) = weak.upgrade() else { return };
                    inner.meters.merge_rate_limits(update.rate_limits);
                    Bridge { inner }.push_status();
                }
            }
        });
    }

    /// Tells an editor that shows `codex/status` what it shows now.
    pub(in crate::bridge) fn push_status(&self) {
        if self.inner.ui.wants_status() {
            self.inner.ui.status(self.status_line());
        }
    }

    fn status_line(&self) -> StatusLine {
        let thread_id = self.inner.meters.last_thread();
        let usage = thread_id
            .as_deref()
            .and_then(|t| self.inner.meters.usage(t));
        let model = self.model_in_use(thread_id.as_deref());
        let limits = self.inner.meters.rate_limits();
        let windows = limits
            .iter()
            .flat_map(|l| l.primary.iter().chain(l.secondary.iter()))
            .map(|w| RateLimitUse {
                window_minutes: w.window_duration_mins,
                used_percent: w.used_percent,
                resets_at: w.resets_at,
            })
            .collect();
        StatusLine {
            text: meters::status_text(model.as_ref(), usage.as_ref(), limits.as_ref()),
            thread_id,
            model: model.as_ref().map(|m| m.model.clone()),
            effort: model.and_then(|m| m.effort),
            thread_tokens: usage.as_ref().map(|u| u.total.total_tokens),
            context_percent: usage.as_ref().and_then(meters::context_percent),
            rate_limits: windows,
        }
    }

    /// `codex.status`'s figures: the model and effort in use, each thread's token usage,
    /// the rate limits (read now when the app-server runs), the status line's text.
    pub(in crate::bridge) async fn meters_json(&self) -> Value {
        let mut rate_limits_error = None;
        if let Some(codex) = self.inner.app_server.running().await {
            let read = codex.send(&p::GetAccountRateLimitsParams {
                exclude_reset_credit_details: Some(true),
            });
            match tokio::time::timeout(RATE_LIMITS_WAIT, read).await {
                Ok(Ok(read)) => self.inner.meters.set_rate_limits(read.rate_limits),
                Ok(Err(e)) => rate_limits_error = Some(e.to_string()),
                Err(_) => rate_limits_error = Some("account/rateLimits/read timed out".into()),
            }
        }
        let choice = self.inner.workspace.model_choice();
        let line = self.status_line();
        let usage: serde_json::Map<String, Value> = self
            .inner
            .meters
            .all_usage()
            .iter()
            .map(|(thread, usage)| (thread.clone(), meters::usage_json(usage)))
            .collect();
        json!({
            "model": {
                "model": line.model,
                "effort": line.effort,
                "chosen": choice.model.is_some() || choice.effort.is_some(),
            },
            "tokenUsage": usage,
            "rateLimits": self.inner.meters.rate_limits(),
            "rateLimitsError": rate_limits_error,
            "statusLine": line,
        })
    }
}
