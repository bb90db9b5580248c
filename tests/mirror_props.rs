//! Property test of the mirror (issue 14): the bridge's own merge of the agent's change
//! into an open buffer, driven through `Bridge` with an in-memory editor that applies
//! `workspace/applyEdit` in the negotiated position encoding and echoes it as `didChange`.
//!
//! For random base / user-edit / agent-edit triples, in UTF-8, UTF-16 and UTF-32, LF and
//! CRLF (kept by the editor, or shown as LF as Emacs does), with and without a UTF-8 BOM
//! on disk (which editors do not show), with and without a final line break:
//! - the buffer becomes the three-way merge (computed here from the edits, not by
//!   `text::merge3`);
//! - mirroring again changes nothing and sends nothing;
//! - a conflict is reported iff the user's and the agent's changes overlap, and holds
//!   exactly the two versions of the overlapping region;
//! - resolving the conflicts ("Take Codex's version" or "Keep mine", in any mix) keeps
//!   every other edit of the user's.
//!
//! Also drawn: a buffer opened on an older file that the editor then reloaded from disk
//! (the base must follow it), and an editor that echoes an applied edit as one `didChange`
//! per text edit.
//!
//! Lines are unique (`b3`, `u1`, `a0`, each with a decoration that is wide in some
//! encodings), so each side's edits are exactly the line hunks a diff finds. The regions
//! that overlap are those of the merge's documented rule: they share a base line, or both
//! insert at the same point. (The rule about appending after an unterminated last line is
//! not drawn: without a final line break, the last line is never edited.)

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use codex_lsp::bridge::{
    Bridge, BufferDiagnostic, BufferEdit, ChoiceAnswer, ChoicePrompt, ConflictChoice, EditOutcome,
    EditorUi, MessageLevel, Settings,
};
use codex_lsp::text::{edits_between, Position, PositionEncoding, Range};
use futures::future::BoxFuture;
use proptest::prelude::*;
use serde_json::Value;

const DECOR: &[&str] = &["", "é", "😀", "中文", "e\u{301}", "\t𝄞"];

/// Byte offset of `p` in `text`, by a plain walk (LSP lines end at `\n`, `\r\n`, `\r`).
fn offset(text: &str, p: Position, encoding: PositionEncoding) -> usize {
    let bytes = text.as_bytes();
    let (mut line, mut i) = (0, 0);
    while line < p.line {
        match bytes.get(i) {
            None => return text.len(),
            Some(b'\n') => {
                line += 1;
                i += 1;
            }
            Some(b'\r') => {
                line += 1;
                i += 1;
                if bytes.get(i) == Some(&b'\n') {
                    i += 1;
                }
            }
            Some(_) => i += 1,
        }
    }
    let mut units = 0;
    for (j, c) in text[i..].char_indices() {
        if c == '\n' || c == '\r' || units >= p.character as usize {
            assert!(units <= p.character as usize || c == '\n' || c == '\r');
            return i + j;
        }
        units += encoding.width(c);
    }
    text.len()
}

/// An editor in memory: VS Code's behaviour for `workspace/applyEdit` (a stale version is
/// refused; an applied edit is echoed as a `didChange` before the answer).
struct FakeEditor {
    bridge: Mutex<Option<Bridge>>,
    encoding: PositionEncoding,
    buffers: Mutex<HashMap<String, (String, i32)>>,
    edits_asked: Mutex<usize>,
    /// Echo an applied edit as one `didChange` per text edit.
    split_echo: bool,
}

impl FakeEditor {
    fn bridge(&self) -> Bridge {
        self.bridge.lock().unwrap().clone().unwrap()
    }

    fn text(&self, uri: &str) -> String {
        self.buffers.lock().unwrap()[uri].0.clone()
    }

    /// Replaces the buffer's text and sends the minimal ranged `didChange`.
    fn type_text(&self, uri: &str, new_text: &str) {
        let (old, version) = self.buffers.lock().unwrap()[uri].clone();
        let edits = edits_between(&old, new_text, self.encoding);
        self.apply_and_echo(
            uri,
            version,
            edits.into_iter().map(|e| (e.range, e.new_text)).collect(),
        );
        assert_eq!(self.text(uri), new_text);
    }

