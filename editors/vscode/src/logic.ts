// The extension's pure logic: nothing here imports `vscode`, so node's test runner checks it
// directly (test/logic.test.ts).

/** The settings codex-lsp knows (docs/lsp.md), as named under VS Code's `codex.` section. */
export const SERVER_SETTINGS = [
  "codexPath",
  "model",
  "effort",
  "approvalPolicy",
  "sandbox",
  "config",
  "logLevel",
  "logFile",
  "approvalTimeout",
  "reviewChanges",
  "appServer",
  "appServerToken",
  "appServerTokenFile",
] as const;

/**
 * Settings a folder's `.vscode/settings.json` must never set: they run programs
 * (`serverPath`, `codexPath`, `config` with its `mcp_servers.*.command`), weaken what the agent
 * may do (`sandbox`, `approvalPolicy`), choose where codex-lsp writes (`logFile`) or which
 * app-server it trusts (`appServer`, its token). package.json gives them `machine` or
 * `application` scope and lists them as restricted configurations; this extension also reads
 * them from User (and Remote) settings only, so neither an older VS Code nor a scope declared
 * wrongly lets a cloned repository set them.
 */
export const USER_ONLY_SETTINGS = [
  "serverPath",
  "codexPath",
  "approvalPolicy",
  "sandbox",
  "config",
  "logFile",
  "appServer",
  "appServerToken",
  "appServerTokenFile",
] as const;

/** What `WorkspaceConfiguration.inspect` gives (the parts used here). */
export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** A setting reader: `get` as VS Code resolves it, `inspect` for where each value came from. */
export interface SettingsReader {
  get(key: string): unknown;
  inspect(key: string): Inspected | undefined;
}

/**
 * The value of `codex.<key>`: a user-only setting from User/Remote settings or its default,
 * whatever the workspace says; any other as VS Code resolves it.
 */
export function settingValue(read: SettingsReader, key: string): unknown {
  if (!(USER_ONLY_SETTINGS as readonly string[]).includes(key)) return read.get(key);
  const inspected = read.inspect(key);
  if (!inspected) return undefined;
  return inspected.globalValue !== undefined ? inspected.globalValue : inspected.defaultValue;
}

/** The user-only settings this workspace (or one of its folders) tries to set: ignored. */
export function ignoredWorkspaceSettings(read: SettingsReader): string[] {
  return USER_ONLY_SETTINGS.filter((key) => {
    const inspected = read.inspect(key);
    return inspected !== undefined && (inspected.workspaceValue !== undefined || inspected.workspaceFolderValue !== undefined);
  }).map((key) => `codex.${key}`);
}

