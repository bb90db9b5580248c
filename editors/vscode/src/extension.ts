// Codex for VS Code: a thin client of codex-lsp (docs/lsp.md). The server does the work —
// threads, turns, merging the agent's edits into open buffers (`workspace/applyEdit`) — and
// this extension gives it VS Code's UI: commands, a status bar item, a transcript, and
// approvals as diff views and modals (`codex/approval`).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  StaticFeature,
  WorkDoneProgress,
  WorkDoneProgressCreateRequest,
} from "vscode-languageclient/node";
import {
  Choice,
  DECLINE,
  FileChange,
  LOGIN_METHODS,
  Status,
  TranscriptChange,
  TranscriptResult,
  TranscriptUpdate,
  TranscriptView,
  TurnCompleted,
  accountLabel,
  acceptDecision,
  approvalButtons,
  askArguments,
  changeSides,
  decisionFor,
  ignoredSettingsMessage,
  ignoredWorkspaceSettings,
  isUnknownCommand,
  loginArguments,
  missingServerMessage,
  resolveServer,
  reviewResources,
  INSTALL_COMMAND,
  oneLine,
  SettingsReader,
  serverSettings,
  settingNamedIn,
  settingValue,
  statusReport,
  statusView,
  threadPicks,
  turnFailureMessage,
} from "./logic";

const SCHEME = "codex-proposed";
const STATUS_SCHEME = "codex-status";
/** The text of a file before a turn (`codex.changeBase`), the left side of "Review Changes". */
const BASE_SCHEME = "codex-base";

/** One pending hunk of `codex/changes` (docs/lsp.md). */
interface ChangeHunk {
  id: string;
  turnId: string;
  turn: number;
  prompt: string;
  range: { start: { line: number }; end: { line: number } };
  added: number;
  removed: number;
  status: string;
}

/** The lines (0-based) a hunk's marks go on: its lines, or the one after lines only deleted. */
function hunkLines(hunk: ChangeHunk): [number, number] {
  const first = hunk.range.start.line;
  const end = hunk.range.end.line;
  return [first, end > first ? end - 1 : first];
}

/** A bar in the gutter (a data: URI, so the package needs no image file). */
const CHANGE_GUTTER = vscode.Uri.parse(
  "data:image/svg+xml;utf8," +
    encodeURIComponent(
      '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect x="5" y="0" width="4" height="16" fill="#d7a13b"/></svg>',
    ),
);

/** `codex.*` as VS Code resolves it, and where each value came from. */
function codexSettings(): SettingsReader {
  const config = vscode.workspace.getConfiguration("codex");
  return { get: (key) => config.get(key), inspect: (key) => config.inspect(key) };
}

interface ApprovalParams {
  kind: "command" | "fileChange" | string;
  /** codex-lsp's id of this prompt: `codex/approvalEnded` names it. */
  approvalId?: string;
  threadId?: string;
  turnId?: string;
  itemId?: string;
  message?: string;
  command?: string;
  cwd?: string;
  reason?: string;
  files?: FileChange[];
  choices?: Choice[];
}

/** A file-change approval waiting on the user: its diff views and how to answer it. */
interface PendingChange {
  id: string;
  params: ApprovalParams;
  uris: vscode.Uri[];
  resolve: (decision: unknown) => void;
  done: boolean;
}

class Codex {
  client: LanguageClient | undefined;
  readonly output = vscode.window.createOutputChannel("Codex Transcript");
  readonly log = vscode.window.createOutputChannel("Codex Language Server");
  readonly statusItem = vscode.window.createStatusBarItem("codex.status", vscode.StatusBarAlignment.Left, 100);
  readonly transcript = new TranscriptView();
  private status: Status = { kind: "starting" };
  private account: string | undefined;
  /** The last `codex/status` text: model, effort, context, rate limits. */
  private meters: string | undefined;
  /** Progress token (opaque) → its latest message. */
  private progress = new Map<string, string>();
  /** Turns started and not completed (turnId → what to show until a progress says more). */
  private running = new Map<string, string>();
  private approvals = 0;
  private proposed = new Map<string, string>();
  private pending = new Map<string, PendingChange>();
  private nextApproval = 1;
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly test = new TestState();
  /** uri → the pending hunks of its last `codex/changes`. */
  private changeHunks = new Map<string, ChangeHunk[]>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly changeDecoration = vscode.window.createTextEditorDecorationType({
    gutterIconPath: CHANGE_GUTTER,
    gutterIconSize: "contain",
    overviewRulerColor: new vscode.ThemeColor("editorOverviewRuler.modifiedForeground"),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
    isWholeLine: true,
  });

  constructor(readonly context: vscode.ExtensionContext) {
    this.statusItem.name = "Codex";
    this.render();
    this.statusItem.show();
    this.test.set("instance", `${process.pid}-${Date.now()}`);
    this.test.set("trusted", vscode.workspace.isTrusted);
    this.test.set("hostPath", process.env.PATH ?? "");
  }

  // --- lifecycle ----------------------------------------------------------------------------