    /// Applies edits (all against the current text) and echoes them, last first.
    fn apply_and_echo(&self, uri: &str, version: i32, edits: Vec<(Range, String)>) -> i32 {
        let new_version = {
            let mut buffers = self.buffers.lock().unwrap();
            let (text, v) = buffers.get_mut(uri).unwrap();
            assert_eq!(*v, version);
            let mut spans: Vec<(usize, usize, usize, String)> = edits
                .iter()
                .enumerate()
                .map(|(i, (r, t))| {
                    (
                        offset(text, r.start, self.encoding),
                        offset(text, r.end, self.encoding),
                        i,
                        t.clone(),
                    )
                })
                .collect();
            // Last first; inserts at one position keep the array's order (the spec says so).
            spans.sort_by_key(|s| std::cmp::Reverse((s.0, s.2)));
            for (start, end, _, new_text) in spans {
                text.replace_range(start..end, &new_text);
            }
            // One notification, or (as some editors do) one per edit.
            *v += if self.split_echo {
                edits.len().max(1) as i32
            } else {
                1
            };
            *v
        };
        let mut changes: Vec<(usize, (Range, String))> = edits.into_iter().enumerate().collect();
        changes.sort_by_key(|(i, (r, _))| std::cmp::Reverse((r.start, *i)));
        let changes: Vec<(Option<Range>, String)> = changes
            .into_iter()
            .map(|(_, (r, t))| (Some(r), t))
            .collect();
        let bridge = self.bridge();
        if self.split_echo && changes.len() > 1 {
            let first = new_version - changes.len() as i32;
            for (i, change) in changes.into_iter().enumerate() {
                bridge
                    .did_change(uri, first + 1 + i as i32, [change])
                    .unwrap();
            }
        } else {
            bridge.did_change(uri, new_version, changes).unwrap();
        }
        new_version
    }
}

impl EditorUi for FakeEditor {
    fn supports_progress(&self) -> bool {
        false
    }
    fn progress_begin(&self, _: String, _: String, _: String) -> BoxFuture<'static, bool> {
        Box::pin(async { false })
    }
    fn progress_report(&self, _: &str, _: String) {}
    fn progress_end(&self, _: &str, _: String) {}
    fn show_message(&self, _: MessageLevel, _: String) {}
    fn ask_choice(&self, _: ChoicePrompt) -> BoxFuture<'static, ChoiceAnswer> {
        Box::pin(async { ChoiceAnswer::Dismissed })
    }
    fn supports_rich_approvals(&self) -> bool {
        false
    }
    fn rich_approval(
        &self,
        _: codex_lsp::bridge::RichApproval,
    ) -> BoxFuture<'static, Result<Option<Value>, String>> {
        Box::pin(async { Err("this editor shows no approvals".into()) })
    }
    fn approval_ended(&self, _: codex_lsp::bridge::ApprovalEnded) {}
    fn open_external(&self, _: String) -> BoxFuture<'static, bool> {
        Box::pin(async { false })
    }
    fn supports_apply_edit(&self) -> bool {
        true
    }
    fn apply_edit(&self, edit: BufferEdit) -> BoxFuture<'static, EditOutcome> {
        *self.edits_asked.lock().unwrap() += 1;
        let current = self.buffers.lock().unwrap().get(&edit.uri).map(|b| b.1);
        let outcome = match current {
            None => EditOutcome::Rejected(Some(format!("{} is not open", edit.uri))),
            Some(v) if v != edit.version => EditOutcome::Rejected(Some("stale".into())),
            Some(v) => {
                let edits = edit
                    .edits
                    .into_iter()
                    .map(|e| (e.range, e.new_text))
                    .collect();
                self.apply_and_echo(&edit.uri, v, edits);
                EditOutcome::Applied
            }
        };
        Box::pin(async move { outcome })
    }
    fn publish_diagnostics(&self, _: &str, _: Vec<BufferDiagnostic>) {}
    fn pulls_diagnostics(&self) -> bool {
        false
    }
    fn refresh_diagnostics(&self) {}
    fn path_to_uri(&self, path: &Path) -> Option<String> {
        Some(format!("file://{}", path.display()))
    }
    fn show_file(&self, _: std::path::PathBuf) -> BoxFuture<'static, bool> {
        Box::pin(async { false })
    }
    fn turn_completed(&self, _: &codex_lsp::bridge::TurnOutcome) {}
    fn event(&self, _: codex_lsp::bridge::TurnEventForEditor) {}
}

