//! Part: what the user watches besides a turn's progress — each thread's token usage and
//! the model the app-server runs it on, and the account's rate limits — and the short text
//! they are told in (the progress end, the status line).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{json, Value};

use crate::app_server::protocol as p;
use crate::lock;

#[derive(Default)]
pub(super) struct Meters {
    /// The last `thread/tokenUsage/updated` of each thread (zero for a thread we started).
    usage: Mutex<HashMap<String, p::ThreadTokenUsage>>,
    /// The model and effort the app-server said a thread runs on (`thread/start`,
    /// `thread/resume`), or the one our last turn on it asked for.
    models: Mutex<HashMap<String, ModelInUse>>,
    /// The last `account/rateLimits/read`, with the sparse `…/updated` merged in.
    rate_limits: Mutex<Option<p::RateLimitSnapshot>>,
    /// The thread last heard of: the one the status line speaks of.
    last_thread: Mutex<Option<String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelInUse {
    pub model: String,
    pub effort: Option<String>,
}

impl Meters {
    /// A thread we started has used nothing yet: its first turn's tokens are its total.
    pub(super) fn thread_started(&self, thread_id: &str) {
        lock(&self.usage).insert(thread_id.to_string(), p::ThreadTokenUsage::default());
    }

    pub(super) fn record_usage(&self, thread_id: &str, usage: &p::ThreadTokenUsage) {
        lock(&self.usage).insert(thread_id.to_string(), usage.clone());
        *lock(&self.last_thread) = Some(thread_id.to_string());
    }

    pub(super) fn last_thread(&self) -> Option<String> {
        lock(&self.last_thread).clone()
    }

