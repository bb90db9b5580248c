//! The conversation with the agent: one thread per workspace folder (`threads`), the turns
//! run on them — asks, reviews, and on a shared app-server other clients' turns — followed
//! as progress (`turns`), and the turn registry, the part that owns which turns run, the
//! asks queued behind them and our starts in flight (`registry`); the files and images the
//! user attaches to a prompt (`attachments`). The thread as the user
//! reads it is `bridge/transcript`.

pub(super) mod attachments;
pub(super) mod registry;
pub(super) mod threads;
pub(super) mod turns;
