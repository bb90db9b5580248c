// Drives VS Code (code-server in headless Chromium, through playwright-core) with the Codex
// extension installed from its .vsix, for tests/editor_vscode.rs. One session runs every
// scenario: select text, Ask Codex, accept the file change from its diff view (the agent's
// edit then arrives in the open, unsaved buffer through codex-lsp's workspace/applyEdit),
// decline a command in the approval modal, and Review. Documents are read through the
// extension (its CODEX_VSCODE_TEST_STATE file), never from the screen; what the screen showed
// (status bar texts, the modal) is recorded too. Writes the result as JSON to CODEX_TEST_RESULT.
//
// Every process (code-server, its extension host, codex-lsp, the app-server, Chromium) stays
// in this script's process group, so the test can kill them all at once.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const codeServer = env("CODEX_TEST_CODE_SERVER");
const chromiumPath = env("CODEX_TEST_CHROMIUM");
const extensionDir = env("CODEX_TEST_EXTENSION_DIR");
const vsix = env("CODEX_TEST_VSIX");
const workspace = env("CODEX_TEST_WORKSPACE");
const scratch = env("CODEX_TEST_SCRATCH");
const resultFile = env("CODEX_TEST_RESULT");
const stateFile = path.join(scratch, "state.json");
// "session" (every scenario, one session) or "missing" (codex.serverPath names nothing).
const scenario = process.env.CODEX_TEST_SCENARIO || "session";
const { chromium } = createRequire(path.join(extensionDir, "package.json"))("playwright-core");

