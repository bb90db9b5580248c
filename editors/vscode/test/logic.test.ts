// Unit tests of the extension's pure logic (node's built-in test runner: `npm test`).
import { test } from "node:test";
import * as assert from "node:assert/strict";
import {
  TranscriptView,
  accountLabel,
  acceptDecision,
  approvalButtons,
  applyUnifiedDiff,
  askArguments,
  changeSides,
  decisionFor,
  findExecutable,
  ignoredSettingsMessage,
  ignoredWorkspaceSettings,
  isUnknownCommand,
  loginArguments,
  missingServerMessage,
  resolveServer,
  readerOf,
  reviewResources,
  serverSettings,
  settingNamedIn,
  settingValue,
  sidesOfHunks,
  statusReport,
  statusView,
  tailLine,
  threadPicks,
  turnFailureMessage,
} from "../src/logic";

test("server settings: only codex-lsp's keys, empty ones left out, streamEvents on", () => {
  const config: Record<string, unknown> = {
    serverPath: "/opt/codex-lsp",
    model: "gpt-5.5",
    effort: "",
    approvalPolicy: "untrusted",
    sandbox: "read-only",
    config: {},
    logLevel: "debug",
    logFile: "",
    codexPath: "/x/codex",
    trace: { server: "off" },
  };
  assert.deepEqual(serverSettings(readerOf(config)), {
    model: "gpt-5.5",
    approvalPolicy: "untrusted",
    sandbox: "read-only",
    logLevel: "debug",
    codexPath: "/x/codex",
    streamEvents: true,
  });
  const withConfig = serverSettings(readerOf({ config: { "features.web_search": true } }));
  assert.deepEqual(withConfig, { config: { "features.web_search": true }, streamEvents: true });
  const shared = serverSettings(
    readerOf({ appServer: "ws://127.0.0.1:4500", appServerTokenFile: "/run/token", approvalTimeout: 30, appServerToken: "" }),
  );
  assert.deepEqual(shared, {
    approvalTimeout: 30,
    appServer: "ws://127.0.0.1:4500",
    appServerTokenFile: "/run/token",
    streamEvents: true,
  });
});

test("a workspace's settings never set what Codex may run, touch or connect to", () => {
  const defaults = { approvalPolicy: "on-request", sandbox: "workspace-write", serverPath: "codex-lsp", config: {} };
  const user = { approvalPolicy: "untrusted", model: "gpt-user" };
  const hostile = {
    approvalPolicy: "never",
    sandbox: "danger-full-access",
    config: { "mcp_servers.evil.command": "sh" },
    logFile: "/repo/log",
    codexPath: "/repo/codex",
    serverPath: "/repo/codex-lsp",
    appServer: "ws://evil:1",
    appServerToken: "t",
    appServerTokenFile: "/repo/t",
    model: "gpt-workspace",
  };
  const read = readerOf(user, hostile, defaults);
  assert.deepEqual(serverSettings(read), {
    model: "gpt-workspace",
    approvalPolicy: "untrusted",
    sandbox: "workspace-write",
    streamEvents: true,
  });
  assert.equal(settingValue(read, "serverPath"), "codex-lsp");
  const ignored = ignoredWorkspaceSettings(read);
  assert.deepEqual(ignored.sort(), [
    "codex.appServer",
    "codex.appServerToken",
    "codex.appServerTokenFile",
    "codex.approvalPolicy",
    "codex.codexPath",
    "codex.config",
    "codex.logFile",
    "codex.sandbox",
    "codex.serverPath",
  ]);
  assert.match(ignoredSettingsMessage(["codex.sandbox"]), /`codex.sandbox`; ignored/);
  assert.deepEqual(ignoredWorkspaceSettings(readerOf(user, { model: "x" }, defaults)), []);
});