/// One side's change of base lines `start..end` to `lines` (an insertion when empty range).
#[derive(Debug, Clone)]
struct Op {
    start: usize,
    end: usize,
    lines: Vec<String>,
}

#[derive(Debug, Clone)]
struct Case {
    base: Vec<String>,
    final_newline: bool,
    crlf: bool,
    editor_shows_lf: bool,
    bom: bool,
    encoding: PositionEncoding,
    ours: Vec<Op>,
    theirs: Vec<Op>,
    take_codex: Vec<bool>,
    /// The buffer was opened on an older file, which then changed on disk and the editor
    /// reloaded (a `git checkout`): the merge base must be what it reloaded.
    reloaded: bool,
    split_echo: bool,
}

/// Non-overlapping ops over lines `0..editable` (and insertions up to `editable`), at
/// least one unchanged line apart, so each is one hunk of a line diff.
fn ops(editable: usize, prefix: &'static str) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec((0..=editable, 0..3usize, 0..3usize, 0..DECOR.len()), 0..4).prop_map(
        move |raw| {
            let mut raw: Vec<(usize, usize, usize, usize)> = raw
                .into_iter()
                .map(|(start, len, new, decor)| (start, (start + len).min(editable), new, decor))
                .filter(|&(start, end, new, _)| end > start || new > 0)
                .collect();
            raw.sort();
            let mut ops: Vec<Op> = Vec::new();
            let mut fresh = 0;
            for (start, end, new, decor) in raw {
                if ops.last().is_some_and(|last| start <= last.end) {
                    continue;
                }
                let lines = (0..new)
                    .map(|_| {
                        fresh += 1;
                        format!("{prefix}{fresh}{}", DECOR[(decor + fresh) % DECOR.len()])
                    })
                    .collect();
                ops.push(Op { start, end, lines });
            }
            ops
        },
    )
}

fn case() -> impl Strategy<Value = Case> {
    (2..9usize, any::<bool>())
        .prop_flat_map(|(n, final_newline)| {
            let editable = if final_newline { n } else { n - 1 };
            (
                prop::collection::vec(0..DECOR.len(), n),
                Just(final_newline),
                (any::<bool>(), any::<bool>(), any::<bool>()),
                prop::sample::select(PositionEncoding::ALL.to_vec()),
                ops(editable, "u"),
                ops(editable, "a"),
                prop::collection::vec(any::<bool>(), 8),
                (any::<bool>(), any::<bool>()),
            )
        })
        .prop_map(
            |(
                decor,
                final_newline,
                (crlf, editor_shows_lf, bom),
                encoding,
                ours,
                theirs,
                take_codex,
                (reloaded, split_echo),
            )| Case {
                base: decor
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| format!("b{i}{}", DECOR[d]))
                    .collect(),
                final_newline,
                crlf,
                editor_shows_lf: crlf && editor_shows_lf,
                bom,
                encoding,
                ours,
                theirs,
                take_codex,
                reloaded,
                split_echo,
            },
        )
}

fn render(lines: &[String], eol: &str, final_newline: bool) -> String {
    let mut text = lines.join(eol);
    if final_newline && !lines.is_empty() {
        text.push_str(eol);
    }
    text
}

fn apply(base: &[String], ops: &[&Op], offset: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    for op in ops {
        out.extend_from_slice(&base[at..op.start - offset]);
        out.extend(op.lines.iter().cloned());
        at = op.end - offset;
    }
    out.extend_from_slice(&base[at..]);
    out
}

/// A region of the merge: the base span, the side versions, whether it conflicts.
#[derive(Debug)]
struct Region {
    span: (usize, usize),
    ours: Vec<String>,
    theirs: Vec<String>,
    user_changed: bool,
    agent_changed: bool,
}

impl Region {
    fn conflicts(&self) -> bool {
        self.user_changed && self.agent_changed && self.ours != self.theirs
    }
}

