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
const lsp = env("CODEX_TEST_LSP");
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

async function main() {
  const userData = path.join(scratch, "user-data");
  const extensions = path.join(scratch, "extensions");
  fs.mkdirSync(path.join(userData, "User"), { recursive: true });
  fs.writeFileSync(
    path.join(userData, "User", "settings.json"),
    JSON.stringify(
      {
        "codex.serverPath": scenario === "missing" ? path.join(scratch, "no-such-codex-lsp") : lsp,
        "codex.sandbox": "read-only",
        "codex.logFile": path.join(scratch, "codex-lsp.log"),
        "security.workspace.trust.enabled": false,
        "workbench.startupEditor": "none",
        "workbench.tips.enabled": false,
        "workbench.enableExperiments": false,
        "telemetry.telemetryLevel": "off",
        "extensions.autoCheckUpdates": false,
        "extensions.autoUpdate": false,
        "update.mode": "none",
        "files.autoSave": "off",
        "git.enabled": false,
        "editor.accessibilitySupport": "off",
      },
      null,
      2,
    ),
  );

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
      "--disable-workspace-trust",
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
  if (scenario === "missing") return missingServer();
  await until("the extension to start codex-lsp", 60000, () => {
    const s = readState();
    if (s.error) throw new Error(`the extension failed: ${s.error}`);
    return s.ready;
  });
  await until("the status bar item", 10000, async () => (await statusBarTexts()).length > 0);
  await sampleStatus();
  step("workbench and extension ready");

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
  await until("the unsaved edit", 10000, () => readState().documents?.[mainPath]?.dirty);
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
  await sampleStatus();
  const afterFirst = readState();
  result.mainBuffer = afterFirst.documents?.[mainPath];
  result.mainOnDisk = fs.readFileSync(mainPath, "utf8");
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
    return (await statusBarTexts()).find((t) => t === "Codex");
  });

  // --- 3. Review: codex.review may not exist yet; either way the user is told -------------
  await palette("Codex: Review");
  await until("the review to be handled", 30000, () => {
    const s = readState();
    return (s.messages ?? []).some((m) => m.includes("no review command")) || (s.transcript ?? "").includes("## Review");
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
  await palette("Codex: New Thread");
  await until("the new thread", 30000, () => /\(new thread [^)]+\)/.test(readState().transcript ?? ""));
  await palette("Codex: Resume Thread");
  const rows = page.locator(".quick-input-widget .quick-input-title", { hasText: "Resume Codex thread" });
  await rows.waitFor({ state: "visible", timeout: 30000 });
  result.threadPicks = await page.locator(".quick-input-list .monaco-list-row").allInnerTexts();
  await page.keyboard.press("Enter");
  await until("the resumed thread", 30000, () => (readState().transcript ?? "").includes("(resumed thread "));
  step("new thread and resume handled");
  await sampleStatus();
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
  result.state = readState();
  step("missing server reported");
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