const started = Date.now();
const deadline = Number(process.env.CODEX_TEST_DEADLINE_MS || 210000);
const result = { steps: [], statusTexts: [], error: null };
const step = (name) => {
  result.steps.push({ name, at: Date.now() - started });
  console.error(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${name}`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The docs' pictures (scripts/screenshots.sh): `vscode-NAME.png` in the folder
 *  CODEX_TEST_SCREENSHOTS names; without it, nothing. */
async function screenshot(name) {
  const dir = process.env.CODEX_TEST_SCREENSHOTS;
  if (!dir) return;
  // The pointer off to an empty spot of the activity bar: no hover tooltip in the picture.
  await page.mouse.move(2, 500);
  await page.screenshot({ path: path.join(dir, `vscode-${name}.png`) });
}

function readState() {
  try {
    return JSON.parse(fs.readFileSync(stateFile, "utf8"));
  } catch {
    return {};
  }
}

/** Polls `probe` (which may sample the screen) until it returns a truthy value. */
async function until(what, limitMs, probe) {
  const end = Date.now() + limitMs;
  for (;;) {
    const found = await probe();
    if (found) return found;
    if (Date.now() > end) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

const children = [];
function startChild(cmd, args, extraEnv, logName) {
  const log = fs.openSync(path.join(scratch, logName), "w");
  const child = spawn(cmd, args, { env: { ...process.env, ...extraEnv }, stdio: ["ignore", log, log] });
  children.push(child);
  return child;
}

let page;
async function statusBarTexts() {
  try {
    return await page.$$eval(".statusbar-item", (items) =>
      items.map((i) => i.innerText.trim()).filter((t) => t.includes("Codex")),
    );
  } catch {
    return [];
  }
}
async function sampleStatus() {
  for (const text of await statusBarTexts()) {
    if (result.statusTexts[result.statusTexts.length - 1] !== text) result.statusTexts.push(text);
  }
}

/** Runs a palette command by its title. */
async function palette(title) {
  // No Escape here: in the editor it would drop the selection the command is about.
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(`>${title}`);
  // Click the row that holds the title: Enter would run the first row, and "Codex: Review"
  // also lists "Codex: Clear Review", perhaps first.
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  await row.waitFor({ state: "visible", timeout: 10000 });
  await row.click();
}

/** Types into the input box a command opened. */
async function answerInputBox(title, text) {
  await page.locator(".quick-input-widget .quick-input-title", { hasText: title }).waitFor({ state: "visible", timeout: 10000 });
  const input = page.locator(".quick-input-widget input");
  await input.fill(text);
  await page.keyboard.press("Enter");
}

/**
 * The User settings: the snippet from docs/editors/vscode.md (CODEX_TEST_USER_SETTINGS, as the
 * test extracted it), with the log in the scratch folder. Everything else is code-server's shipped default (Workspace Trust on, its autosave),
 * except what only quiets the first start (welcome page, tips, telemetry, update checks) and
 * `files.autoSave` when a test is about it (CODEX_TEST_AUTOSAVE).
 */
function userSettings() {
  const documented = JSON.parse(process.env.CODEX_TEST_USER_SETTINGS || "{}");
  const settings = {
    ...documented,
    // No codex.serverPath but where a scenario is about it: the extension runs the codex-lsp
    // inside the platform .vsix, and none is on PATH.
    ...(scenario === "missing" ? { "codex.serverPath": path.join(scratch, "no-such-codex-lsp") } : {}),
    "codex.logFile": path.join(scratch, "codex-lsp.log"),
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "update.mode": "none",
    // The fixture's `.git` is an empty folder; git would only complain about it.
    "git.enabled": false,
    "editor.accessibilitySupport": "off",
  };
  if (process.env.CODEX_TEST_AUTOSAVE) settings["files.autoSave"] = process.env.CODEX_TEST_AUTOSAVE;
  if (scenario === "nocodex") settings["codex.codexPath"] = path.join(scratch, "no-such-codex");
  // The one setting the file-change scenario is about: how long an approval waits.
  if (process.env.CODEX_TEST_APPROVAL_TIMEOUT) settings["codex.approvalTimeout"] = Number(process.env.CODEX_TEST_APPROVAL_TIMEOUT);
  return settings;
}

/**
 * Workspace Trust is on (code-server's default): the folder opens with its trust prompt, and
 * the user answers it as CODEX_TEST_TRUST says (`trust`, the default, or `restricted`).
 */
async function answerTrustPrompt() {
  const trust = (process.env.CODEX_TEST_TRUST || "trust") === "trust";
  const dialog = page.locator(".monaco-dialog-box", { hasText: /trust/i });
  await until("the Workspace Trust prompt", 30000, () => dialog.isVisible().catch(() => false));
  result.trustPrompt = (await dialog.innerText()).slice(0, 400);
  const button = dialog.locator(".monaco-button", { hasText: trust ? /Yes, I trust/i : /No, I don.t trust/i }).first();
  await button.click();
  await until("the trust prompt to close", 10000, async () => !(await dialog.isVisible().catch(() => false)));
  step(trust ? "trusted the folder" : "kept the folder in Restricted Mode");
}

async function main() {
  const userData = path.join(scratch, "user-data");
  const extensions = path.join(scratch, "extensions");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  result.userSettings = userSettings();
  fs.writeFileSync(path.join(userData, "User", "settings.json"), JSON.stringify(result.userSettings, null, 2));

  step("install the .vsix");
  const install = spawnSync(
    codeServer,
    ["--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", vsix],
    { encoding: "utf8", timeout: 60000 },
  );
  if (install.status !== 0) throw new Error(`--install-extension failed: ${install.stdout}${install.stderr}`);
  result.installed = /successfully installed/i.test(install.stdout + install.stderr);

  step("start code-server");
  const port = await freePort();
  startChild(
    codeServer,
    [
      "--auth", "none",
      "--bind-addr", `127.0.0.1:${port}`,
      "--user-data-dir", userData,
      "--extensions-dir", extensions,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-getting-started-override",
      "--ignore-last-opened",
      workspace,
    ],
    { CODEX_VSCODE_TEST_STATE: stateFile },
    "code-server.log",
  );
  const base = `http://127.0.0.1:${port}`;
  await until("code-server to listen", 30000, async () => {
    try {
      const r = await fetch(`${base}/healthz`);
      return r.ok;
    } catch {
      return false;
    }
  });

  step("start chromium");
  const profile = path.join(scratch, "chromium");
  fs.mkdirSync(profile, { recursive: true });
  startChild(
    chromiumPath,
    [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage", "--window-size=1400,900",
      `--user-data-dir=${profile}`, "--remote-debugging-port=0", "about:blank",
    ],
    {},
    "chromium.log",
  );
  const devtools = path.join(profile, "DevToolsActivePort");
  const cdpPort = await until("chromium's DevTools port", 30000, () => {
    try {
      return fs.readFileSync(devtools, "utf8").split("\n")[0].trim() || false;
    } catch {
      return false;
    }
  });
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${cdpPort}`, { timeout: 30000 });
  const context = browser.contexts()[0];
  page = context.pages()[0] ?? (await context.newPage());
  await page.setViewportSize({ width: 1400, height: 900 });
  page.setDefaultTimeout(15000);

  step("open the workspace");
  await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`, { timeout: 30000 });
  await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 30000 });
  await answerTrustPrompt();
  if (scenario === "missing") return missingServer();
  await until("the extension to start codex-lsp", 60000, () => {
    const s = readState();
    if (s.error) throw new Error(`the extension failed: ${s.error}`);
    return s.ready;
  });
  await until("the status bar item", 10000, async () => (await statusBarTexts()).length > 0);
  await sampleStatus();
  step("workbench and extension ready");
  if (scenario === "hostile") return hostileWorkspace();
  if (scenario === "restricted") return restrictedMode();
  if (scenario === "lifecycle") return lifecycle();
  if (scenario === "nocodex") return noCodex();
  if (scenario === "filechanges") return fileChanges();
  if (scenario === "transcript") return transcript();
  if (scenario === "undo") return undoChanges();
  if (scenario === "changes") return changeDecorations();
  return session();
}