/// The merge's regions, from the documented overlap rule, grouped transitively.
fn regions(case: &Case) -> Vec<Region> {
    let all: Vec<(bool, &Op)> = case
        .ours
        .iter()
        .map(|o| (true, o))
        .chain(case.theirs.iter().map(|o| (false, o)))
        .collect();
    let mut group: Vec<usize> = (0..all.len()).collect();
    fn root(group: &mut [usize], i: usize) -> usize {
        if group[i] == i {
            i
        } else {
            let r = root(group, group[i]);
            group[i] = r;
            r
        }
    }
    for i in 0..all.len() {
        for j in 0..all.len() {
            let ((si, a), (sj, b)) = (all[i], all[j]);
            if si == sj {
                continue;
            }
            let share = a.start < b.end && b.start < a.end;
            let same_point = a.start == a.end && a.start == b.start && b.start == b.end;
            if share || same_point {
                let (ri, rj) = (root(&mut group, i), root(&mut group, j));
                group[ri] = rj;
            }
        }
    }
    let mut by_root: HashMap<usize, Vec<(bool, &Op)>> = HashMap::new();
    for (i, &item) in all.iter().enumerate() {
        let r = root(&mut group, i);
        by_root.entry(r).or_default().push(item);
    }
    let mut regions: Vec<Region> = by_root
        .into_values()
        .map(|items| {
            let start = items.iter().map(|(_, o)| o.start).min().unwrap();
            let end = items.iter().map(|(_, o)| o.end).max().unwrap();
            let side = |user: bool| {
                let mut ops: Vec<&Op> = items
                    .iter()
                    .filter(|(s, _)| *s == user)
                    .map(|(_, o)| *o)
                    .collect();
                ops.sort_by_key(|o| o.start);
                apply(&case.base[start..end], &ops, start)
            };
            Region {
                span: (start, end),
                ours: side(true),
                theirs: side(false),
                user_changed: items.iter().any(|(s, _)| *s),
                agent_changed: items.iter().any(|(s, _)| !*s),
            }
        })
        .collect();
    regions.sort_by_key(|r| r.span);
    regions
}

/// The base with each region replaced by the version `pick` chooses.
fn assemble(case: &Case, regions: &[Region], pick: impl Fn(usize, &Region) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0;
    for (i, region) in regions.iter().enumerate() {
        out.extend_from_slice(&case.base[at..region.span.0]);
        let take_theirs = if region.conflicts() {
            pick(i, region)
        } else {
            !region.user_changed
        };
        out.extend(if take_theirs {
            region.theirs.clone()
        } else {
            region.ours.clone()
        });
        at = region.span.1;
    }
    out.extend_from_slice(&case.base[at..]);
    out
}