  async start(): Promise<void> {
    this.warnIgnoredSettings();
    const setting = String(settingValue(codexSettings(), "serverPath") || "");
    const server = resolveServer(setting, bundledServer(this.context), process.env.PATH, isExecutable, os.homedir());
    const command = server.command;
    const serverPath = server.looked;
    this.test.set("server", { command: command ?? null, source: server.source });
    if (!command) {
      this.setStatus({ kind: "missing", serverPath });
      this.test.set("error", missingServerMessage(serverPath));
      // Not awaited: activation must not wait on the user.
      void vscode.window
        .showErrorMessage(missingServerMessage(serverPath), "Open Settings", "Copy Install Command")
        .then((pick) => {
          if (pick === "Open Settings") void openSetting("codex.serverPath");
          else if (pick === "Copy Install Command") void vscode.env.clipboard.writeText(INSTALL_COMMAND);
        });
      return;
    }
    this.setStatus({ kind: "starting" });
    const serverOptions: ServerOptions = { command, args: ["--stdio"] };
    const settings = () => serverSettings(codexSettings());
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      outputChannel: this.log,
      initializationOptions: settings(),
      middleware: {
        workspace: {
          // Only the server's own settings, so `serverPath` & co. are not warned about.
          configuration: async (params, token, next) => {
            const rest = await next(params, token);
            if (!Array.isArray(rest)) return rest;
            return params.items.map((item, i) => (item.section === "codex" ? settings() : rest[i]));
          },
        },
      },
    };
    const client = new LanguageClient("codex", "Codex", serverOptions, clientOptions);
    client.registerFeature(new CodexCapabilities());
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped) {
        this.running.clear();
        this.progress.clear();
        this.dropQueued();
        this.setStatus({ kind: "stopped" });
      }
    });
    this.client = client;
    try {
      await client.start();
    } catch (e) {
      this.setStatus({ kind: "stopped", reason: errorText(e) });
      this.test.set("error", errorText(e));
      return;
    }
    // Progress: codex-lsp creates one work-done progress per turn; follow it here so the
    // status bar says what the agent does now.
    client.onRequest(WorkDoneProgressCreateRequest.type, (params) => {
      const token = params.token;
      const key = String(token);
      const sub = client.onProgress(WorkDoneProgress.type, token, (value) => {
        if (value.kind === "end") {
          this.progress.delete(key);
          sub.dispose();
          this.status = { kind: "connected", account: this.account };
          if (value.message) this.test.push("progressEnd", value.message);
        } else {
          this.progress.set(key, value.message || ("title" in value ? value.title : "") || "working");
        }
        this.refresh();
      });
      return null;
    });
    client.onNotification("codex/status", (params: { text?: string }) => {
      this.meters = typeof params?.text === "string" && params.text ? params.text : undefined;
      this.test.set("meters", params);
      this.refresh();
    });
    client.onNotification("codex/event", (params) => {
      this.test.bump("events");
    });
    // The transcript is codex-lsp's: its updates are only shown.
    client.onNotification("codex/transcript", (params: TranscriptUpdate) => {
      if (typeof params?.turnId === "string" && !this.finished.has(params.turnId) && !this.running.has(params.turnId)) {
        this.running.set(params.turnId, "thinking");
        this.refresh();
      }
      this.show(this.transcript.update(params));
    });
    client.onNotification("codex/turnCompleted", (params: TurnCompleted) => {
      if (params.turnId) {
        this.running.delete(params.turnId);
        this.finished.add(params.turnId);
      }
      this.transcript.ended(params.turnId);
      this.test.push("turns", params);
      this.refresh();
      // A failed turn says why where the user looks, not only in the transcript.
      const failure = turnFailureMessage(params);
      if (failure) {
        this.test.push("messages", failure);
        void vscode.window.showErrorMessage(failure, "Show Transcript").then((pick) => {
          if (pick) this.output.show(true);
        });
      }
      this.sendQueued();
    });
    client.onNotification("codex/changes", (params: { uri?: string; hunks?: ChangeHunk[] }) => this.onChanges(params));
    client.onRequest("codex/approval", (params: ApprovalParams, token) => this.approve(params, token));
    client.onNotification("codex/approvalEnded", (params: { approvalId?: string; reason?: string }) =>
      this.approvalEnded(params),
    );
    this.setStatus({ kind: "connected" });
    void this.refreshAccount();
    // After a restart: the thread the next ask continues, with what was said in it. Not
    // awaited (activation does not wait for the app-server); a turn the user starts meanwhile
    // keeps its place after it.
    void this.showHistory().finally(() => this.test.set("ready", true));
  }

  private warned = new Set<string>();

  /** Says once per setting that this workspace's value of a user-only setting is ignored. */
  warnIgnoredSettings(): void {
    const fresh = ignoredWorkspaceSettings(codexSettings()).filter((k) => !this.warned.has(k));
    if (!fresh.length) return;
    for (const k of fresh) this.warned.add(k);
    this.test.set("ignoredSettings", [...this.warned]);
    void vscode.window.showWarningMessage(ignoredSettingsMessage(fresh));
  }

  /**
   * Shows a thread's transcript as codex-lsp renders it (`codex.transcript`): `threadId`'s,
   * else the workspace's (the one codex-lsp continues: after a restart, its last). Says
   * nothing when there is none: a first start has no history.
   */
  async showHistory(threadId?: string): Promise<void> {
    const uri = this.workspaceUri();
    let result: TranscriptResult;
    try {
      result = await this.exec("codex.transcript", threadId ? { threadId } : uri ? { uri } : {});
    } catch {
      return;
    }
    if (!result || typeof result.markdown !== "string") return;
    this.test.set("historyThread", result.threadId ?? null);
    this.show(this.transcript.history(result));
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch {
        // already gone
      }
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  // --- requests -----------------------------------------------------------------------------

  /** `workspace/executeCommand` with one argument object. */
  async exec(command: string, args: Record<string, unknown> = {}): Promise<any> {
    if (!this.client || !this.client.isRunning()) {
      throw new Error("codex-lsp is not running (see the status bar)");
    }
    return this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] });
  }

  async refreshAccount(): Promise<void> {
    try {
      this.account = accountLabel(await this.exec("codex.account"));
      this.test.set("account", this.account ?? null);
    } catch {
      this.account = undefined;
    }
    if (this.status.kind === "connected") this.status = { kind: "connected", account: this.account };
    this.refresh();
  }

  // --- status bar -----------------------------------------------------------------------------

  setStatus(status: Status): void {
    this.status = status;
    this.refresh();
  }

  private refresh(): void {
    if (this.status.kind === "connected" || this.status.kind === "running" || this.status.kind === "approval") {
      if (this.approvals > 0) this.status = { kind: "approval" };
      else if (this.busy()) {
        const message = [...this.progress.values()].pop() ?? [...this.running.values()].pop() ?? "working";
        this.status = { kind: "running", message };
      } else this.status = { kind: "connected", account: this.account, meters: this.meters };
    }
    void vscode.commands.executeCommand("setContext", "codex.turnRunning", this.busy());
    void vscode.commands.executeCommand("setContext", "codex.approvalPending", this.pending.size > 0);
    this.render();
  }

  /** Whether a turn runs: a progress is open, or a started turn has not completed. */
  private busy(): boolean {
    return this.progress.size > 0 || this.running.size > 0;
  }

  private render(): void {
    const view = statusView(this.status);
    this.statusItem.text = view.text;
    this.statusItem.tooltip = view.tooltip;
    this.statusItem.command = view.command;
    this.test.status(view.text);
  }

  // --- transcript -----------------------------------------------------------------------------

  /** Shows a change of the transcript in its output channel. */
  show(change: TranscriptChange | undefined): void {
    if (!change) return;
    if ("append" in change) this.output.append(change.append);
    else this.output.replace(change.replace);
    this.test.setTranscript(this.transcript.text());
  }

  // --- approvals --------------------------------------------------------------------------

  /**
   * Answers `codex/approval`: `{decision}`, a decline for anything dismissed. Any failure in
   * showing it is told to the user and declines.
   */
  async approve(params: ApprovalParams, token: vscode.CancellationToken): Promise<{ decision: unknown }> {
    this.approvals++;
    this.refresh();
    this.test.push("approvals", params);
    try {
      let decision: unknown;
      try {
        decision =
          params.kind === "fileChange" && params.files && params.files.length > 0
            ? await this.approveFileChange(params, token)
            : await this.approveCommand(params);
      } catch (e) {
        decision = DECLINE;
        void vscode.window.showErrorMessage(
          `Codex: the approval prompt failed, so it was declined: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
      this.test.push("decisions", decision);
      return { decision };
    } finally {
      this.approvals--;
      this.refresh();
    }
  }

  /**
   * `codex/approvalEnded`: the prompt no longer waits (timed out, answered in another
   * session, the app-server stopped). A file change's diff views and notification go away;
   * a modal cannot be closed from here, and whatever it is answered is ignored.
   */
  private approvalEnded(params: { approvalId?: string; reason?: string }): void {
    this.test.push("approvalsEnded", params);
    for (const pending of this.pending.values()) {
      if (pending.params.approvalId !== undefined && pending.params.approvalId === params.approvalId) {
        pending.resolve(DECLINE);
      }
    }
  }

  private async approveCommand(params: ApprovalParams): Promise<unknown> {
    const choices = params.choices ?? [];
    const message = params.message || `Codex wants to run: ${params.command ?? "a command"}`;
    const [first, ...rest] = message.split("\n");
    const picked = await vscode.window.showWarningMessage(
      first,
      { modal: true, detail: rest.join("\n") },
      ...approvalButtons(choices),
    );
    return decisionFor(choices, picked);
  }

  private async approveFileChange(params: ApprovalParams, token: vscode.CancellationToken): Promise<unknown> {
    const id = String(this.nextApproval++);
    const files = params.files ?? [];
    const uris: vscode.Uri[] = [];
    const opened: Array<[vscode.Uri, vscode.Uri, string]> = [];
    for (const [i, file] of files.entries()) {
      let current: string | undefined;
      try {
        current = fs.readFileSync(file.path, "utf8");
      } catch {
        current = undefined;
      }
      const sides = changeSides(file, current);
      const name = file.path.split("/").pop() || file.path;
      const before = vscode.Uri.from({ scheme: SCHEME, path: `/${id}/${i}/before/${name}` });
      const after = vscode.Uri.from({ scheme: SCHEME, path: `/${id}/${i}/after/${name}` });
      this.proposed.set(before.toString(), sides.before);
      this.proposed.set(after.toString(), sides.after);
      uris.push(before, after);
      const label = `Codex wants to ${file.kind === "add" ? "add" : file.kind === "delete" ? "delete" : "edit"} ${name}${sides.exact ? "" : " (hunks only)"}`;
      opened.push([before, after, label]);
    }
    const decided = new Promise<unknown>((resolve) => {
      const pending: PendingChange = {
        id,
        params,
        uris,
        done: false,
        resolve: (decision) => {
          if (pending.done) return;
          pending.done = true;
          this.pending.delete(id);
          resolve(decision);
        },
      };
      this.pending.set(id, pending);
    });
    const pending = this.pending.get(id)!;
    for (const [before, after, label] of opened) {
      await vscode.commands.executeCommand("vscode.diff", before, after, label, { preview: false });
    }
    this.test.set("diffOpened", opened.map(([, , label]) => label));
    this.refresh();
    // Closing every diff view of the change declines it, as does a dismissed notification.
    const tabs = vscode.window.tabGroups.onDidChangeTabs(() => {
      if (!this.openTabsOf(pending).length) pending.resolve("decline");
    });
    const cancelled = token.onCancellationRequested(() => pending.resolve("decline"));
    // A notification that lasts exactly as long as the approval waits: answered from the diff
    // view, ended by codex-lsp (timeout, another session) or here, it goes away. Its Cancel
    // declines. (A message with buttons cannot be taken down once answered elsewhere.)
    const names = files.map((f) => f.path.split("/").pop() || f.path).join(", ");
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Codex wants to change ${oneLine(names, 120)}`,
        cancellable: true,
      },
      (progress, cancel) => {
        progress.report({ message: "review the diff, then ✓ Accept or ✕ Decline in its title bar; Cancel declines." });
        cancel.onCancellationRequested(() => pending.resolve(DECLINE));
        return decided;
      },
    );
    try {
      return await decided;
    } finally {
      tabs.dispose();
      cancelled.dispose();
      const open = this.openTabsOf(pending);
      if (open.length) await vscode.window.tabGroups.close(open);
      for (const uri of uris) this.proposed.delete(uri.toString());
    }
  }

  private openTabsOf(pending: PendingChange): vscode.Tab[] {
    const mine = new Set(pending.uris.map((u) => u.toString()));
    const out: vscode.Tab[] = [];
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        const input = tab.input;
        if (input instanceof vscode.TabInputTextDiff && mine.has(input.modified.toString())) out.push(tab);
      }
    }
    return out;
  }

  /** The pending change the active diff view shows, else the newest. */
  private currentPending(uri?: vscode.Uri): PendingChange | undefined {
    const key = uri?.toString() ?? vscode.window.activeTextEditor?.document.uri.toString();
    for (const p of this.pending.values()) if (key && p.uris.some((u) => u.toString() === key)) return p;
    return [...this.pending.values()].pop();
  }

  answerChange(accept: boolean, uri?: vscode.Uri): void {
    const pending = this.currentPending(uri);
    if (!pending) {
      void vscode.window.showInformationMessage("Codex: no change is waiting for approval.");
      return;
    }
    if (!accept) return pending.resolve("decline");
    const decision = acceptDecision(pending.params.choices);
    pending.resolve(decision === undefined ? "decline" : decision);
  }

  readonly provider: vscode.TextDocumentContentProvider = {
    onDidChange: this.changed.event,
    provideTextDocumentContent: (uri) => this.proposed.get(uri.toString()) ?? "",
  };

  // --- the agent's changes (codex/changes) ----------------------------------------------------

  /** `codex/changes`: the file's hunks now; the pending ones are decorated and get lenses. */
  private onChanges(params: { uri?: string; hunks?: ChangeHunk[] }): void {
    if (typeof params?.uri !== "string") return;
    const pending = (params.hunks ?? []).filter((h) => h.status === "pending" && h.range);
    if (pending.length) this.changeHunks.set(params.uri, pending);
    else this.changeHunks.delete(params.uri);
    this.drawChanges();
    this.lensesChanged.fire();
  }

  private hunksOf(document: vscode.TextDocument): ChangeHunk[] {
    return this.changeHunks.get(document.uri.toString()) ?? [];
  }

  /** Decorates every visible editor with its file's pending hunks (gutter, overview ruler). */
  drawChanges(): void {
    const drawn: Record<string, number[]> = {};
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.scheme !== "file") continue;
      const ranges: vscode.Range[] = [];
      for (const hunk of this.hunksOf(editor.document)) {
        const [first, last] = hunkLines(hunk);
        for (let line = first; line <= last && line < editor.document.lineCount; line++) {
          ranges.push(new vscode.Range(line, 0, line, 0));
        }
      }
      editor.setDecorations(this.changeDecoration, ranges);
      drawn[editor.document.uri.fsPath] = ranges.map((r) => r.start.line);
    }
    this.test.set("changeDecorations", drawn);
  }

  /** "Keep" and "Revert" above each pending hunk. */
  readonly changeLenses: vscode.CodeLensProvider = {
    onDidChangeCodeLenses: this.lensesChanged.event,
    provideCodeLenses: (document) =>
      this.hunksOf(document).flatMap((hunk) => {
        const at = new vscode.Range(hunkLines(hunk)[0], 0, hunkLines(hunk)[0], 0);
        const what = `turn ${hunk.turn}: +${hunk.added} −${hunk.removed}`;
        return [
          new vscode.CodeLens(at, { title: "Keep", tooltip: `Keep Codex's change (${what})`, command: "codex.keepChangeCmd", arguments: [hunk.id] }),
          new vscode.CodeLens(at, { title: "Revert", tooltip: `Revert Codex's change (${what})`, command: "codex.revertChangeCmd", arguments: [hunk.id] }),
        ];
      }),
  };

  /** Keeps or reverts hunk `id` (from a lens), else the pending hunk at the cursor. */
  async onHunk(command: "codex.keepChange" | "codex.revertChange", id?: string): Promise<void> {
    if (typeof id !== "string") {
      const editor = vscode.window.activeTextEditor;
      const line = editor?.selection.active.line ?? -1;
      id = editor && this.hunksOf(editor.document).find((h) => {
        const [first, last] = hunkLines(h);
        return line >= first && line <= last;
      })?.id;
      if (!id) {
        void vscode.window.showInformationMessage("Codex: no pending change at the cursor.");
        return;
      }
    }
    const verb = command === "codex.keepChange" ? "keep" : "revert";
    try {
      const result = await this.exec(command, { id });
      this.test.push("changeCommands", { command, id });
      if (result?.conflicts?.length) {
        void vscode.window.showWarningMessage("Codex: left as it is: your edits overlap the change.");
      }
    } catch (e) {
      this.fail(`${verb} the change`, e);
    }
  }

  /** The left side of "Review Changes": `codex.changeBase` of the file and turn its URI names. */
  readonly baseProvider: vscode.TextDocumentContentProvider = {
    provideTextDocumentContent: async (uri) => {
      const { uri: file, turnId } = JSON.parse(uri.query) as { uri: string; turnId: string };
      const base = await this.exec("codex.changeBase", { uri: file, turnId });
      const text = typeof base?.before === "string" ? base.before : "";
      this.test.push("bases", { path: uri.path, turnId, text });
      return text;
    },
  };

  // --- commands -----------------------------------------------------------------------------

  async ask(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : "";
    const prompt = await vscode.window.showInputBox({
      title: "Ask Codex",
      prompt: selected
        ? `About the selection (${editor!.selection.end.line - editor!.selection.start.line + 1} lines of ${vscode.workspace.asRelativePath(editor!.document.uri)})`
        : editor
          ? `About ${vscode.workspace.asRelativePath(editor.document.uri)}`
          : "Ask Codex",
      placeHolder: "What should Codex do?",
      ignoreFocusOut: true,
    });
    if (!prompt) return;
    const doc = editor?.document;
    const uri = doc && (doc.uri.scheme === "file" || doc.uri.scheme === "untitled") ? doc.uri.toString() : undefined;
    const args = askArguments(prompt, uri, editor ? editor.selection : undefined);
    this.asks++;
    this.test.push("asks", args);
    this.output.show(true);
    if (this.busy() || this.sending > 0 || this.queued.length > 0) {
      // A second ask waits for the running turn (Steer is how to add to it).
      this.queued.push({ prompt, args });
      const text = `Codex: a turn is running; "${oneLine(prompt, 60)}" is asked when it ends (Codex: Steer adds to the running turn instead).`;
      this.test.push("messages", text);
      void vscode.window.showInformationMessage(text);
      this.refresh();
      return;
    }
    await this.send(args);
  }

  /** How many asks the user made (since activation). */
  private asks = 0;
  /** Asks waiting for the running turn, oldest first. */
  private queued: Array<{ prompt: string; args: Record<string, unknown> }> = [];
  /** `codex.ask` requests not answered yet. */
  private sending = 0;
  /** Turns whose `codex/turnCompleted` came (possibly before `codex.ask` answered). */
  private finished = new Set<string>();

  private async send(args: Record<string, unknown>): Promise<void> {
    this.sending++;
    try {
      const started = await this.exec("codex.ask", args);
      const turnId = started?.turnId;
      if (typeof turnId === "string" && !this.finished.has(turnId)) {
        if (!this.running.has(turnId)) this.running.set(turnId, "thinking");
      }
    } catch (e) {
      this.fail("ask", e);
    } finally {
      this.sending--;
      this.refresh();
    }
    this.sendQueued();
  }

  /** Sends the oldest waiting ask once no turn runs. */
  private sendQueued(): void {
    if (this.busy() || this.sending > 0) return;
    const next = this.queued.shift();
    if (next) void this.send(next.args);
  }

  /** codex-lsp stopped: the waiting asks cannot be sent; say which. */
  private dropQueued(): void {
    if (!this.queued.length) return;
    const prompts = this.queued.map((q) => `"${oneLine(q.prompt, 60)}"`).join(", ");
    this.queued = [];
    void vscode.window.showWarningMessage(`Codex: codex-lsp stopped; not asked: ${prompts}. Ask again once it runs.`);
  }

  /** "Codex: Status": `codex.status`, summed up in a message and shown whole as JSON. */
  async showStatus(): Promise<void> {
    let result;
    try {
      result = await this.exec("codex.status", {});
    } catch (e) {
      return this.fail("status", e);
    }
    const report = statusReport(result);
    this.test.set("statusResult", result);
    this.statusText = report.text;
    this.statusChanged.fire(STATUS_URI);
    const doc = await vscode.workspace.openTextDocument(STATUS_URI);
    await vscode.languages.setTextDocumentLanguage(doc, "json");
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: true });
    this.test.set("statusDocument", doc.getText());
    this.test.push("messages", report.summary);
    void vscode.window.showInformationMessage(report.summary);
  }

  statusText = "{}\n";
  readonly statusChanged = new vscode.EventEmitter<vscode.Uri>();
  readonly statusProvider: vscode.TextDocumentContentProvider = {
    onDidChange: this.statusChanged.event,
    provideTextDocumentContent: () => this.statusText,
  };

  async steer(): Promise<void> {
    const prompt = await vscode.window.showInputBox({ title: "Steer Codex", prompt: "Add to the running turn", ignoreFocusOut: true });
    if (!prompt) return;
    try {
      await this.exec("codex.steer", { prompt });
    } catch (e) {
      this.fail("steer", e);
    }
  }

  async interrupt(): Promise<void> {
    try {
      const result = await this.exec("codex.interrupt", {});
      const n = Array.isArray(result?.interrupted) ? result.interrupted.length : 0;
      if (n === 0) void vscode.window.showInformationMessage("Codex: no turn is running.");
    } catch (e) {
      this.fail("interrupt", e);
    }
  }

  async newThread(): Promise<void> {
    try {
      const result = await this.exec("codex.newThread", { uri: this.workspaceUri() });
      this.show(this.transcript.clear());
      this.test.set("newThread", result?.threadId ?? null);
      void vscode.window.showInformationMessage(`Codex: new thread ${result?.threadId ?? ""}`);
    } catch (e) {
      this.fail("new thread", e);
    }
  }

  async resumeThread(): Promise<void> {
    let picks;
    try {
      picks = threadPicks(await this.exec("codex.listThreads", { uri: this.workspaceUri() }));
    } catch (e) {
      return this.fail("list threads", e);
    }
    if (!picks.length) {
      void vscode.window.showInformationMessage("Codex: no threads for this workspace yet.");
      return;
    }
    const pick = await vscode.window.showQuickPick(picks, { title: "Resume Codex thread", matchOnDescription: true });
    if (!pick) return;
    try {
      await this.exec("codex.resumeThread", { threadId: pick.id, uri: this.workspaceUri() });
      await this.showHistory(pick.id);
      this.test.set("resumedThread", pick.id);
    } catch (e) {
      this.fail("resume", e);
    }
  }

  /** Codex: Choose Model — the model, then its effort, from what the app-server offers. */
  async chooseModel(): Promise<void> {
    let models: any[];
    try {
      models = ((await this.exec("codex.listModels", {}))?.models ?? []).filter((m: any) => !m.hidden);
    } catch (e) {
      return this.fail("list models", e);
    }
    const model = await vscode.window.showQuickPick(
      models.map((m) => ({ label: String(m.id), description: String(m.description ?? ""), model: m })),
      { title: "Codex model for the next turns" },
    );
    if (!model) return;
    const efforts: string[] = (model.model.supportedReasoningEfforts ?? []).map((e: any) => String(e.reasoningEffort));
    let effort: string | undefined;
    if (efforts.length) {
      effort = await vscode.window.showQuickPick(efforts, { title: `Reasoning effort for ${model.label}` });
      if (effort === undefined) return;
    }
    try {
      const result = await this.exec("codex.setModel", effort ? { model: model.label, effort } : { model: model.label });
      this.test.set("model", result);
    } catch (e) {
      this.fail("choose the model", e);
    }
  }

  async review(): Promise<void> {
    try {
      const result = await this.exec("codex.review", { uri: this.workspaceUri() });
      this.output.show(true);
      if (result && result.turnId && !this.finished.has(result.turnId)) {
        this.running.set(result.turnId, "reviewing");
        this.refresh();
      }
    } catch (e) {
      if (isUnknownCommand(e)) {
        void vscode.window.showWarningMessage(
          "Codex: this codex-lsp has no review command (codex.review) yet; update codex-lsp.",
        );
        this.test.push("messages", "no review command");
      } else this.fail("review", e);
    }
  }

  async clearReview(): Promise<void> {
    try {
      const result = await this.exec("codex.clearReview");
      const text = `Codex: cleared ${result?.cleared ?? 0} review finding(s).`;
      this.test.push("messages", text);
      void vscode.window.showInformationMessage(text);
    } catch (e) {
      this.fail("clear review", e);
    }
  }

  /** "Codex: Undo Last Turn": reverts every change of the newest turn with changes left. */
  async undoTurn(): Promise<void> {
    try {
      const result = await this.exec("codex.undoTurn", {});
      const conflicts = result?.conflicts?.length ?? 0;
      const text =
        `Codex: undid ${result?.reverted?.length ?? 0} file(s) of the turn` +
        (conflicts ? `, ${conflicts} left as they are (your edits overlap).` : ".");
      this.test.push("messages", text);
      if (conflicts) void vscode.window.showWarningMessage(text);
      else void vscode.window.showInformationMessage(text);
    } catch (e) {
      this.fail("undo turn", e);
    }
  }

  /**
   * "Codex: Review Changes": VS Code's multi-diff editor of every file with pending changes,
   * the text before the earliest of their turns (`codex.changeBase`) against the file now;
   * with nothing pending, the newest turn's files. Where VS Code has no multi-diff editor
   * (before 1.86), the list of changes instead.
   */
  async reviewChanges(): Promise<void> {
    let result;
    try {
      result = await this.exec("codex.listChanges", {});
    } catch (e) {
      this.fail("list changes", e);
      return;
    }
    const resources = reviewResources(result).map((r) => ({ uri: vscode.Uri.parse(r.uri), turnId: r.turnId }));
    this.test.set("reviewResources", resources.map((r) => ({ path: r.uri.fsPath, turnId: r.turnId })));
    if (resources.length === 0) {
      void vscode.window.showInformationMessage("Codex: no changes recorded.");
      return;
    }
    const tuples = resources.map((r) => [
      r.uri,
      vscode.Uri.from({ scheme: BASE_SCHEME, path: r.uri.path, query: JSON.stringify({ uri: r.uri.toString(), turnId: r.turnId }) }),
      r.uri,
    ]);
    try {
      await vscode.commands.executeCommand("vscode.changes", "Codex changes", tuples);
    } catch {
      await this.listChanges();
    }
  }

  /**
   * "Codex: List Changes": every change codex-lsp records, newest turn first, in a quick
   * pick; the pick opens the file at the hunk, where the lenses or code actions keep or
   * revert it.
   */
  async listChanges(): Promise<void> {
    let result;
    try {
      result = await this.exec("codex.listChanges", {});
    } catch (e) {
      this.fail("list changes", e);
      return;
    }
    const items = changePicks(result);
    this.test.set("changePicks", items.map((i) => `${i.label} ${i.description}`));
    if (items.length === 0) {
      void vscode.window.showInformationMessage("Codex: no changes recorded.");
      return;
    }
    const pick = await vscode.window.showQuickPick(items, { title: "Codex changes", matchOnDetail: true });
    if (!pick || !pick.uri) return;
    const editor = await vscode.window.showTextDocument(vscode.Uri.parse(pick.uri), { preview: false });
    const at = new vscode.Position(pick.line, 0);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  async login(): Promise<void> {
    const pick = await vscode.window.showQuickPick(
      LOGIN_METHODS.map((m) => ({ label: m.label, detail: m.detail, method: m.method })),
      { title: "Log in to Codex" },
    );
    if (!pick) return;
    let apiKey: string | undefined;
    if (pick.method === "apiKey") {
      apiKey = await vscode.window.showInputBox({ title: "OpenAI API key", password: true, ignoreFocusOut: true });
      if (!apiKey) return;
    }
    try {
      await this.exec("codex.login", loginArguments(pick.method, apiKey));
    } catch (e) {
      return this.fail("log in", e);
    }
    // The outcome comes as a message when the login completes; follow it in the status bar.
    for (const delay of [2000, 10000, 30000, 90000]) setTimeout(() => void this.refreshAccount(), delay);
  }

  /** "Codex: Install Runtime": codex-lsp downloads the runtime it is tested with into its
   *  cache; the download shows as progress and a message says where it went. */
  async installRuntime(): Promise<void> {
    try {
      await this.exec("codex.installRuntime", {});
    } catch (e) {
      this.fail("install the runtime", e);
    }
  }

  async logout(): Promise<void> {
    try {
      await this.exec("codex.logout", {});
      void vscode.window.showInformationMessage("Codex: logged out.");
    } catch (e) {
      this.fail("log out", e);
    }
    await this.refreshAccount();
  }

  private workspaceUri(): string | undefined {
    const doc = vscode.window.activeTextEditor?.document;
    if (doc && doc.uri.scheme === "file") return doc.uri.toString();
    return vscode.workspace.workspaceFolders?.[0]?.uri.toString();
  }

  private fail(what: string, e: unknown): void {
    const text = `Codex: ${what} failed: ${errorText(e)}`;
    this.test.push("messages", text);
    // An error that names a setting (the codex runtime not found: `codexPath`) offers to
    // open it where it takes effect.
    const setting = settingNamedIn(errorText(e));
    if (!setting) {
      void vscode.window.showErrorMessage(text);
      return;
    }
    void vscode.window.showErrorMessage(text, "Open Settings").then((pick) => {
      if (pick) void openSetting(setting);
    });
  }

  dispose(): void {
    this.changeDecoration.dispose();
    this.statusItem.dispose();
    this.output.dispose();
    this.log.dispose();
    this.test.dispose();
  }
}