async function session() {
  // --- 1. select text, Ask Codex, accept the file change from the diff view ---------------
  await page.keyboard.press("Control+P");
  const quick = page.locator(".quick-input-widget input");
  await quick.waitFor({ state: "visible" });
  await quick.fill("main.txt");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "main.txt" }).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
  const mainPath = path.join(workspace, "main.txt");
  await until("main.txt in the editor", 15000, () => readState().active?.path === mainPath);
  await page.locator(".monaco-editor .view-lines").first().click();
  // An unsaved edit on the last line: the agent's change must merge beside it, in the buffer.
  await page.keyboard.press("Control+End");
  await page.keyboard.type("unsaved tail");
  result.autoSave = process.env.CODEX_TEST_AUTOSAVE || "as shipped";
  if (process.env.CODEX_TEST_AUTOSAVE === "off") {
    await until("the unsaved edit", 10000, () => readState().documents?.[mainPath]?.dirty);
  } else {
    // As shipped, code-server saves a second after typing stops.
    await until("the edit to be autosaved", 20000, () => {
      const doc = readState().documents?.[mainPath];
      return doc && !doc.dirty && fs.readFileSync(mainPath, "utf8").endsWith("unsaved tail");
    });
    step("the edit was autosaved");
  }
  // Select the second line.
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Home");
  await page.keyboard.press("Shift+End");
  await until("the selection", 10000, () => readState().active?.selection === "old line");
  step("selected `old line` in main.txt");

  await palette("Codex: Ask Codex");
  await answerInputBox("Ask Codex", "vscode patch main");
  step("asked");

  const accept = page.locator('.editor-actions [aria-label="Accept Codex\'s Change"]').first();
  await until("the diff view with the proposed change", 60000, async () => {
    await sampleStatus();
    return (await accept.isVisible().catch(() => false)) && readState().diffOpened;
  });
  await sampleStatus();
  const inDiff = readState();
  result.diffOpened = inDiff.diffOpened;
  result.diffSides = inDiff.proposed;
  result.diffTabTitle = await page.locator(".tabs-container .tab.active").first().innerText().catch(() => "");
  result.diskBeforeAccept = fs.readFileSync(mainPath, "utf8");
  const changeToast = page.locator(".notification-toast", { hasText: "Codex wants to change" });
  result.changeNotificationShown = await until("the change notification", 10000, async () =>
    changeToast.first().isVisible().catch(() => false),
  ).catch(() => false);
  await screenshot("diff");
  step("diff view open; accepting from its title bar");
  await accept.click();

  await until("the first turn to complete", 60000, async () => {
    await sampleStatus();
    return (readState().turns ?? []).length >= 1;
  });
  // codex/turnCompleted comes after the buffers are updated; give the state file a beat.
  await until("main.txt's buffer to change", 10000, () =>
    (readState().documents?.[mainPath]?.text ?? "").includes("new line"),
  );
  if (process.env.CODEX_TEST_AUTOSAVE !== "off") {
    await until("the agent's edit to be on disk and the buffer saved", 20000, () => {
      const doc = readState().documents?.[mainPath];
      return doc && !doc.dirty && fs.readFileSync(mainPath, "utf8").includes("new line");
    });
  }
  await sampleStatus();
  const afterFirst = readState();
  result.mainBuffer = afterFirst.documents?.[mainPath];
  result.mainOnDisk = fs.readFileSync(mainPath, "utf8");
  await screenshot("edit");
  step("first turn done");
  // Answered from the diff view, its notification is gone: not a toast, and not in the
  // notification center either (a toast that merely hid would still be listed there).
  await palette("Notifications: Show Notifications");
  const center = page.locator(".notifications-center");
  await center.waitFor({ state: "visible", timeout: 10000 });
  result.notificationCenter = await center.innerText();
  result.changeNotificationGone =
    (await changeToast.count()) === 0 && !result.notificationCenter.includes("Codex wants to change");
  await palette("Notifications: Hide Notifications");
  step("notification center read");

  // --- 2. a command approval, declined in the modal --------------------------------------
  await page.keyboard.press("Escape");
  await palette("Codex: Ask Codex");
  await answerInputBox("Ask Codex", "vscode two-line command");
  const dialog = page.locator(".monaco-dialog-box");
  await until("the approval modal", 60000, async () => {
    await sampleStatus();
    return dialog.isVisible().catch(() => false);
  });
  await sampleStatus();
  result.modal = {
    text: await dialog.innerText(),
    buttons: await dialog.locator(".monaco-button").allInnerTexts(),
    // The button Enter presses: the one with the focus when the modal opens.
    focused: await page.evaluate(() => (document.activeElement?.textContent ?? "").trim()),
  };
  await screenshot("approval");
  // Enter presses the modal's default button: it must be the safe one.
  step("modal shown; pressing Enter");
  await page.keyboard.press("Enter");
  await until("the second turn to complete", 60000, async () => {
    await sampleStatus();
    return (readState().turns ?? []).length >= 2;
  });
  step("second turn done");
  // Back to idle: the progress messages in between may be too brief to sample.
  result.idleAfterTurns = await until("the status bar to return to idle", 10000, async () => {
    await sampleStatus();
    // "Codex", then the model and the context's fill (codex/status).
    return (await statusBarTexts()).find((t) => t === "Codex" || t.startsWith("Codex · "));
  });

  // --- 2b. a long one-line reply: the status bar shows its latest words -------------------
  const beforeLong = (readState().turns ?? []).length;
  await palette("Codex: Ask Codex");
  await answerInputBox("Ask Codex", "vscode long reply");
  await until("the long reply's turn", 60000, async () => {
    await sampleStatus();
    return (readState().turns ?? []).length > beforeLong;
  });
  step("long reply done");

  // --- 3. Review: codex.review may not exist yet; either way the user is told -------------
  await palette("Codex: Review");
  await until("the review to be handled", 30000, () => {
    const s = readState();
    return (s.messages ?? []).some((m) => m.includes("no review command")) || (s.transcript ?? "").includes("Review started");
  });
  step("review handled");
  await palette("Codex: Clear Review");
  await until("the review to be cleared", 30000, () =>
    (readState().messages ?? []).some((m) => /^Codex: cleared \d+ review finding/.test(m)),
  );
  step("review cleared");

  // --- 4. a turn that hangs, interrupted by clicking the status bar item -------------------
  await page.keyboard.press("Escape");
  const turnsBefore = (readState().turns ?? []).length;
  await palette("Codex: Ask Codex");
  await answerInputBox("Ask Codex", "vscode hang forever");
  const running = page.locator(".statusbar-item", { hasText: "Codex: " }).first();
  await until("the hanging turn in the status bar", 30000, async () => {
    await sampleStatus();
    return running.isVisible().catch(() => false);
  });
  result.runningStatus = (await running.innerText()).trim();
  await running.click();
  await until("the interrupted turn", 30000, async () => {
    await sampleStatus();
    return (readState().turns ?? []).length > turnsBefore;
  });
  step("hanging turn interrupted from the status bar");

  // --- 5. New Thread, then Resume Thread picks from the workspace's threads ---------------
  await page.keyboard.press("Escape");
  result.transcriptBeforeNewThread = readState().transcript;
  await palette("Codex: New Thread");
  await until("the new thread", 30000, () => Boolean(readState().newThread));
  await palette("Codex: Resume Thread");
  const rows = page.locator(".quick-input-widget .quick-input-title", { hasText: "Resume Codex thread" });
  await rows.waitFor({ state: "visible", timeout: 30000 });
  result.threadPicks = await page.locator(".quick-input-list .monaco-list-row").allInnerTexts();
  await page.keyboard.press("Enter");
  await until("the resumed thread", 30000, () => Boolean(readState().resumedThread));
  step("new thread and resume handled");
  await sampleStatus();
  result.state = readState();
  if (process.env.CODEX_TEST_AUTOSAVE === "off") await conflict(mainPath);
}