/** The warning shown once per window when a workspace tries to set user-only settings. */
export function ignoredSettingsMessage(keys: string[]): string {
  return (
    `Codex: this workspace's settings try to set ${keys.map((k) => `\`${k}\``).join(", ")}; ignored. ` +
    "Only your User (or Remote) settings can set what Codex may run and touch."
  );
}

/**
 * What codex-lsp gets as `initializationOptions` and as the `codex` section of
 * `workspace/configuration`: the server's settings only (the extension's own, like
 * `serverPath`, would be warned about as unknown), user-only ones from User settings only,
 * empty values left out so the server's defaults apply, and `streamEvents: true` for the
 * transcript.
 */
export function serverSettings(read: SettingsReader): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of SERVER_SETTINGS) {
    const value = settingValue(read, key);
    if (value === undefined || value === null || value === "") continue;
    if (typeof value === "object" && !Array.isArray(value) && Object.keys(value as object).length === 0) continue;
    out[key] = value;
  }
  out.streamEvents = true;
  return out;
}

/** A reader over plain objects (tests): `user` as User settings, `workspace` as the folder's. */
export function readerOf(user: Record<string, unknown>, workspace: Record<string, unknown> = {}, defaults: Record<string, unknown> = {}): SettingsReader {
  return {
    get: (key) => (key in workspace ? workspace[key] : key in user ? user[key] : defaults[key]),
    inspect: (key) => ({ defaultValue: defaults[key], globalValue: user[key], workspaceValue: workspace[key] }),
  };
}

/** `name` resolved like a shell would: a path as is, a bare name through `PATH`. */
export function findExecutable(
  name: string,
  pathEnv: string | undefined,
  isExecutable: (path: string) => boolean,
  home?: string,
): string | undefined {
  if (!name) return undefined;
  if (name.startsWith("~/") && home) name = home + name.slice(1);
  if (name.includes("/")) return isExecutable(name) ? name : undefined;
  for (const dir of (pathEnv ?? "").split(":")) {
    if (!dir) continue;
    const candidate = `${dir.replace(/\/+$/, "")}/${name}`;
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The codex-lsp to run: `codex.serverPath` when the user set it (a path, or a name looked up
 * on `PATH`), else the server bundled in this platform's extension package (`bundled`, when it
 * exists), else `codex-lsp` on `PATH`. `looked` is what an error names.
 */
export function resolveServer(
  setting: string,
  bundled: string | undefined,
  pathEnv: string | undefined,
  isExecutable: (path: string) => boolean,
  home?: string,
): { command?: string; source: "setting" | "bundled" | "path"; looked: string } {
  if (setting) return { command: findExecutable(setting, pathEnv, isExecutable, home), source: "setting", looked: setting };
  if (bundled && isExecutable(bundled)) return { command: bundled, source: "bundled", looked: bundled };
  return { command: findExecutable("codex-lsp", pathEnv, isExecutable, home), source: "path", looked: "codex-lsp" };
}

export const INSTALL_COMMAND = "cargo install --path .";

/** The first codex-lsp setting an error names (as `` `codexPath` ``), as VS Code's key. */
export function settingNamedIn(message: string): string | undefined {
  let first: { at: number; key: string } | undefined;
  for (const key of SERVER_SETTINGS) {
    const at = message.indexOf(`\`${key}\``);
    if (at >= 0 && (!first || at < first.at)) first = { at, key };
  }
  return first && `codex.${first.key}`;
}

/** The error shown when codex-lsp cannot be found. */
export function missingServerMessage(serverPath: string): string {
  return (
    `Codex: the language server \`${serverPath}\` was not found. ` +
    "The extension package for your platform (codex-lsp-VERSION-PLATFORM.vsix) carries it; with this one, " +
    `install it from the codex-lsp repository with \`${INSTALL_COMMAND}\` ` +
    "(it goes to ~/.cargo/bin), or set `codex.serverPath` to its full path in your User (or Remote) settings. " +
    "A bare name is looked up on the PATH of VS Code's extension host, which is your login shell's PATH " +
    "(as ~/.profile sets it), not the PATH of the terminal that started VS Code or code-server."
  );
}

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

/** `codex.ask`'s argument: the prompt, and the document and selection as context. */
export function askArguments(prompt: string, uri?: string, selection?: Range): Record<string, unknown> {
  const args: Record<string, unknown> = { prompt };
  if (uri) {
    args.uri = uri;
    const empty =
      !selection ||
      (selection.start.line === selection.end.line && selection.start.character === selection.end.character);
    // Field by field: VS Code's positions keep line/character behind getters, which a spread
    // or JSON.stringify would not see.
    const at = (p: Position) => ({ line: p.line, character: p.character });
    if (!empty) args.range = { start: at(selection!.start), end: at(selection!.end) };
  }
  return args;
}

// --- Status bar ------------------------------------------------------------------------------

export type Status =
  | { kind: "starting" }
  | { kind: "missing"; serverPath: string }
  | { kind: "stopped"; reason?: string }
  | { kind: "connected"; account?: string; meters?: string }
  | { kind: "running"; message: string }
  | { kind: "approval" };

export interface StatusView {
  text: string;
  tooltip: string;
  /** The command a click runs. */
  command: string;
}