fn run(case: Case) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().canonicalize().unwrap();
    let path = folder.join("a.txt");
    let uri = format!("file://{}", path.display());
    let disk_eol = if case.crlf { "\r\n" } else { "\n" };
    let eol = if case.editor_shows_lf { "\n" } else { disk_eol };
    let bom = if case.bom { "\u{FEFF}" } else { "" };
    let ours_lines = apply(&case.base, &case.ours.iter().collect::<Vec<_>>(), 0);
    let theirs_lines = apply(&case.base, &case.theirs.iter().collect::<Vec<_>>(), 0);
    let regions = regions(&case);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let editor = Arc::new(FakeEditor {
            bridge: Mutex::new(None),
            encoding: case.encoding,
            buffers: Mutex::new(HashMap::new()),
            edits_asked: Mutex::new(0),
            split_echo: case.split_echo,
        });
        let bridge = Bridge::new(
            editor.clone(),
            Settings::default(),
            vec![folder.clone()],
            case.encoding,
        );
        *editor.bridge.lock().unwrap() = Some(bridge.clone());

        let base = render(&case.base, eol, case.final_newline);
        // Reloaded: opened on an older file (every other line differs), then the file
        // became `base` and the editor reloaded it with the ranged change VS Code sends.
        let opened_on: Vec<String> = if case.reloaded {
            let mut older = case.base.clone();
            for line in older.iter_mut().step_by(2) {
                *line = format!("old {line}");
            }
            older
        } else {
            case.base.clone()
        };
        let opened = render(&opened_on, eol, case.final_newline);
        std::fs::write(
            &path,
            format!("{bom}{}", render(&opened_on, disk_eol, case.final_newline)),
        )
        .unwrap();
        editor
            .buffers
            .lock()
            .unwrap()
            .insert(uri.clone(), (opened.clone(), 1));
        bridge.did_open(
            uri.clone(),
            uri.clone(),
            Some(path.clone()),
            "plaintext".into(),
            1,
            &opened,
        );
        if case.reloaded {
            std::fs::write(
                &path,
                format!("{bom}{}", render(&case.base, disk_eol, case.final_newline)),
            )
            .unwrap();
            editor.type_text(&uri, &base);
        }
        editor.type_text(&uri, &render(&ours_lines, eol, case.final_newline));
        std::fs::write(
            &path,
            format!(
                "{bom}{}",
                render(&theirs_lines, disk_eol, case.final_newline)
            ),
        )
        .unwrap();

        bridge.mirror_path(&path, "turn-1").await;
        let merged = render(
            &assemble(&case, &regions, |_, _| false),
            eol,
            case.final_newline,
        );
        prop_assert_eq!(
            editor.text(&uri),
            merged.clone(),
            "the buffer is the three-way merge"
        );
        let expected: Vec<(String, String)> = regions
            .iter()
            .filter(|r| r.conflicts())
            .map(|r| {
                let text = |lines: &[String]| {
                    lines
                        .iter()
                        .map(|l| format!("{l}{eol}"))
                        .collect::<String>()
                };
                (text(&r.ours), text(&r.theirs))
            })
            .collect();
        let conflicts = bridge.documents().conflicts(&uri);
        let reported: Vec<(String, String)> = conflicts
            .iter()
            .map(|c| (c.ours.clone(), c.theirs.clone()))
            .collect();
        prop_assert_eq!(&reported, &expected, "a conflict iff the changes overlap");

        // Mirroring a result the buffer already holds is a no-op.
        let asked = *editor.edits_asked.lock().unwrap();
        bridge.mirror_path(&path, "turn-1").await;
        prop_assert_eq!(
            *editor.edits_asked.lock().unwrap(),
            asked,
            "nothing sent again"
        );
        prop_assert_eq!(editor.text(&uri), merged);
        let again: Vec<u64> = bridge
            .documents()
            .conflicts(&uri)
            .iter()
            .map(|c| c.id)
            .collect();
        prop_assert_eq!(again, conflicts.iter().map(|c| c.id).collect::<Vec<_>>());

        // Resolving, in any mix, keeps every other edit of the user's.
        let conflicting: Vec<usize> = (0..regions.len())
            .filter(|&i| regions[i].conflicts())
            .collect();
        for (k, conflict) in conflicts.iter().enumerate() {
            let choice = if case.take_codex[k % case.take_codex.len()] {
                ConflictChoice::TakeCodex
            } else {
                ConflictChoice::KeepMine
            };
            let resolved = bridge.resolve_conflict(&uri, conflict.id, choice).await;
            prop_assert!(resolved.is_ok(), "{:?}", resolved);
        }
        let resolved = assemble(&case, &regions, |i, _| {
            let k = conflicting.iter().position(|&c| c == i).unwrap();
            case.take_codex[k % case.take_codex.len()]
        });
        prop_assert_eq!(
            editor.text(&uri),
            render(&resolved, eol, case.final_newline)
        );
        prop_assert!(bridge.documents().conflicts(&uri).is_empty());
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn the_mirror_merges_once_reports_only_overlaps_and_resolving_keeps_the_users_edits(case in case()) {
        run(case)?;
    }
}

/// Issue 14, item 3, as the property test first found it: the user's line, the agent's
/// next to it.
#[test]
fn the_reported_example() {
    let line = |s: &str| s.to_string();
    for (crlf, final_newline) in [(false, true), (true, false)] {
        run(Case {
            base: vec![line("alpha"), line("beta"), line("gamma"), line("delta")],
            final_newline,
            crlf,
            editor_shows_lf: false,
            bom: false,
            encoding: PositionEncoding::Utf16,
            ours: vec![Op {
                start: 0,
                end: 1,
                lines: vec![line("alpha (mine)")],
            }],
            theirs: vec![Op {
                start: 1,
                end: 2,
                lines: vec![line("BETA")],
            }],
            take_codex: vec![true],
            reloaded: false,
            split_echo: false,
        })
        .unwrap();
    }
}