/**
 * (Autosave off.) The agent changes a line the user has an unsaved edit on: a conflict. The
 * user's version stays in the buffer, the Problems entry says to use a code action, and the
 * quick-fix menu (Ctrl+.) offers "Take Codex's version" and "Keep mine" — VS Code drops an
 * action whose diagnostic it refuses and says "No code actions available". Taking Codex's
 * version changes that region only: the user's other unsaved edit stays.
 */
async function conflict(mainPath) {
  const doc = () => readState().documents?.[mainPath];
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+P");
  const quick = page.locator(".quick-input-widget input");
  await quick.waitFor({ state: "visible" });
  await quick.fill("main.txt");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "main.txt" }).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
  await until("main.txt in the editor", 15000, () => readState().active?.path === mainPath);
  await page.locator(".monaco-editor .view-lines").first().click();
  // An unsaved edit on the second line (the agent is about to change that line too).
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("End");
  await page.keyboard.type(" mine");
  await until("the unsaved edit on line 2", 10000, () => {
    const d = doc();
    return d?.dirty && d.text.split("\n")[1] === "new line mine";
  });
  result.conflictBefore = doc()?.text;
  step("typed an unsaved edit on line 2");

  const turnsBefore = (readState().turns ?? []).length;
  await ask("vscode conflict main");
  const accept = page.locator('.editor-actions [aria-label="Accept Codex\'s Change"]').first();
  await until("the diff view with the conflicting change", 60000, () => accept.isVisible().catch(() => false));
  await accept.click();
  await turnsAtLeast("the conflicting turn to complete", turnsBefore + 1);
  const isConflict = (d) => d.code === "codex.conflict";
  await until("the conflict diagnostic", 20000, () => (doc()?.diagnostics ?? []).some(isConflict));
  result.conflictDiagnostics = doc()?.diagnostics;
  result.conflictBuffer = doc()?.text;
  result.conflictOnDisk = fs.readFileSync(mainPath, "utf8");
  step("conflict marked");

  // The quick-fix menu on the conflict's line.
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+P");
  await quick.waitFor({ state: "visible" });
  await quick.fill("main.txt");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "main.txt" }).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
  await until("main.txt in the editor", 15000, () => readState().active?.path === mainPath);
  await page.locator(".monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+Home");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Home");
  const menu = page.locator(".action-widget");
  const none = page.locator(".monaco-editor-overlaymessage", { hasText: /No code actions/i });
  await page.keyboard.press("Control+.");
  const shown = await until("the quick-fix menu (or its absence)", 20000, async () => {
    if (await menu.isVisible().catch(() => false)) return "menu";
    if (await none.isVisible().catch(() => false)) return "none";
    return false;
  });
  result.quickFixMenu = shown;
  if (shown === "none") {
    result.quickFixTitles = [];
    result.quickFixMessage = await none.innerText().catch(() => "");
    throw new Error(`Ctrl+. on the conflict: ${result.quickFixMessage}`);
  }
  const rows = menu.locator(".monaco-list-row");
  await until("the quick fixes", 10000, async () => (await rows.count()) > 0);
  result.quickFixTitles = (await rows.allInnerTexts()).map((t) => t.trim());
  step(`quick fixes: ${result.quickFixTitles.join(" | ")}`);
  // The keyboard, as a user of Ctrl+. does: move the focus to the action, Enter applies it.
  const focused = async () => (await menu.locator(".monaco-list-row.focused").getAttribute("aria-label").catch(() => "")) ?? "";
  for (let i = 0; i < result.quickFixTitles.length && !(await focused()).includes("Take Codex's version"); i++) {
    await page.keyboard.press("ArrowDown");
  }
  if (!(await focused()).includes("Take Codex's version")) throw new Error(`cannot focus Take Codex's version: ${await focused()}`);
  await page.keyboard.press("Enter");
  await until("Codex's version in the buffer", 20000, () => (doc()?.text ?? "").includes("codex line"));
  // Settled: the conflict's diagnostic goes once the region is resolved.
  await until("the conflict diagnostic to go", 20000, () => !(doc()?.diagnostics ?? []).some(isConflict));
  result.resolvedBuffer = doc();
  result.resolvedOnDisk = fs.readFileSync(mainPath, "utf8");
  step("took Codex's version");
}