export function statusView(status: Status): StatusView {
  switch (status.kind) {
    case "starting":
      return { text: "$(loading~spin) Codex", tooltip: "Codex: starting codex-lsp", command: "codex.showTranscript" };
    case "missing":
      return {
        text: "$(error) Codex: codex-lsp not found",
        tooltip: missingServerMessage(status.serverPath),
        command: "codex.restartServer",
      };
    case "stopped":
      return {
        text: "$(error) Codex: stopped",
        tooltip: `Codex: codex-lsp stopped${status.reason ? `: ${status.reason}` : ""}. Click to restart.`,
        command: "codex.restartServer",
      };
    case "connected": {
      // codex/status: the model, the context's fill and the rate limits.
      const meters = status.meters ? ` · ${status.meters}` : "";
      return {
        text: (status.account ? `$(check) Codex (${status.account})` : "$(check) Codex") + meters,
        tooltip: `Codex: connected${status.account ? ` — ${status.account}` : ""}${meters}. Click for the transcript.`,
        command: "codex.showTranscript",
      };
    }
    case "running":
      return {
        text: `$(sync~spin) Codex: ${tailLine(status.message, STATUS_CHARS)}`,
        tooltip: `Codex: ${status.message}. Click to interrupt.`,
        command: "codex.interruptTurn",
      };
    case "approval":
      return {
        text: "$(bell) Codex: waiting for approval",
        tooltip: "Codex is waiting for your approval",
        command: "codex.showTranscript",
      };
  }
}

/** The account as the status bar shows it, from `codex.account`'s answer. */
export function accountLabel(result: unknown): string | undefined {
  if (!result || typeof result !== "object") return undefined;
  const r = result as { account?: { type?: string; email?: string } | null; requiresOpenaiAuth?: boolean };
  const account = r.account;
  if (account && typeof account === "object") {
    switch (account.type) {
      case "apiKey":
        return "API key";
      case "chatgpt":
        return account.email ? `ChatGPT: ${account.email}` : "ChatGPT";
      case "amazonBedrock":
        return "Amazon Bedrock";
      default:
        return account.type ? String(account.type) : undefined;
    }
  }
  return r.requiresOpenaiAuth ? "not logged in" : undefined;
}

/** How much of a progress message the status bar shows. */
export const STATUS_CHARS = 60;

/**
 * The latest text of `text` on one line: its last non-blank line, cut at the front to `max`
 * characters (a streaming reply's newest words are at its end). A leading "…" that codex-lsp
 * put on a reply tail it had already cut is not counted twice.
 */
export function tailLine(text: string, max: number): string {
  const lines = text.split("\n").map((l) => l.replace(/\s+/g, " ").trim());
  let line = "";
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]) {
      line = lines[i];
      break;
    }
  }
  const chars = [...line];
  if (chars.length <= max) return line;
  return "…" + chars.slice(chars.length - (max - 1)).join("").replace(/^…/, "");
}

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

// --- Approvals -------------------------------------------------------------------------------

export interface Choice {
  title: string;
  decision: unknown;
}

export const DECLINE = "decline";

/**
 * The decision for the button the user picked. Anything else (a dismissed prompt, a title that
 * is not offered) declines: the contract takes an answer that is not offered as a decline,
 * so this is right even when "Decline" itself is not among the choices.
 */
export function decisionFor(choices: Choice[] | undefined, picked: string | undefined): unknown {
  if (picked === undefined) return DECLINE;
  const found = (choices ?? []).find((c) => c.title === picked);
  return found ? found.decision : DECLINE;
}

/**
 * The buttons of a command approval, "Decline" first: a modal's first button is its
 * default, the one Enter presses, and Enter must never run a command. Then the other
 * offered choices in order. "Decline" is there even when not offered (answering it declines).
 */
export function approvalButtons(choices: Choice[] | undefined): string[] {
  const declineTitle = (choices ?? []).find((c) => c.decision === DECLINE)?.title ?? "Decline";
  const rest = (choices ?? []).filter((c) => c.decision !== DECLINE).map((c) => c.title);
  return [declineTitle, ...rest];
}

/** The decision offered as "accept" (plain, else the first accepting one), if any. */
export function acceptDecision(choices: Choice[] | undefined): unknown {
  const all = choices ?? [];
  const plain = all.find((c) => c.decision === "accept");
  if (plain) return plain.decision;
  const accepting = all.find((c) => /^accept/i.test(c.title));
  return accepting ? accepting.decision : undefined;
}

export interface FileChange {
  path: string;
  kind: string;
  added?: number;
  removed?: number;
  diff: string;
}

/**
 * Applies the hunks of a unified diff to `text`. `undefined` when a hunk's context or removed
 * lines are not where it says (the caller then shows the hunks alone).
 */