/** Declares what codex-lsp offers editors that ask: rich approvals, the rendered transcript. */
class CodexCapabilities implements StaticFeature {
  fillClientCapabilities(capabilities: any): void {
    // codexTranscript: codex-lsp renders the transcript and sends each turn's updates;
    // codexStatus: the model, the context's fill and the rate limits for the status bar.
    // codexChanges: the agent's hunks, drawn as decorations with Keep/Revert lenses.
    capabilities.experimental = {
      ...(capabilities.experimental ?? {}),
      codexApprovals: true,
      codexTranscript: true,
      codexStatus: true,
      codexChanges: true,
    };
  }
  initialize(): void {}
  clear(): void {}
  getState() {
    return { kind: "static" as const };
  }
  dispose(): void {}
}

/**
 * With `CODEX_VSCODE_TEST_STATE` set (the end-to-end test), what the extension sees — status
 * texts, approvals, turns, the open documents' text and diagnostics — written to that file as JSON, so the
 * test reads documents through the extension API rather than the screen.
 */
class TestState {
  private readonly file = process.env.CODEX_VSCODE_TEST_STATE;
  private state: Record<string, any> = { statusHistory: [], transcript: "", events: 0 };
  private timer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;

  constructor() {
    if (this.file) this.interval = setInterval(() => this.write(), 500);
  }