/** Runs "Codex: Status" and returns what the extension got and showed. */
async function codexStatus() {
  const before = (readState().messages ?? []).length;
  await palette("Codex: Status");
  await until("Codex: Status's answer", 30000, () => {
    const s = readState();
    return (s.messages ?? []).slice(before).some((m) => m.startsWith("Codex: app-server")) && s.statusResult;
  });
  const s = readState();
  const toast = page.locator(".notification-toast", { hasText: "Codex: app-server" }).first();
  await until("the status summary", 10000, () => toast.isVisible().catch(() => false));
  return {
    result: s.statusResult,
    summary: await toast.innerText(),
    document: s.statusDocument ?? null,
  };
}

/**
 * The folder's .vscode/settings.json (written by the test) tries to take over: the driver
 * reports whether an approval was asked before the command ran, and the settings codex-lsp
 * ended up with. New Thread first: that is when MCP servers from `codex.config` would start.
 */
async function hostileWorkspace() {
  result.trusted = readState().trusted;
  await palette("Codex: New Thread");
  await until("the new thread", 30000, () => Boolean(readState().newThread));
  step("new thread");
  await page.keyboard.press("Escape");
  await palette("Codex: Ask Codex");
  await answerInputBox("Ask Codex", "vscode touch accepted.txt");
  const dialog = page.locator(".monaco-dialog-box");
  const asked = await until("the approval modal (or the turn ending without one)", 60000, async () => {
    await sampleStatus();
    if (await dialog.isVisible().catch(() => false)) return "asked";
    if ((readState().turns ?? []).length >= 1) return "not asked";
    return false;
  });
  result.approval = asked;
  result.ranBeforeAnswer = fs.existsSync(path.join(workspace, "accepted.txt"));
  if (asked === "asked") {
    result.modal = {
      text: await dialog.innerText(),
      buttons: await dialog.locator(".monaco-button").allInnerTexts(),
    };
    step("approval asked; accepting");
    await dialog.locator(".monaco-button", { hasText: /^Accept$/ }).click();
  } else {
    // The test reports it, with whatever else the workspace's settings did.
    step("the command ran without an approval");
  }
  await until("the turn to complete", 60000, async () => {
    await sampleStatus();
    return (readState().turns ?? []).length >= 1;
  });
  result.ranAfterAccept = fs.existsSync(path.join(workspace, "accepted.txt"));
  step("turn done");
  result.status = await codexStatus().catch((e) => ({ error: String(e) }));
  step("status shown");
  result.state = readState();
}

async function ask(prompt) {
  await page.keyboard.press("Escape");
  await palette("Codex: Ask Codex");
  await answerInputBox("Ask Codex", prompt);
}

/**
 * codex-lsp's transcript, live and after a reload: a turn that runs a command and adds a
 * file (every approval accepted: the command in its modal, the file in its diff view), the
 * transcript as it stood while the reply streamed and at the end; then the window reloaded
 * (a new extension host and codex-lsp) and the thread's history shown again.
 */
async function transcript() {
  const dialog = page.locator(".monaco-dialog-box");
  const acceptChange = page.locator('.editor-actions [aria-label="Accept Codex\'s Change"]').first();
  await ask(process.env.CODEX_TEST_TRANSCRIPT_PROMPT);
  await until("the reply to stream into the transcript", 90000, async () => {
    if (await dialog.isVisible().catch(() => false)) {
      await dialog.locator(".monaco-button", { hasText: /^Accept$/ }).click().catch(() => {});
    }
    if (await acceptChange.isVisible().catch(() => false)) await acceptChange.click().catch(() => {});
    return (readState().transcript ?? "").includes("> Transcript reply");
  });
  result.whileRunning = { transcript: readState().transcript, turns: (readState().turns ?? []).length };
  await turnsAtLeast("the turn to end", 1);
  result.live = readState();
  step("transcript live");
  const before = readState().instance;
  await page.reload({ timeout: 30000 });
  await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 30000 });
  await until("the extension to start again with the history", 60000, () => {
    const s = readState();
    return s.instance && s.instance !== before && s.ready && (s.transcript ?? "").includes("*completed");
  });
  step("transcript after the reload");
  // Codex: Choose Model, the model then its effort from quick picks ($CODEX_TEST_MODEL, _EFFORT).
  if (process.env.CODEX_TEST_MODEL) {
    await palette("Codex: Choose Model");
    for (const [title, pick] of [
      ["Codex model for the next turns", process.env.CODEX_TEST_MODEL],
      ["Reasoning effort for", process.env.CODEX_TEST_EFFORT],
    ]) {
      await page.locator(".quick-input-widget .quick-input-title", { hasText: title }).waitFor({ state: "visible", timeout: 30000 });
      const input = page.locator(".quick-input-widget input");
      await input.fill(pick);
      // The row whose label is exactly the pick ("gpt-5.4" must not pick "gpt-5.4-mini"; a
      // row's text runs its label and description together).
      const rows = page.locator(".quick-input-list .monaco-list-row");
      let index = -1;
      await until(`the row ${pick}`, 10000, async () => {
        const labels = await page.locator(".quick-input-list .monaco-list-row .label-name").allInnerTexts();
        result.modelRows = labels;
        index = labels.findIndex((t) => t.trim() === pick);
        return index >= 0;
      });
      await rows.nth(index).click();
    }
    await until("the model to be chosen", 30000, () => Boolean(readState().model));
    await until("the status bar to show it", 30000, async () => {
      return (await statusBarTexts()).find((t) => t.includes(process.env.CODEX_TEST_MODEL));
    });
    result.statusBarAfterModel = (await statusBarTexts()).find((t) => t.includes(process.env.CODEX_TEST_MODEL));
    step("model chosen");
  }
  result.state = readState();
}

async function turnsAtLeast(what, n) {
  await until(what, 60000, async () => {
    await sampleStatus();
    return (readState().turns ?? []).length >= n;
  });
}