export function applyUnifiedDiff(text: string, diff: string): string | undefined {
  const hadFinalNewline = text.endsWith("\n");
  const lines = text.split("\n");
  if (hadFinalNewline) lines.pop();
  const out: string[] = [];
  let cursor = 0; // next line of `lines` not yet copied
  let sawHunk = false;
  let newNoNewline = false;
  const diffLines = diff.split("\n");
  if (diffLines.length && diffLines[diffLines.length - 1] === "") diffLines.pop();
  let i = 0;
  while (i < diffLines.length) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(diffLines[i]);
    if (!header) {
      i++;
      continue;
    }
    sawHunk = true;
    const oldStart = Number(header[1]);
    const oldCount = header[2] === undefined ? 1 : Number(header[2]);
    // A hunk that removes nothing starts after line `oldStart`; others at it.
    const at = oldCount === 0 ? oldStart : oldStart - 1;
    if (at < cursor || at > lines.length) return undefined;
    out.push(...lines.slice(cursor, at));
    cursor = at;
    i++;
    let last: "old" | "new" | "both" = "both";
    while (i < diffLines.length && !diffLines[i].startsWith("@@")) {
      const line = diffLines[i];
      const body = line.slice(1);
      if (line.startsWith("\\")) {
        if (last !== "old") newNoNewline = true;
      } else if (line.startsWith("-")) {
        if (lines[cursor] !== body) return undefined;
        cursor++;
        last = "old";
      } else if (line.startsWith("+")) {
        out.push(body);
        last = "new";
      } else if (line.startsWith(" ") || line === "") {
        if (lines[cursor] !== body) return undefined;
        out.push(body);
        cursor++;
        last = "both";
      } else {
        return undefined;
      }
      i++;
    }
  }
  if (!sawHunk) return undefined;
  // Without "\ No newline at end of file", a hunk reaching the end says the file ends with one.
  const touchedEnd = cursor === lines.length;
  out.push(...lines.slice(cursor));
  if (out.length === 0) return "";
  const finalNewline = newNoNewline ? false : touchedEnd ? true : hadFinalNewline;
  return out.join("\n") + (finalNewline ? "\n" : "");
}

/** Both sides of a hunks-only diff, when the file itself is not at hand. */
export function sidesOfHunks(diff: string): { before: string; after: string } {
  const before: string[] = [];
  const after: string[] = [];
  let inHunk = false;
  for (const line of diff.split("\n")) {
    if (line.startsWith("@@")) {
      if (inHunk) {
        before.push("…");
        after.push("…");
      }
      inHunk = true;
      continue;
    }
    if (!inHunk || line.startsWith("\\")) continue;
    if (line.startsWith("-")) before.push(line.slice(1));
    else if (line.startsWith("+")) after.push(line.slice(1));
    else {
      before.push(line.slice(1));
      after.push(line.slice(1));
    }
  }
  while (before.length && before[before.length - 1] === "" && after.length && after[after.length - 1] === "") {
    before.pop();
    after.pop();
  }
  return { before: before.join("\n") + "\n", after: after.join("\n") + "\n" };
}

/**
 * The two sides of the diff view for one proposed file change: `current` is the file's text
 * now (undefined when it cannot be read). Adds carry the whole new content, deletes the
 * whole old one, updates hunks.
 */
export function changeSides(change: FileChange, current: string | undefined): { before: string; after: string; exact: boolean } {
  switch (change.kind) {
    case "add":
      return { before: "", after: change.diff, exact: true };
    case "delete":
      return { before: current ?? change.diff, after: "", exact: true };
    default: {
      if (current !== undefined) {
        const after = applyUnifiedDiff(current, change.diff);
        if (after !== undefined) return { before: current, after, exact: true };
      }
      return { ...sidesOfHunks(change.diff), exact: false };
    }
  }
}

// --- Transcript ------------------------------------------------------------------------------

export interface TurnCompleted {
  threadId?: string;
  turnId?: string;
  status?: string;
  finalResponse?: string | null;
  durationMs?: number | null;
  error?: { message?: string } | null;
}