    /// Every thread's usage, for `codex.status`.
    pub(super) fn all_usage(&self) -> Vec<(String, p::ThreadTokenUsage)> {
        let mut all: Vec<_> = lock(&self.usage)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    pub(super) fn usage(&self, thread_id: &str) -> Option<p::ThreadTokenUsage> {
        lock(&self.usage).get(thread_id).cloned()
    }

    pub(super) fn record_model(&self, thread_id: &str, model: ModelInUse) {
        if !model.model.is_empty() {
            lock(&self.models).insert(thread_id.to_string(), model);
        }
        *lock(&self.last_thread) = Some(thread_id.to_string());
    }

    pub(super) fn model(&self, thread_id: &str) -> Option<ModelInUse> {
        lock(&self.models).get(thread_id).cloned()
    }

    pub(super) fn set_rate_limits(&self, snapshot: p::RateLimitSnapshot) {
        *lock(&self.rate_limits) = Some(snapshot);
    }

    /// Merges a sparse `account/rateLimits/updated`: a field it leaves out keeps its value.
    pub(super) fn merge_rate_limits(&self, update: p::RateLimitSnapshot) {
        let mut current = lock(&self.rate_limits);
        let merged = match current.take() {
            None => update,
            Some(old) => p::RateLimitSnapshot {
                credits: update.credits.or(old.credits),
                limit_id: update.limit_id.or(old.limit_id),
                limit_name: update.limit_name.or(old.limit_name),
                plan_type: update.plan_type.or(old.plan_type),
                primary: update.primary.or(old.primary),
                secondary: update.secondary.or(old.secondary),
            },
        };
        *current = Some(merged);
    }

    pub(super) fn rate_limits(&self) -> Option<p::RateLimitSnapshot> {
        lock(&self.rate_limits).clone()
    }
}

/// How full the model's context window is, in percent: the last request's input (what the
/// model saw) over the window, as the transcript's footer says it. `None` when the
/// app-server did not say the window.
pub fn context_percent(usage: &p::ThreadTokenUsage) -> Option<i64> {
    let window = usage.model_context_window.filter(|w| *w > 0)?;
    let used = usage.last.input_tokens.max(0);
    Some(((used * 100 + window / 2) / window).min(100))
}

/// A token count as people read it: 950, 4.2k, 18k, 1.3M.
pub fn tokens_text(n: i64) -> String {
    let n = n.max(0);
    match n {
        0..=999 => n.to_string(),
        1_000..=9_949 => format!("{:.1}k", n as f64 / 1_000.0),
        9_950..=999_499 => format!("{}k", (n + 500) / 1_000),
        _ => format!("{:.1}M", n as f64 / 1_000_000.0),
    }
}

/// What a finished turn cost: "done in 12 s · 18k tokens · 43% of context"; each figure
/// only when known. `turn_tokens` is the turn's own, `usage` the thread's after it.
pub fn turn_figures(
    duration_ms: Option<i64>,
    turn_tokens: Option<i64>,
    usage: Option<&p::ThreadTokenUsage>,
) -> String {
    let mut parts = Vec::new();
    parts.push(match duration_ms {
        Some(ms) if ms >= 0 => format!("done in {}", duration_text(ms)),
        _ => "done".to_string(),
    });
    if let Some(tokens) = turn_tokens {
        parts.push(format!("{} tokens", tokens_text(tokens)));
    }
    if let Some(percent) = usage.and_then(context_percent) {
        parts.push(format!("{percent}% of context"));
    }
    parts.join(" · ")
}

fn duration_text(ms: i64) -> String {
    let secs = (ms + 500) / 1000;
    match secs {
        0..=59 => format!("{secs} s"),
        _ => format!("{} min {} s", secs / 60, secs % 60),
    }
}

/// One window of a rate limit as the status line says it: "5h 12%", "weekly 40%".
fn window_text(window: &p::RateLimitWindow) -> String {
    let name = match window.window_duration_mins {
        Some(10_080) => "weekly".to_string(),
        Some(mins) if mins > 0 && mins % 1_440 == 0 => format!("{}d", mins / 1_440),
        Some(mins) if mins > 0 && mins % 60 == 0 => format!("{}h", mins / 60),
        Some(mins) if mins > 0 => format!("{mins}min"),
        _ => "limit".to_string(),
    };
    format!("{name} {}%", window.used_percent)
}

/// What the status line shows: the model and effort, the context's fill, the rate limits'
/// use ("gpt-5.5 high · 43% of context · 5h 12% · weekly 40%").
pub fn status_text(
    model: Option<&ModelInUse>,
    usage: Option<&p::ThreadTokenUsage>,
    rate_limits: Option<&p::RateLimitSnapshot>,
) -> String {
    let mut parts = Vec::new();
    if let Some(model) = model {
        parts.push(match &model.effort {
            Some(effort) => format!("{} {effort}", model.model),
            None => model.model.clone(),
        });
    }
    if let Some(percent) = usage.and_then(context_percent) {
        parts.push(format!("{percent}% of context"));
    }
    if let Some(limits) = rate_limits {
        parts.extend(limits.primary.iter().map(window_text));
        parts.extend(limits.secondary.iter().map(window_text));
    }
    parts.join(" · ")
}

/// A thread's usage in `codex.status`.
pub fn usage_json(usage: &p::ThreadTokenUsage) -> Value {
    json!({
        "totalTokens": usage.total.total_tokens,
        "inputTokens": usage.total.input_tokens,
        "cachedInputTokens": usage.total.cached_input_tokens,
        "outputTokens": usage.total.output_tokens,
        "reasoningOutputTokens": usage.total.reasoning_output_tokens,
        "lastRequestTokens": usage.last.total_tokens,
        "modelContextWindow": usage.model_context_window,
        "contextPercent": context_percent(usage),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(last: i64, total: i64, window: Option<i64>) -> p::ThreadTokenUsage {
        p::ThreadTokenUsage {
            last: p::TokenUsageBreakdown {
                input_tokens: last,
                total_tokens: last,
                ..Default::default()
            },
            total: p::TokenUsageBreakdown {
                total_tokens: total,
                ..Default::default()
            },
            model_context_window: window,
        }
    }

    #[test]
    fn figures_read_as_people_say_them() {
        assert_eq!(tokens_text(950), "950");
        assert_eq!(tokens_text(4_240), "4.2k");
        assert_eq!(tokens_text(18_400), "18k");
        assert_eq!(tokens_text(1_300_000), "1.3M");
        let u = usage(110_080, 200_000, Some(256_000));
        assert_eq!(context_percent(&u), Some(43));
        assert_eq!(
            turn_figures(Some(12_300), Some(18_000), Some(&u)),
            "done in 12 s · 18k tokens · 43% of context"
        );
        assert_eq!(turn_figures(None, None, None), "done");
        assert_eq!(
            turn_figures(Some(75_000), Some(11), Some(&usage(11, 11, None))),
            "done in 1 min 15 s · 11 tokens"
        );
    }

    #[test]
    fn rate_limit_updates_merge_into_the_last_read() {
        let meters = Meters::default();
        meters.set_rate_limits(p::RateLimitSnapshot {
            primary: Some(p::RateLimitWindow {
                used_percent: 10,
                window_duration_mins: Some(300),
                resets_at: None,
            }),
            secondary: Some(p::RateLimitWindow {
                used_percent: 40,
                window_duration_mins: Some(10_080),
                resets_at: None,
            }),
            ..Default::default()
        });
        meters.merge_rate_limits(p::RateLimitSnapshot {
            primary: Some(p::RateLimitWindow {
                used_percent: 12,
                window_duration_mins: Some(300),
                resets_at: None,
            }),
            ..Default::default()
        });
        let model = ModelInUse {
            model: "gpt-5.5".into(),
            effort: Some("high".into()),
        };
        assert_eq!(
            status_text(
                Some(&model),
                Some(&usage(110_080, 1, Some(256_000))),
                meters.rate_limits().as_ref()
            ),
            "gpt-5.5 high · 43% of context · 5h 12% · weekly 40%"
        );
    }
}