/**
 * What a user goes through beyond the happy path: a command approval dismissed with Escape,
 * a second ask while a reply streams, the model provider failing mid-turn, and the window
 * reloaded (the extension host and codex-lsp restart) with the thread's history shown.
 */
async function lifecycle() {
  // --- Escape on the approval modal: a decline --------------------------------------------
  await ask("vscode touch declined.txt");
  const dialog = page.locator(".monaco-dialog-box");
  await until("the approval modal", 60000, () => dialog.isVisible().catch(() => false));
  result.dismissedModal = await dialog.innerText();
  await page.keyboard.press("Escape");
  await turnsAtLeast("the dismissed turn to end", 1);
  result.afterDismiss = { decisions: readState().decisions, ran: fs.existsSync(path.join(workspace, "declined.txt")) };
  step("approval dismissed with Escape");

  // --- a second ask while the first reply streams -----------------------------------------
  await ask("vscode slow reply");
  await until("the slow reply to stream", 30000, () => (readState().transcript ?? "").includes("slow01"));
  await ask("say hello");
  await turnsAtLeast("both turns to end", 3);
  result.secondAskTranscript = readState().transcript;
  step("second ask during a turn");

  // --- the provider fails mid-turn: the user is told why ----------------------------------
  await ask("vscode provider fails");
  // Under `untrusted` its `ls` asks first: accepted, then the provider fails.
  const asked = await until("the `ls` approval", 60000, async () => {
    if (await dialog.isVisible().catch(() => false)) return "asked";
    return (readState().turns ?? []).length >= 4 ? "ended" : false;
  });
  if (asked === "asked") await dialog.locator(".monaco-button", { hasText: /^Accept$/ }).click();
  await turnsAtLeast("the failing turn to end", 4);
  const toast = page.locator(".notification-toast", { hasText: "the turn failed" }).first();
  await until("the failure message", 20000, () => toast.isVisible().catch(() => false));
  result.failureToast = await toast.innerText();
  result.beforeReload = readState();
  step("provider failure shown");

  // --- reload the window: a new extension host and codex-lsp; the history comes back -----
  const before = readState().instance;
  await page.reload({ timeout: 30000 });
  await page.locator(".monaco-workbench").waitFor({ state: "visible", timeout: 30000 });
  await until("the extension to start again", 60000, () => {
    const s = readState();
    return s.instance && s.instance !== before && s.ready;
  });
  step("window reloaded");
  result.state = readState();
}

/** Opens main.txt in the editor (Ctrl+P) and waits until it is the active document. */
async function openMain(mainPath) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+P");
  const quick = page.locator(".quick-input-widget input");
  await quick.waitFor({ state: "visible" });
  await quick.fill("main.txt");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "main.txt" }).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
  await until("main.txt in the editor", 15000, () => readState().active?.path === mainPath);
}

/**
 * File-change approvals that grant nothing, with main.txt open: declined from the diff
 * view's title bar; Escape (which answers nothing: the diff stays, nothing lands), then the
 * diff view closed (a dismissal: declined); left unanswered until `codex.approvalTimeout`
 * (CODEX_TEST_APPROVAL_TIMEOUT) passes: codex-lsp declines it, the diff view and the
 * notification go, and a warning says why. After each: the buffer, the disk and what the
 * user was shown.
 */
async function fileChanges() {
  const mainPath = path.join(workspace, "main.txt");
  const doc = () => readState().documents?.[mainPath];
  const accept = page.locator('.editor-actions [aria-label="Accept Codex\'s Change"]').first();
  const decline = page.locator('.editor-actions [aria-label="Decline Codex\'s Change"]').first();
  const changeToast = page.locator(".notification-toast", { hasText: "Codex wants to change" });
  const diffShown = (what) =>
    until(what, 60000, () => accept.isVisible().catch(() => false));
  const after = async (n) => {
    await turnsAtLeast(`turn ${n} to end`, n);
    // The notification closes once the change is answered (VS Code animates it out).
    await until("the change's notification to go", 5000, async () => (await changeToast.count()) === 0).catch(() => false);
    const s = readState();
    return {
      buffer: doc()?.text,
      dirty: doc()?.dirty,
      disk: fs.readFileSync(mainPath, "utf8"),
      decisions: s.decisions,
      transcript: s.transcript,
      diffTabs: await page.locator(".tabs-container .tab", { hasText: "Codex wants to" }).count(),
      changeToasts: await changeToast.count(),
      // codex-lsp's codex/approvalEnded so far: only a timeout (or the like) sends one.
      ended: s.approvalsEnded ?? [],
    };
  };
  await openMain(mainPath);

  // --- declined from the diff view's title bar -------------------------------------------
  await ask("vscode patch decline");
  await diffShown("the diff view of the change to decline");
  step("diff view open; declining from its title bar");
  await decline.click();
  result.declined = await after(1);
  step("declined");

  // --- Escape answers nothing; closing the diff view declines ----------------------------
  await openMain(mainPath);
  await ask("vscode patch dismiss");
  await diffShown("the diff view of the change to dismiss");
  await page.locator(".monaco-diff-editor .view-lines").last().click();
  await page.keyboard.press("Escape");
  await sleep(1000);
  result.afterEscape = {
    diffStillOpen: await accept.isVisible().catch(() => false),
    turns: (readState().turns ?? []).length,
    disk: fs.readFileSync(mainPath, "utf8"),
  };
  step("Escape in the diff view; closing it");
  await palette("View: Close Editor");
  result.dismissed = await after(2);
  step("dismissed");

  // --- nobody answers: codex.approvalTimeout declines -------------------------------------
  await openMain(mainPath);
  await ask("vscode patch timeout");
  await diffShown("the diff view of the change left unanswered");
  const shownAt = Date.now();
  step("diff view open; waiting for the approval timeout");
  const warning = page.locator(".notification-toast", { hasText: "no answer within" }).first();
  await until("the timeout's warning", 60000, () => warning.isVisible().catch(() => false));
  result.timeoutWarning = await warning.innerText();
  result.timeoutAfterMs = Date.now() - shownAt;
  result.timedOut = await after(3);
  step("timed out");
  result.state = readState();
}