/** `codex/transcript`: a running turn's text loses its lines from `replaceFromLine` on (when set), then gets `markdown`. */
export interface TranscriptUpdate {
  threadId?: string;
  turnId?: string;
  markdown?: string;
  replaceFromLine?: number | null;
}

/** `codex.transcript`'s answer: the thread's Markdown and the line each turn starts on. */
export interface TranscriptResult {
  threadId?: string;
  markdown?: string;
  turns?: Array<{ turnId?: string; line?: number }>;
}

/** What the view does after a change: append to what it shows, or show the whole text anew. */
export type TranscriptChange = { append: string } | { replace: string };

interface TranscriptPart {
  turn?: string;
  thread?: string;
  text: string;
}

/** `text` without its lines from `line` (0-based) on. */
function keepLines(text: string, line: number): string {
  let at = 0;
  for (let i = 0; i < line; i++) {
    const next = text.indexOf("\n", at);
    if (next < 0) return text;
    at = next + 1;
  }
  return text.slice(0, at);
}

/**
 * The transcript as codex-lsp renders it: a thread's history (`codex.transcript`), then each
 * running turn's `codex/transcript` updates, in the order the turns started. Nothing here
 * renders; it only puts codex-lsp's Markdown together for the view.
 */
export class TranscriptView {
  private parts: TranscriptPart[] = [];
  /** Turns that had an update and no `codex/turnCompleted` yet. */
  private running = new Set<string>();

  text(): string {
    return this.parts.map((p) => p.text).join("");
  }

  isEmpty(): boolean {
    return this.parts.length === 0;
  }

  update(u: TranscriptUpdate): TranscriptChange | undefined {
    if (typeof u.turnId !== "string" || typeof u.markdown !== "string") return undefined;
    let part = this.parts.find((p) => p.turn === u.turnId);
    let whole = false;
    if (!part) {
      part = { turn: u.turnId, thread: u.threadId, text: "" };
      this.parts.push(part);
    } else if (!this.running.has(u.turnId)) {
      // Shown from the history while it ran: its live text (from its first line) replaces that.
      part.text = "";
      whole = true;
    }
    this.running.add(u.turnId);
    if (typeof u.replaceFromLine === "number") {
      part.text = keepLines(part.text, u.replaceFromLine);
      whole = true;
    }
    part.text += u.markdown;
    if (whole || part !== this.parts[this.parts.length - 1]) return { replace: this.text() };
    return { append: u.markdown };
  }

  /** A turn ended: no more updates come for it. */
  ended(turnId: string | undefined): void {
    if (turnId) this.running.delete(turnId);
  }

  /** Shows a thread's history; a running turn keeps its live text (its updates count lines in it). */
  history(result: TranscriptResult): TranscriptChange {
    const markdown = typeof result.markdown === "string" ? result.markdown : "";
    const lines = markdown.split("\n");
    const turns = (Array.isArray(result.turns) ? result.turns : []).filter(
      (t) => typeof t.turnId === "string" && typeof t.line === "number",
    );
    const slice = (from: number, to: number) => lines.slice(from, to).join("\n") + (to < lines.length ? "\n" : "");
    const live = new Map(this.parts.filter((p) => p.turn && this.running.has(p.turn)).map((p) => [p.turn!, p]));
    const parts: TranscriptPart[] = [{ text: slice(0, turns.length ? turns[0].line! : lines.length) }];
    for (const [i, t] of turns.entries()) {
      const to = i + 1 < turns.length ? turns[i + 1].line! : lines.length;
      parts.push(live.get(t.turnId!) ?? { turn: t.turnId, thread: result.threadId, text: slice(t.line!, to) });
      live.delete(t.turnId!);
    }
    // This thread's running turns that started after the history was read.
    for (const p of live.values()) if (p.thread === result.threadId) parts.push(p);
    this.parts = parts;
    return { replace: this.text() };
  }

  /** Shows nothing (a new thread). */
  clear(): TranscriptChange {
    this.parts = [];
    return { replace: "" };
  }
}

/** What the user is told when a turn ends without completing (failed: why, and what to do). */
export function turnFailureMessage(done: TurnCompleted): string | undefined {
  if (done.status !== "failed") return undefined;
  const why = done.error?.message ? oneLine(done.error.message, 300) : "no reason given";
  return `Codex: the turn failed: ${why}. The transcript has what it did; ask again to retry ("Codex: Status" shows the app-server).`;
}