test("the server is found on PATH, as a path, or not at all", () => {
  const present = new Set(["/usr/local/bin/codex-lsp", "/home/u/.cargo/bin/other"]);
  const exe = (p: string) => present.has(p);
  assert.equal(findExecutable("codex-lsp", "/usr/bin:/usr/local/bin/", exe), "/usr/local/bin/codex-lsp");
  assert.equal(findExecutable("codex-lsp", "/usr/bin", exe), undefined);
  assert.equal(findExecutable("codex-lsp", undefined, exe), undefined);
  assert.equal(findExecutable("/usr/local/bin/codex-lsp", "", exe), "/usr/local/bin/codex-lsp");
  assert.equal(findExecutable("~/.cargo/bin/other", "", exe, "/home/u"), "/home/u/.cargo/bin/other");
  assert.equal(findExecutable("/nope/codex-lsp", "/usr/local/bin", exe), undefined, "a path is not searched");
  const message = missingServerMessage("codex-lsp");
  assert.match(message, /`codex-lsp` was not found/);
  assert.match(message, /cargo install --path \./);
  assert.match(message, /login shell's PATH/);
  assert.match(message, /codex\.serverPath/);
});

test("the bundled server comes first; codex.serverPath overrides it; PATH is the last resort", () => {
  const bundled = "/ext/server/codex-lsp";
  const present = new Set([bundled, "/usr/local/bin/codex-lsp", "/opt/mine/codex-lsp"]);
  const exe = (p: string) => present.has(p);
  assert.deepEqual(resolveServer("", bundled, "/usr/local/bin", exe), { command: bundled, source: "bundled", looked: bundled });
  assert.deepEqual(resolveServer("/opt/mine/codex-lsp", bundled, "/usr/local/bin", exe), {
    command: "/opt/mine/codex-lsp",
    source: "setting",
    looked: "/opt/mine/codex-lsp",
  });
  // A setting that names nothing is an error, not a silent fall back to the bundled server.
  assert.deepEqual(resolveServer("/nope", bundled, "/usr/local/bin", exe), { command: undefined, source: "setting", looked: "/nope" });
  // The universal package (no server inside), or a bundled file that cannot run: PATH.
  assert.deepEqual(resolveServer("", undefined, "/usr/local/bin", exe), {
    command: "/usr/local/bin/codex-lsp",
    source: "path",
    looked: "codex-lsp",
  });
  assert.equal(resolveServer("", "/ext/broken/codex-lsp", "/usr/bin", exe).command, undefined);
});

test("ask: the selection is the range; an empty selection or no file sends none", () => {
  const sel = { start: { line: 1, character: 2 }, end: { line: 3, character: 0 } };
  assert.deepEqual(askArguments("fix it", "file:///w/a.rs", sel), {
    prompt: "fix it",
    uri: "file:///w/a.rs",
    range: { start: { line: 1, character: 2 }, end: { line: 3, character: 0 } },
  });
  const empty = { start: { line: 4, character: 1 }, end: { line: 4, character: 1 } };
  assert.deepEqual(askArguments("why", "file:///w/a.rs", empty), { prompt: "why", uri: "file:///w/a.rs" });
  assert.deepEqual(askArguments("hello", undefined, sel), { prompt: "hello" });
  // VS Code's Position keeps its fields behind getters.
  class Pos {
    constructor(private _l: number, private _c: number) {}
    get line() {
      return this._l;
    }
    get character() {
      return this._c;
    }
  }
  const real = { start: new Pos(1, 0), end: new Pos(1, 8) };
  assert.equal(
    JSON.stringify(askArguments("p", "file:///w/a", real).range),
    '{"start":{"line":1,"character":0},"end":{"line":1,"character":8}}',
  );
});

test("status bar: each state has its text and click", () => {
  assert.equal(statusView({ kind: "connected" }).text, "$(check) Codex");
  assert.equal(statusView({ kind: "connected", account: "API key" }).text, "$(check) Codex (API key)");
  assert.equal(
    statusView({ kind: "connected", account: "API key", meters: "gpt-5.5 high · 43% of context" }).text,
    "$(check) Codex (API key) · gpt-5.5 high · 43% of context",
  );
  const running = statusView({ kind: "running", message: "running `cargo test`" });
  assert.equal(running.text, "$(sync~spin) Codex: running `cargo test`");
  assert.equal(running.command, "codex.interruptTurn");
  assert.equal(statusView({ kind: "approval" }).text, "$(bell) Codex: waiting for approval");
  const missing = statusView({ kind: "missing", serverPath: "codex-lsp" });
  assert.match(missing.text, /not found/);
  assert.match(missing.tooltip, /cargo install --path \./);
  assert.equal(statusView({ kind: "running", message: "x".repeat(100) }).text.length, "$(sync~spin) Codex: ".length + 60);
});

test("status bar: a long progress message shows its latest text, on one line", () => {
  const reply = "The quick brown fox jumps over the lazy dog and keeps running far beyond the fence at the end";
  const tail = tailLine(reply, 60);
  assert.equal([...tail].length, 60);
  assert.ok(tail.startsWith("…") && reply.endsWith(tail.slice(1)), tail);
  assert.equal(tailLine("first line\nsecond line\n\n", 60), "second line");
  assert.equal(tailLine("…" + "x".repeat(80), 60), "…" + "x".repeat(59));
  assert.equal(tailLine("running `cargo test`", 60), "running `cargo test`");
  const view = statusView({ kind: "running", message: reply });
  assert.ok(view.text.endsWith("end"), view.text);
});

test("Codex: Status sums up codex.status", () => {
  const report = statusReport({
    appServer: { state: "running", endpoint: "spawn", version: "0.163.0" },
    activeTurns: [{ threadId: "t", turnId: "u" }],
    settings: { approvalPolicy: "untrusted", sandbox: "read-only", model: "gpt-5.4" },
  });
  assert.equal(
    report.summary,
    "Codex: app-server running (spawn), codex 0.163.0; approvals untrusted, sandbox read-only, model gpt-5.4; 1 turn running.",
  );
  assert.match(report.text, /"approvalPolicy": "untrusted"/);
  assert.match(statusReport(null).summary, /app-server unknown/);
});

test("transcript: codex-lsp's updates, appended or replaced from a line, turn by turn", () => {
  const t = new TranscriptView();
  assert.ok(t.isEmpty());
  assert.deepEqual(t.update({ threadId: "th", turnId: "t1", markdown: "---\n\n" }), { append: "---\n\n" });
  assert.deepEqual(t.update({ turnId: "t1", markdown: "### Codex\n\n> One" }), { append: "### Codex\n\n> One" });
  assert.deepEqual(t.update({ turnId: "t1", markdown: " two" }), { append: " two" });
  // A second turn starts below; the first's update then shows the whole text anew.
  t.update({ threadId: "th", turnId: "t2", markdown: "---\n\n" });
  assert.deepEqual(t.update({ turnId: "t1", markdown: ".\n\n" }), { replace: "---\n\n### Codex\n\n> One two.\n\n---\n\n" });
  // Replace from line 2 of t1's own text.
  assert.deepEqual(t.update({ turnId: "t1", markdown: "#### Ran · exit 0\n\n", replaceFromLine: 2 }), {
    replace: "---\n\n#### Ran · exit 0\n\n---\n\n",
  });
  assert.equal(t.update({ turnId: "t1" }), undefined, "no markdown: nothing");
  assert.deepEqual(t.clear(), { replace: "" });
});

test("transcript: a thread's history keeps a running turn's live text", () => {
  const t = new TranscriptView();
  t.update({ threadId: "th", turnId: "live", markdown: "---\n\n### You\n\n> now\n\n" });
  t.update({ threadId: "other", turnId: "elsewhere", markdown: "---\n\nother thread\n\n" });
  const history = {
    threadId: "th",
    markdown: "# Title\n\n---\n\nold turn\n\n---\n\nlive as read\n\n",
    turns: [
      { turnId: "old", line: 2 },
      { turnId: "live", line: 6 },
    ],
  };
  assert.deepEqual(t.history(history), { replace: "# Title\n\n---\n\nold turn\n\n---\n\n### You\n\n> now\n\n" });
  // Its updates go on counting lines in its live text.
  t.update({ turnId: "live", markdown: "*completed*\n\n", replaceFromLine: 4 });
  assert.equal(t.text(), "# Title\n\n---\n\nold turn\n\n---\n\n### You\n\n*completed*\n\n");
  t.ended("live");
  // Once ended, the history's text is the turn's; a turn first seen in the history that
  // then updates (it ran when the history was read) starts over from its first line.
  const again = new TranscriptView();
  again.history(history);
  again.update({ turnId: "live", markdown: "---\n\nfrom the start\n\n" });
  assert.equal(again.text(), "# Title\n\n---\n\nold turn\n\n---\n\nfrom the start\n\n");
  assert.match(turnFailureMessage({ status: "failed", error: { message: "HTTP 500" } }) ?? "", /^Codex: the turn failed: HTTP 500\. /);
  assert.equal(turnFailureMessage({ status: "completed" }), undefined);
});

test("an error naming a setting points at it", () => {
  assert.equal(
    settingNamedIn("the codex runtime was not found. Searched:\n  - setting `codexPath` = /x (not an executable file)\nor set `codexPath`."),
    "codex.codexPath",
  );
  assert.equal(settingNamedIn("`appServerTokenFile` unreadable, see `appServer`"), "codex.appServerTokenFile");
  assert.equal(settingNamedIn("no such thing as `serverPath` here"), undefined);
  assert.equal(settingNamedIn("boom"), undefined);
});

test("account labels", () => {
  assert.equal(accountLabel({ account: { type: "apiKey" }, requiresOpenaiAuth: true }), "API key");
  assert.equal(accountLabel({ account: { type: "chatgpt", email: "a@b.c" } }), "ChatGPT: a@b.c");
  assert.equal(accountLabel({ account: null, requiresOpenaiAuth: true }), "not logged in");
  assert.equal(accountLabel({ requiresOpenaiAuth: false }), undefined);
  assert.equal(accountLabel(null), undefined);
});

test("approvals: the picked choice's decision; anything else declines", () => {
  const amendment = { acceptWithExecpolicyAmendment: { execpolicy_amendment: ["touch", "m"] } };
  const choices = [
    { title: "Accept", decision: "accept" },
    { title: "Accept and always allow `touch m`", decision: amendment },
    { title: "Cancel turn", decision: "cancel" },
  ];
  assert.equal(decisionFor(choices, "Accept"), "accept");
  assert.deepEqual(decisionFor(choices, "Accept and always allow `touch m`"), amendment);
  assert.equal(decisionFor(choices, undefined), "decline", "dismissed");
  assert.equal(decisionFor(choices, "Sure"), "decline", "not offered");
  assert.equal(decisionFor(undefined, "Accept"), "decline");
  assert.equal(acceptDecision(choices), "accept");
  // "Decline" is always a button, and the first (the modal's default, what Enter presses);
  // when not offered, it answers a plain decline.
  assert.deepEqual(approvalButtons(choices), ["Decline", "Accept", "Accept and always allow `touch m`", "Cancel turn"]);
  const offered = [...choices, { title: "Decline", decision: "decline" }];
  assert.deepEqual(approvalButtons(offered), ["Decline", "Accept", "Accept and always allow `touch m`", "Cancel turn"]);
  assert.equal(decisionFor(choices, "Decline"), "decline");
  assert.deepEqual(acceptDecision([{ title: "Accept for session", decision: "acceptForSession" }]), "acceptForSession");
  assert.equal(acceptDecision([{ title: "Cancel turn", decision: "cancel" }]), undefined);
});

test("unified diffs apply to the file to give both sides of the diff view", () => {
  const text = "one\ntwo\nthree\nfour\n";
  assert.equal(applyUnifiedDiff(text, "@@ -2 +2,2 @@\n-two\n+TWO\n+2b\n"), "one\nTWO\n2b\nthree\nfour\n");
  assert.equal(applyUnifiedDiff(text, "@@ -1,2 +1,2 @@\n one\n-two\n+deux\n@@ -4 +4 @@\n-four\n+quatre\n"), "one\ndeux\nthree\nquatre\n");
  // With file headers, and a pure insertion after line 0.
  assert.equal(applyUnifiedDiff(text, "--- a/x\n+++ b/x\n@@ -0,0 +1 @@\n+zero\n"), "zero\none\ntwo\nthree\nfour\n");
  // A final line without newline.
  assert.equal(applyUnifiedDiff("a\nb", "@@ -2 +2 @@\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"), "a\nc");
  assert.equal(applyUnifiedDiff("a\nb", "@@ -2 +2 @@\n-b\n\\ No newline at end of file\n+c\n"), "a\nc\n");
  // Context that does not match: not applied.
  assert.equal(applyUnifiedDiff(text, "@@ -2 +2 @@\n-deux\n+TWO\n"), undefined);
  assert.equal(applyUnifiedDiff(text, "no hunks here"), undefined);
});

test("change sides: adds, deletes, updates, and hunks alone when the file differs", () => {
  assert.deepEqual(changeSides({ path: "/w/n.txt", kind: "add", diff: "new\n" }, undefined), { before: "", after: "new\n", exact: true });
  assert.deepEqual(changeSides({ path: "/w/o.txt", kind: "delete", diff: "old\n" }, "old\n"), { before: "old\n", after: "", exact: true });
  const update = { path: "/w/a.txt", kind: "update", diff: "@@ -1 +1 @@\n-old line\n+new line\n" };
  assert.deepEqual(changeSides(update, "old line\nsecond\n"), { before: "old line\nsecond\n", after: "new line\nsecond\n", exact: true });
  assert.deepEqual(changeSides(update, "something else\n"), { before: "old line\n", after: "new line\n", exact: false });
  assert.deepEqual(sidesOfHunks("@@ -1,2 +1,2 @@\n a\n-b\n+B\n@@ -9 +9 @@\n-x\n+y\n"), {
    before: "a\nb\n…\nx\n",
    after: "a\nB\n…\ny\n",
  });
});

test("threads, login arguments, unknown commands", () => {
  const picks = threadPicks({
    data: [
      { id: "t1", preview: "fix   the\nbug", updatedAt: 1700000000 },
      { id: "t2", name: "", createdAt: 1700000000000 },
      { nope: true },
    ],
  });
  assert.deepEqual(picks, [
    { label: "fix the bug", description: "2023-11-14 22:13", id: "t1" },
    { label: "(no preview)", description: "2023-11-14 22:13", id: "t2" },
  ]);
  assert.deepEqual(threadPicks(null), []);
  assert.deepEqual(loginArguments("apiKey", "sk-1"), { method: "apiKey", apiKey: "sk-1" });
  assert.deepEqual(loginArguments("deviceCode", "ignored"), { method: "deviceCode" });
  assert.ok(isUnknownCommand(new Error("unknown command `codex.review`; codex-lsp knows: codex.ask")));
  assert.ok(!isUnknownCommand({ message: "codex.review: missing field `uri`" }));
});

test("Review Changes diffs each file against the earliest turn with pending hunks there", () => {
  const hunk = (status: string) => ({ id: "x", status });
  const listed = {
    turns: [
      { turnId: "t3", files: [{ uri: "file:///a", hunks: [hunk("pending")] }, { uri: "file:///c", hunks: [hunk("kept")] }] },
      { turnId: "t2", files: [{ uri: "file:///a", hunks: [hunk("reverted"), hunk("pending")] }, { uri: "file:///b", hunks: [hunk("pending")] }] },
      { turnId: "t1", files: [{ uri: "file:///a", hunks: [hunk("kept")] }] },
    ],
  };
  assert.deepEqual(reviewResources(listed), [
    { uri: "file:///a", turnId: "t2" },
    { uri: "file:///b", turnId: "t2" },
  ]);
  // Nothing pending: the newest turn's files, still undoable.
  const done = { turns: [{ turnId: "t9", files: [{ uri: "file:///z", hunks: [hunk("kept")] }] }, listed.turns[2]] };
  assert.deepEqual(reviewResources(done), [{ uri: "file:///z", turnId: "t9" }]);
  assert.deepEqual(reviewResources(undefined), []);
  assert.deepEqual(reviewResources({ turns: [] }), []);
});