  set(key: string, value: unknown): void {
    if (!this.file) return;
    this.state[key] = value;
    this.schedule();
  }
  push(key: string, value: unknown): void {
    if (!this.file) return;
    (this.state[key] ??= []).push(value);
    this.schedule();
  }
  bump(key: string): void {
    if (!this.file) return;
    this.state[key] = (this.state[key] ?? 0) + 1;
    this.schedule();
  }
  status(text: string): void {
    if (!this.file) return;
    const h: string[] = this.state.statusHistory;
    if (h[h.length - 1] !== text) h.push(text);
    this.state.status = text;
    this.schedule();
  }
  setTranscript(text: string): void {
    if (!this.file) return;
    this.state.transcript = text;
    this.schedule();
  }
  schedule(): void {
    if (!this.file || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, 30);
  }
  write(): void {
    if (!this.file) return;
    const documents: Record<string, unknown> = {};
    for (const doc of vscode.workspace.textDocuments) {
      if (doc.uri.scheme !== "file") continue;
      // The diagnostics VS Code holds for it (what the Problems view lists).
      const diagnostics = vscode.languages.getDiagnostics(doc.uri).map((d) => ({
        message: d.message,
        code: typeof d.code === "object" ? d.code.value : d.code,
        source: d.source,
        line: d.range.start.line,
      }));
      documents[doc.uri.fsPath] = { text: doc.getText(), dirty: doc.isDirty, version: doc.version, diagnostics };
    }
    const editor = vscode.window.activeTextEditor;
    const active = editor
      ? {
          path: editor.document.uri.fsPath,
          scheme: editor.document.uri.scheme,
          selection: editor.document.getText(editor.selection),
        }
      : null;
    // What the diff views of proposed changes show (both sides).
    const proposed = vscode.window.visibleTextEditors
      .filter((e) => e.document.uri.scheme === SCHEME)
      .map((e) => ({ path: e.document.uri.path, text: e.document.getText() }));
    const tmp = `${this.file}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify({ ...this.state, documents, active, proposed, at: Date.now() }));
      fs.renameSync(tmp, this.file);
    } catch {
      // the test reads the last complete write
    }
  }
  dispose(): void {
    if (this.interval) clearInterval(this.interval);
    this.write();
  }
}

const STATUS_URI = vscode.Uri.from({ scheme: STATUS_SCHEME, path: "/Codex Status.json" });

/**
 * Opens the Settings editor at `key`, on the tab where it can be set: in a remote window
 * (code-server, Remote-SSH, …) the extension runs on the remote machine and its machine
 * settings live on the Remote tab, so that one; else the User tab.
 */
async function openSetting(key: string): Promise<void> {
  if (vscode.env.remoteName) {
    try {
      await vscode.commands.executeCommand("workbench.action.openRemoteSettings", { query: key });
      return;
    } catch {
      // no remote settings in this window: the User tab then
    }
  }
  await vscode.commands.executeCommand("workbench.action.openSettings", key);
}

function isExecutable(path: string): boolean {
  try {
    fs.accessSync(path, fs.constants.X_OK);
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The codex-lsp inside a platform's extension package (`server/`, put there by
 * scripts/package-vsix.sh), or undefined in the universal package built from a checkout.
 */
function bundledServer(context: vscode.ExtensionContext): string | undefined {
  const file = path.join(context.extensionPath, "server", process.platform === "win32" ? "codex-lsp.exe" : "codex-lsp");
  if (!fs.existsSync(file)) return undefined;
  // An unpacker that drops the executable bit (some do) must not make it unusable.
  if (process.platform !== "win32" && !isExecutable(file)) {
    try {
      fs.chmodSync(file, 0o755);
    } catch {
      // Reported as "not found" with where it looked.
    }
  }
  return file;
}

/** The quick pick items of a `codex.listChanges` answer: one per hunk, newest turn first. */
function changePicks(result: any): (vscode.QuickPickItem & { uri?: string; line: number })[] {
  const items: (vscode.QuickPickItem & { uri?: string; line: number })[] = [];
  for (const turn of result?.turns ?? []) {
    for (const file of turn.files ?? []) {
      for (const hunk of file.hunks ?? []) {
        const line = hunk.afterLines?.[0] ?? 0;
        const status = hunk.status === "pending" ? "" : ` (${hunk.status})`;
        items.push({
          label: `${file.shown ?? file.path}:${line + 1}`,
          description: `turn ${turn.turn}: +${hunk.added} −${hunk.removed}${status}`,
          detail: turn.prompt,
          uri: file.uri,
          line,
        });
      }
    }
  }
  return items;
}

function errorText(e: unknown): string {
  if (e && typeof e === "object" && "message" in e) return String((e as any).message);
  return String(e);
}

let codex: Codex | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const c = new Codex(context);
  codex = c;
  const command = (id: string, run: (...args: any[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, run));
  command("codex.askCodex", () => c.ask());
  command("codex.interruptTurn", () => c.interrupt());
  command("codex.steerTurn", () => c.steer());
  command("codex.newThreadCmd", () => c.newThread());
  command("codex.resumeThreadCmd", () => c.resumeThread());
  command("codex.reviewCmd", () => c.review());
  command("codex.clearReviewCmd", () => c.clearReview());
  command("codex.undoTurnCmd", () => c.undoTurn());
  command("codex.reviewChangesCmd", () => c.reviewChanges());
  command("codex.listChangesCmd", () => c.listChanges());
  command("codex.keepChangeCmd", (id?: string) => c.onHunk("codex.keepChange", id));
  command("codex.revertChangeCmd", (id?: string) => c.onHunk("codex.revertChange", id));
  command("codex.logIn", () => c.login());
  command("codex.logOut", () => c.logout());
  command("codex.installRuntimeCmd", () => c.installRuntime());
  command("codex.showTranscript", () => c.output.show());
  command("codex.restartServer", () => c.restart());
  command("codex.showStatus", () => c.showStatus());
  command("codex.chooseModel", () => c.chooseModel());
  command("codex.acceptChange", (uri?: vscode.Uri) => c.answerChange(true, uri instanceof vscode.Uri ? uri : undefined));
  command("codex.declineChange", (uri?: vscode.Uri) => c.answerChange(false, uri instanceof vscode.Uri ? uri : undefined));
  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, c.provider),
    vscode.workspace.registerTextDocumentContentProvider(STATUS_SCHEME, c.statusProvider),
    vscode.workspace.registerTextDocumentContentProvider(BASE_SCHEME, c.baseProvider),
    vscode.languages.registerCodeLensProvider({ scheme: "file" }, c.changeLenses),
    vscode.window.onDidChangeVisibleTextEditors(() => c.drawChanges()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration("codex")) return;
      c.warnIgnoredSettings();
      if (e.affectsConfiguration("codex.serverPath")) {
        void c.restart();
        return;
      }
      const client = c.client;
      if (client && client.isRunning()) {
        void client.sendNotification("workspace/didChangeConfiguration", {
          settings: { codex: serverSettings(codexSettings()) },
        });
      }
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => c.test.set("trusted", true)),
    vscode.workspace.onDidChangeTextDocument(() => c.test.schedule()),
    vscode.window.onDidChangeTextEditorSelection(() => c.test.schedule()),
    vscode.window.onDidChangeActiveTextEditor(() => c.test.schedule()),
    { dispose: () => c.dispose() },
  );
  await c.start();
}

export async function deactivate(): Promise<void> {
  await codex?.stop();
}