// --- Threads, login, errors ------------------------------------------------------------------

export interface ThreadPick {
  label: string;
  description: string;
  id: string;
}

/** Quick-pick entries from `codex.listThreads`' answer, newest first as given. */
export function threadPicks(result: any): ThreadPick[] {
  const threads: any[] = (result && (result.data ?? result.threads)) || [];
  return threads
    .filter((t) => t && typeof t.id === "string")
    .map((t) => {
      let text: string = t.name || t.preview || t.title || "";
      text = oneLine(typeof text === "string" ? text : "", 70) || "(no preview)";
      let when = t.updatedAt ?? t.createdAt;
      let description = "";
      if (typeof when === "number") {
        const ms = when > 1e12 ? when : when * 1000;
        description = new Date(ms).toISOString().slice(0, 16).replace("T", " ");
      } else if (typeof when === "string") description = when;
      return { label: text, description, id: t.id };
    });
}

export const LOGIN_METHODS = [
  { label: "API key", method: "apiKey", detail: "Use an OpenAI API key (sent once, never shown or logged)" },
  { label: "ChatGPT", method: "chatgpt", detail: "Sign in with ChatGPT in the browser (callback on this machine)" },
  { label: "Device code", method: "deviceCode", detail: "Sign in on another device with a code (for remote setups)" },
] as const;

export function loginArguments(method: string, apiKey?: string): Record<string, unknown> {
  return method === "apiKey" ? { method, apiKey } : { method };
}

/** Whether an executeCommand error says the server lacks the command. */
export function isUnknownCommand(error: unknown): boolean {
  const message = error && typeof error === "object" && "message" in error ? String((error as any).message) : String(error);
  return /unknown command/i.test(message);
}

// --- Codex: Status ---------------------------------------------------------------------------

/**
 * `codex.status`'s answer for the user: a one-line summary (the app-server, the settings
 * that decide what the agent may do, the turns running) and the whole answer as JSON.
 */
export function statusReport(result: any): { summary: string; text: string } {
  const r = result && typeof result === "object" ? result : {};
  const server = r.appServer ?? {};
  const s = r.settings ?? {};
  const parts: string[] = [];
  let where = `app-server ${server.state ?? "unknown"}`;
  if (server.endpoint) where += ` (${server.endpoint})`;
  if (server.version) where += `, codex ${server.version}`;
  parts.push(where);
  const policy: string[] = [];
  if (s.approvalPolicy) policy.push(`approvals ${s.approvalPolicy}`);
  if (s.sandbox) policy.push(`sandbox ${typeof s.sandbox === "object" ? (s.sandbox.type ?? JSON.stringify(s.sandbox)) : s.sandbox}`);
  policy.push(`model ${s.model || "default"}`);
  parts.push(policy.join(", "));
  const turns = Array.isArray(r.activeTurns) ? r.activeTurns.length : 0;
  parts.push(turns === 1 ? "1 turn running" : `${turns} turns running`);
  return { summary: `Codex: ${parts.join("; ")}.`, text: JSON.stringify(result ?? null, null, 2) + "\n" };
}

/**
 * The files "Review Changes" shows, from a `codex.listChanges` answer (newest turn first):
 * each file with pending hunks, against the earliest turn that still has some there (so its
 * diff holds every pending change); with none pending, the newest turn's files.
 */
export function reviewResources(result: any): { uri: string; turnId: string }[] {
  const earliest = new Map<string, string>();
  for (const turn of result?.turns ?? []) {
    for (const file of turn.files ?? []) {
      const pending = (file.hunks ?? []).some((h: any) => h.status === "pending");
      // Turns come newest first: a later (older) turn with pending hunks replaces the entry.
      if (typeof file.uri === "string" && pending) earliest.set(file.uri, turn.turnId);
    }
  }
  if (earliest.size === 0) {
    const newest = result?.turns?.[0];
    for (const file of newest?.files ?? []) {
      if (typeof file.uri === "string") earliest.set(file.uri, newest.turnId);
    }
  }
  return [...earliest].map(([uri, turnId]) => ({ uri, turnId }));
}