/** Opens `name` (at `full`) with Ctrl+P and puts the focus in its text. */
async function openFile(name, full) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+P");
  const quick = page.locator(".quick-input-widget input");
  await quick.waitFor({ state: "visible" });
  await quick.fill(name);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: name }).first().waitFor({ state: "visible" });
  await page.keyboard.press("Enter");
  await until(`${name} in the editor`, 15000, () => readState().active?.path === full);
  await page.locator(".monaco-editor .view-lines").first().click();
}

/** Moves the cursor to the start of line `n` (1-based) of the active editor. */
async function toLine(n) {
  await page.keyboard.press("Control+Home");
  for (let i = 1; i < n; i++) await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Home");
}

/**
 * Keep or undo (issue 17), autosave off: a turn changes two hunks of undo.txt (its change
 * accepted in the diff view); the user types on the last line (unsaved); Ctrl+. on the first
 * hunk, "Codex: Revert this change" from the quick-fix menu; "Codex: Review Changes" lists
 * the hunks in a quick pick; "Codex: Undo Last Turn" undoes the rest.
 */
async function undoChanges() {
  const undoPath = path.join(workspace, "undo.txt");
  const doc = () => readState().documents?.[undoPath];
  const lines = () => (doc()?.text ?? "").split("\n");
  await openFile("undo.txt", undoPath);
  await ask("vscode undo me");
  const accept = page.locator('.editor-actions [aria-label="Accept Codex\'s Change"]').first();
  await until("the diff view of the change", 60000, () => accept.isVisible().catch(() => false));
  await accept.click();
  await turnsAtLeast("the turn to complete", 1);
  await until("the agent's change in the buffer", 20000, () => lines()[3] === "DELTA by Codex");
  const isMark = (d) => d.code === "codex.change";
  await until("the two change marks", 20000, () => (doc()?.diagnostics ?? []).filter(isMark).length === 2);
  step("two hunks marked");

  await openFile("undo.txt", undoPath);
  await toLine(7);
  await page.keyboard.press("End");
  await page.keyboard.type(" mine");
  await until("the unsaved edit", 10000, () => lines()[6] === "eta mine" && doc()?.dirty);

  await toLine(2);
  const menu = page.locator(".action-widget");
  await page.keyboard.press("Control+.");
  await until("the quick-fix menu", 20000, () => menu.isVisible().catch(() => false));
  const rows = menu.locator(".monaco-list-row");
  await until("the code actions", 10000, async () => (await rows.count()) > 0);
  result.undoMenu = (await rows.allInnerTexts()).map((t) => t.trim());
  step(`code actions: ${result.undoMenu.join(" | ")}`);
  const want = "Codex: Revert this change";
  const focused = async () => (await menu.locator(".monaco-list-row.focused").getAttribute("aria-label").catch(() => "")) ?? "";
  for (let i = 0; i < result.undoMenu.length + 2 && !(await focused()).includes(want); i++) {
    await page.keyboard.press("ArrowDown");
  }
  if (!(await focused()).includes(want)) throw new Error(`cannot focus ${want}: ${await focused()}`);
  await page.keyboard.press("Enter");
  await until("the hunk reverted", 20000, () => lines()[1] === "beta");
  result.afterRevert = doc()?.text;
  step("reverted one hunk");

  await palette("Codex: List Changes");
  const pickRows = page.locator(".quick-input-list .monaco-list-row");
  await until("the changes in the quick pick", 20000, async () =>
    (await pickRows.allInnerTexts().catch(() => [])).some((t) => t.includes("undo.txt:4")),
  );
  result.changeRows = (await pickRows.allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
  result.changePicks = readState().changePicks;
  await page.keyboard.press("Escape");
  step("listed the changes");

  await palette("Codex: Undo Last Turn");
  await until("the turn undone", 20000, () => lines()[3] === "delta");
  result.afterUndo = doc()?.text;
  result.undoMessages = readState().messages;
  step("undid the turn");
}

/**
 * The agent's changes drawn (issue 17), autosave off: a turn changes lines 2 and 4 of
 * undo.txt; the extension decorates both (what it drew, through its test state); "Keep"
 * from the CodeLens above line 2 clears that decoration, the text staying the agent's;
 * "Codex: Review Changes" opens VS Code's multi-diff editor with the text before the turn
 * (fetched with codex.changeBase) against the file now.
 */
async function changeDecorations() {
  const undoPath = path.join(workspace, "undo.txt");
  const doc = () => readState().documents?.[undoPath];
  const lines = () => (doc()?.text ?? "").split("\n");
  const decorated = () => JSON.stringify(readState().changeDecorations?.[undoPath] ?? null);
  await openFile("undo.txt", undoPath);
  await ask("vscode keep me");
  const accept = page.locator('.editor-actions [aria-label="Accept Codex\'s Change"]').first();
  await until("the diff view of the change", 60000, () => accept.isVisible().catch(() => false));
  await accept.click();
  await turnsAtLeast("the turn to complete", 1);
  await until("the agent's change in the buffer", 20000, () => lines()[3] === "DELTA by Codex");
  await openFile("undo.txt", undoPath);
  await until("the two hunks decorated", 20000, () => decorated() === "[1,3]");
  result.decoratedAfterTurn = readState().changeDecorations[undoPath];
  step("two hunks decorated");

  const lenses = page.locator(".monaco-editor .codelens-decoration a", { hasText: /^Keep$/ });
  await until("the Keep lenses", 20000, async () => (await lenses.count().catch(() => 0)) === 2);
  result.lensTexts = (await page.locator(".monaco-editor .codelens-decoration").allInnerTexts()).map((t) => t.trim());
  await lenses.first().click();
  await until("the kept hunk's decoration gone", 20000, () => decorated() === "[3]");
  result.decoratedAfterKeep = readState().changeDecorations[undoPath];
  result.afterKeep = doc()?.text;
  result.changeCommands = readState().changeCommands;
  step("kept one hunk from its lens");

  await palette("Codex: Review Changes");
  await until("the base fetched for the diff", 20000, () => (readState().bases ?? []).length > 0);
  const tab = page.locator(".tabs-container .tab", { hasText: "Codex changes" });
  await until("the multi-diff editor's tab", 20000, () => tab.isVisible().catch(() => false));
  result.reviewResources = readState().reviewResources;
  result.bases = readState().bases;
  result.tabs = (await page.locator(".tabs-container .tab").allInnerTexts()).map((t) => t.trim());
  step("reviewed the changes in the multi-diff editor");
}

/** The folder stays in Restricted Mode: Codex still runs, with the User settings. */
async function restrictedMode() {
  result.trusted = readState().trusted;
  await palette("Codex: Ask Codex");
  await answerInputBox("Ask Codex", "say hello");
  await until("the turn to complete", 60000, async () => {
    await sampleStatus();
    return (readState().turns ?? []).length >= 1;
  });
  step("asked in Restricted Mode");
  result.status = await codexStatus();
  result.state = readState();
}

/** codex-lsp cannot be found: the error names the install command, the status bar says so. */
async function missingServer() {
  const toast = page.locator(".notification-toast", { hasText: "was not found" }).first();
  // The toast and the status bar item are drawn independently: wait for both.
  await until("the missing-server error and status", 60000, async () => {
    await sampleStatus();
    const shown = await toast.isVisible().catch(() => false);
    return shown && result.statusTexts.includes("Codex: codex-lsp not found");
  });
  await sampleStatus();
  result.missing = {
    toast: await toast.innerText(),
    buttons: await toast.locator(".monaco-button").allInnerTexts(),
  };
  step("missing server reported");
  // "Open Settings" shows the setting where it can be set (code-server: the Remote tab).
  await toast.locator(".monaco-button", { hasText: "Open Settings" }).click();
  result.settingsEditor = await settingsEditor("Server Path");
  step(`settings editor: ${result.settingsEditor.shown}`);
  result.state = readState();
}

/** The codex runtime is not found (`codex.codexPath` names nothing): the ask's error offers
 * to open that setting, and "Open Settings" shows it where it takes effect. */
async function noCodex() {
  await ask("say hello");
  const toast = page.locator(".notification-toast", { hasText: "ask failed" }).first();
  await until("the ask's error", 60000, () => toast.isVisible().catch(() => false));
  result.askError = {
    toast: await toast.innerText(),
    buttons: await toast.locator(".monaco-button").allInnerTexts(),
  };
  step("ask failed");
  const open = toast.locator(".monaco-button", { hasText: "Open Settings" });
  if (await open.isVisible().catch(() => false)) {
    await open.click();
    result.settingsEditor = await settingsEditor("Codex Path");
  }
  result.state = readState();
}

/** What the Settings editor shows after "Open Settings": the tab and the setting's row. */
async function settingsEditor(title) {
  const editor = page.locator(".settings-editor");
  await until("the Settings editor", 20000, () => editor.isVisible().catch(() => false));
  const row = editor.locator(".setting-item-contents", { hasText: title }).first();
  return {
    shown: await until("the setting (or its absence)", 20000, async () => {
      if (await row.isVisible().catch(() => false)) return "shown";
      const empty = editor.locator(".no-results-message");
      if (await empty.isVisible().catch(() => false)) return "no results";
      return false;
    }).catch(() => "timeout"),
    tabs: await editor.locator(".settings-tabs-widget .action-label").allInnerTexts().catch(() => []),
    activeTab: await editor.locator(".settings-tabs-widget .action-label.checked").innerText().catch(() => ""),
    query: await editor.locator(".settings-header .suggest-input-container textarea, .settings-header .monaco-editor .view-lines").first().innerText().catch(() => ""),
    row: await row.innerText().catch(() => ""),
  };
}

let deadlineTimer;
const overDeadline = new Promise((_, reject) => {
  deadlineTimer = setTimeout(() => reject(new Error(`the session passed its ${deadline} ms deadline`)), deadline);
});
try {
  await Promise.race([main(), overDeadline]);
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
  try {
    if (page) await page.screenshot({ path: path.join(scratch, "failure.png") });
    result.screenshot = path.join(scratch, "failure.png");
  } catch {}
  result.state ??= readState();
} finally {
  clearTimeout(deadlineTimer);
  result.elapsedMs = Date.now() - started;
  fs.writeFileSync(resultFile, JSON.stringify(result, null, 2));
  for (const child of children) child.kill("SIGKILL");
  process.exit(result.error ? 1 : 0);
}
