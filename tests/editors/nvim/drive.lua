-- Drives codex.nvim in headless Neovim for tests/editor_nvim.rs: runs one scenario, writes
-- what it saw to $CODEX_TEST_RESULT as JSON, and exits 0 (or 1 with the error in the result).
local env = vim.env
local result = { scenario = env.CODEX_TEST_SCENARIO, selects = {}, notifications = {}, completed = {}, progress_begins = 0 }

local function write_result()
  local f = assert(io.open(env.CODEX_TEST_RESULT, "w"))
  f:write(vim.json.encode(result))
  f:close()
end

-- Record every prompt and answer it by title ($CODEX_TEST_PICK; anything else dismisses).
vim.ui.select = function(items, opts, on_choice)
  local titles = {}
  for i, item in ipairs(items) do
    titles[i] = opts.format_item and opts.format_item(item) or tostring(item)
  end
  table.insert(result.selects, { prompt = opts.prompt, kind = opts.kind, items = titles })
  local pick = env.CODEX_TEST_PICK or ""
  -- "a|b": the first prompt gets a, the next b (a picker of two steps).
  if pick:find("|", 1, true) then
    result.pick_step = (result.pick_step or 0) + 1
    pick = vim.split(pick, "|", { plain = true })[result.pick_step] or ""
  end
  if pick == "<error>" then
    -- A broken vim.ui.select override (a UI plugin's bug): the plugin must still answer.
    error("select override exploded")
  end
  for i, title in ipairs(titles) do
    if title == pick or (pick == "<first>" and i == 1) then
      return on_choice(items[i], i)
    end
  end
  on_choice(nil, nil)
end
vim.notify = function(msg, level)
  table.insert(result.notifications, { message = msg, level = level })
end

if env.CODEX_TEST_SETUP then
  -- The setup of docs/editors/neovim.md, verbatim but for the plugin's path (codex-lsp on
  -- PATH, as the doc says).
  dofile(env.CODEX_TEST_SETUP)
else
  vim.opt.rtp:prepend(env.CODEX_TEST_PLUGIN)
  require("codex").setup({
    cmd = { env.CODEX_TEST_LSP, "--stdio" },
    settings = vim.json.decode(env.CODEX_TEST_SETTINGS or "{}"),
    approvals = env.CODEX_TEST_APPROVALS or "codex",
  })
end
local codex = require("codex")

local function wait(ms, cond, what)
  if not vim.wait(ms, cond, 20) then
    error("timed out after " .. ms .. " ms waiting for " .. what, 2)
  end
end

local function open(name)
  vim.cmd.edit(vim.fn.fnameescape(env.CODEX_TEST_WORKSPACE .. "/" .. name))
  wait(20000, function()
    return #vim.lsp.get_clients({ name = "codex", bufnr = 0 }) > 0
  end, "codex-lsp to attach to " .. name)
end

local function turn_done(what)
  wait(40000, function()
    return codex.state.last_turn ~= nil
  end, what)
  return codex.state.last_turn
end

local function snapshot()
  result.status_history = codex.state.history
  result.status = codex.status()
  result.last_turn = codex.state.last_turn
  result.events = codex.state.events
  result.transcript = codex.transcript()
  result.transcript_windows = #vim.fn.win_findbuf(vim.fn.bufnr("codex://transcript"))
  result.approval_diffs = codex.state.approval_diffs
end

local scenarios = {}

-- A charwise visual selection is the context of :CodexAsk.
function scenarios.ask_visual()
  open("main.txt")
  vim.fn.cursor(2, 8) -- "greet the nvim world" on "please greet the nvim world"
  vim.cmd("normal! v$h\27")
  vim.cmd("'<,'>CodexAsk nvim visual ask")
  turn_done("the turn to complete")
  snapshot()
end

-- An approval answered with "Decline" in vim.ui.select.
function scenarios.decline()
  open("main.txt")
  vim.cmd("CodexAsk touch declined.txt")
  turn_done("the turn to complete")
  snapshot()
end

-- A file-change approval answered by $CODEX_TEST_PICK (Accept, Decline, nothing = Escape).
function scenarios.file_change()
  open("main.txt")
  vim.cmd("CodexAsk nvim patch approval")
  turn_done("the turn to complete")
  snapshot()
end

-- A command of two lines: the prompt must show both.
function scenarios.two_lines()
  open("main.txt")
  vim.cmd("CodexAsk nvim two lines")
  turn_done("the turn to complete")
  snapshot()
end

-- :CodexInterrupt stops a running turn.
function scenarios.interrupt()
  open("main.txt")
  vim.cmd("CodexAsk hang forever")
  wait(20000, function()
    return result.progress_begun == true
  end, "the turn's progress to begin")
  vim.cmd("CodexInterrupt")
  turn_done("the interrupted turn to complete")
  snapshot()
end

-- The agent's edit lands in the open (unsaved-reload-free) buffer.
function scenarios.buffer_edit()
  vim.o.autoread = false
  open("edit.txt")
  local buf = vim.fn.bufnr("edit.txt")
  vim.api.nvim_buf_set_lines(buf, 2, 3, false, { "third (unsaved)" })
  vim.cmd("CodexAsk nvim edit the buffer")
  turn_done("the turn to complete")
  wait(5000, function()
    return vim.api.nvim_buf_get_lines(vim.fn.bufnr("edit.txt"), 0, -1, false)[1] == "new line"
  end, "the edit in the buffer")
  snapshot()
  result.buffer = vim.api.nvim_buf_get_lines(vim.fn.bufnr("edit.txt"), 0, -1, false)
end

-- The thread commands, review, transcript and checkhealth.
function scenarios.commands()
  open("main.txt")
  vim.cmd("CodexNewThread")
  wait(20000, function()
    return codex.state.thread_id ~= nil
  end, ":CodexNewThread")
  result.new_thread = codex.state.thread_id
  vim.cmd("CodexAsk say hello from commands")
  turn_done("the turn to complete")
  codex.state.thread_id = nil
  vim.cmd("CodexResume")
  wait(20000, function()
    return codex.state.thread_id ~= nil
  end, ":CodexResume")
  result.resumed = codex.state.thread_id
  local before = #result.notifications
  vim.cmd("CodexReview")
  -- Started (codex-lsp's "Review started" in the transcript) or refused (a notification).
  wait(20000, function()
    return #result.notifications > before or codex.transcript():find("Review started", 1, true) ~= nil
  end, ":CodexReview's answer")
  result.review_in_transcript = codex.transcript():find("Review started", 1, true) ~= nil
  vim.cmd("CodexClearReview")
  wait(20000, function()
    for _, n in ipairs(result.notifications) do
      if n.message:find("review finding", 1, true) then
        result.clear_review = n.message
        return true
      end
    end
  end, ":CodexClearReview's answer")
  vim.cmd("CodexTranscript")
  result.transcript_is_current = vim.api.nvim_buf_get_name(0) == "codex://transcript"
  vim.cmd("checkhealth codex")
  result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  snapshot()
end

-- The doc's setup: a plain command asks for approval (untrusted), answered by $CODEX_TEST_PICK.
function scenarios.doc_setup()
  open("main.txt")
  vim.cmd("CodexAsk nvim doc touch")
  turn_done("the turn to complete")
  snapshot()
end

local function turns_done(n, what)
  wait(60000, function()
    return #result.completed >= n
  end, what)
end

-- A second ask while the first's turn runs: queued, then its own turn.
function scenarios.queued()
  open("main.txt")
  vim.cmd("CodexAsk nvim slow first")
  wait(20000, function()
    return result.progress_begun == true
  end, "the first turn's progress to begin")
  vim.cmd("CodexAsk nvim second ask")
  turns_done(2, "both turns to complete")
  snapshot()
end

-- :CodexReview while an ask's turn runs: queued, then its own turn under its own heading.
function scenarios.queued_review()
  open("main.txt")
  vim.cmd("CodexAsk nvim slow first")
  wait(20000, function()
    return result.progress_begun == true
  end, "the first turn's progress to begin")
  vim.cmd("CodexReview")
  turns_done(2, "the turn and the review to complete")
  snapshot()
end

-- An interrupt while an ask waits behind the running turn: both go, and the next ask's turn
-- is shown under its own prompt (not under the cancelled one's).
function scenarios.interrupt_queued()
  open("main.txt")
  vim.cmd("CodexAsk hang forever")
  wait(20000, function()
    return result.progress_begun == true
  end, "the first turn's progress to begin")
  vim.cmd("CodexAsk nvim second ask")
  wait(20000, function()
    for _, n in ipairs(result.notifications) do
      if n.message:find("queued", 1, true) then
        return true
      end
    end
  end, "the second ask to be queued")
  vim.cmd("CodexInterrupt")
  turns_done(1, "the interrupted turn to complete")
  -- Then a turn with an ask queued behind it again.
  local begins = result.progress_begins
  vim.cmd("CodexAsk nvim slow first")
  wait(20000, function()
    return result.progress_begins > begins
  end, "the next turn's progress to begin")
  vim.cmd("CodexAsk say hello after the interrupt")
  turns_done(3, "the next two turns to complete")
  snapshot()
end

-- The provider fails during the turn.
function scenarios.provider_fails()
  open("main.txt")
  vim.cmd("CodexAsk nvim provider fails")
  turn_done("the failed turn to complete")
  -- The progress end comes with the turn's end; give it a moment to arrive.
  vim.wait(2000, function()
    return codex.status():find("fail", 1, true) ~= nil
  end, 20)
  snapshot()
end

-- The provider fails on every attempt, retried.
function scenarios.provider_retries()
  open("main.txt")
  vim.cmd("CodexAsk nvim provider retries")
  wait(60000, function()
    return codex.state.last_turn ~= nil
  end, "the failed turn to complete")
  vim.wait(2000, function()
    return codex.status():find("fail", 1, true) ~= nil
  end, 20)
  snapshot()
end

-- The first session of a restart: one ask.
function scenarios.history_ask()
  open("main.txt")
  vim.cmd("CodexAsk say hello before the restart")
  turn_done("the turn to complete")
  snapshot()
end

-- The next session: :CodexTranscript shows the earlier turn, no :CodexResume.
function scenarios.history_read()
  open("main.txt")
  vim.cmd("CodexTranscript")
  wait(20000, function()
    return codex.transcript():find("*completed", 1, true) ~= nil
  end, "the earlier turn in the transcript")
  snapshot()
end

-- A turn that runs a command and changes a file; the transcript as it stood while the reply
-- streamed (before the turn ended), and at the end.
function scenarios.transcript_live()
  open("main.txt")
  vim.cmd("CodexAsk " .. env.CODEX_TEST_TRANSCRIPT_PROMPT)
  wait(40000, function()
    return codex.transcript():find("Transcript reply", 1, true) ~= nil
  end, "the reply to stream into the transcript")
  result.while_running = codex.transcript()
  result.running_then = codex.state.last_turn == nil
  turn_done("the turn to complete")
  snapshot()
end

-- :CodexTranscript in a folder with no thread yet: the user hears why it stays empty.
function scenarios.transcript_empty()
  open("main.txt")
  vim.cmd("CodexTranscript")
  wait(20000, function()
    return #result.notifications > 0
  end, "a word on the empty transcript")
  snapshot()
end

-- :CodexModel picks the model and its effort ($CODEX_TEST_PICK "model|effort"), then an ask
-- runs with them; the statusline shows them.
function scenarios.pick_model()
  open("main.txt")
  vim.cmd("CodexModel")
  wait(20000, function()
    for _, n in ipairs(result.notifications) do
      if n.message:find("from the next turn", 1, true) then
        return true
      end
    end
    return false
  end, "the model to be set")
  vim.cmd("CodexAsk say hello")
  turn_done("the turn to complete")
  wait(10000, function()
    return codex.state.meters ~= nil and (codex.state.meters.threadTokens or 0) > 0
  end, "codex/status with the turn's tokens")
  snapshot()
end

-- Keep or undo (issue 17): a turn edits two hunks of undo.txt; the user edits the last line
-- (unsaved); the first hunk is reverted from Neovim's code-action menu, :CodexChanges lists
-- the hunks in the quickfix list, and :CodexUndoTurn undoes the rest of the turn.
function scenarios.undo_changes()
  vim.o.autoread = false
  open("undo.txt")
  local buf = vim.api.nvim_get_current_buf()
  local function lines()
    return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  end
  vim.cmd("CodexAsk nvim undo me")
  turn_done("the turn to complete")
  wait(10000, function()
    return lines()[2] == "BETA by Codex" and lines()[4] == "DELTA by Codex"
  end, "the agent's edit in the buffer")
  wait(10000, function()
    local marks = 0
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == "codex.change" then
        marks = marks + 1
      end
    end
    return marks == 2
  end, "the two change marks")
  vim.api.nvim_buf_set_lines(buf, 6, 7, false, { "eta mine" })
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.env.CODEX_TEST_PICK = "Codex: Revert this change"
  vim.lsp.buf.code_action()
  wait(10000, function()
    return lines()[2] == "beta"
  end, "the hunk reverted from the code-action menu")
  result.after_revert = lines()
  vim.cmd("CodexChanges")
  wait(10000, function()
    return #vim.fn.getqflist() > 0
  end, ":CodexChanges to fill the quickfix list")
  result.quickfix = {}
  for _, item in ipairs(vim.fn.getqflist()) do
    table.insert(result.quickfix, {
      file = vim.fn.fnamemodify(vim.fn.bufname(item.bufnr), ":t"),
      lnum = item.lnum,
      text = item.text,
    })
  end
  result.quickfix_title = vim.fn.getqflist({ title = 0 }).title
  vim.cmd("CodexUndoTurn")
  wait(10000, function()
    return codex.state.last_undo ~= nil and lines()[4] == "delta"
  end, ":CodexUndoTurn")
  result.after_undo = lines()
  result.undo = codex.state.last_undo
  snapshot()
end

-- Signs and keep (issue 17): a turn edits two hunks of undo.txt; the plugin draws a sign on
-- each changed line (extmarks of its own namespace); :CodexKeep on the first clears its sign
-- and leaves the agent's text; :CodexRevert on the second puts its line back.
function scenarios.change_signs()
  vim.o.autoread = false
  open("undo.txt")
  local buf = vim.api.nvim_get_current_buf()
  local function lines()
    return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  end
  local function signs()
    local found = {}
    for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(buf, codex.changes_ns, 0, -1, { details = true })) do
      table.insert(found, { row = mark[2], sign = vim.trim(mark[4].sign_text or "") })
    end
    return found
  end
  local function change_hints()
    local rows = {}
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == "codex.change" then
        table.insert(rows, d.lnum)
      end
    end
    table.sort(rows)
    return rows
  end
  vim.cmd("CodexAsk nvim undo me")
  turn_done("the turn to complete")
  wait(10000, function()
    return #signs() == 2
  end, "the two change signs")
  result.signs_after_turn = signs()
  result.lines_after_turn = lines()
  vim.api.nvim_win_set_cursor(0, { 2, 0 })
  vim.cmd("CodexKeep")
  wait(10000, function()
    return #signs() == 1 and #change_hints() == 1
  end, ":CodexKeep to clear the first hunk's sign and hint")
  result.signs_after_keep = signs()
  result.hints_after_keep = change_hints()
  result.lines_after_keep = lines()
  vim.api.nvim_win_set_cursor(0, { 4, 0 })
  vim.cmd("CodexRevert")
  wait(10000, function()
    return lines()[4] == "delta" and #signs() == 0
  end, ":CodexRevert to put the second hunk back")
  result.lines_after_revert = lines()
  result.signs_after_revert = signs()
  result.keep_outside = (function()
    vim.api.nvim_win_set_cursor(0, { 1, 0 })
    vim.cmd("CodexKeep")
    return result.notifications[#result.notifications]
  end)()
  snapshot()
end

vim.api.nvim_create_autocmd("User", {
  pattern = "CodexTurnCompleted",
  callback = function(args)
    table.insert(result.completed, args.data)
  end,
})

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(args)
    local value = args.data.params.value or {}
    if value.kind == "begin" then
      result.progress_begun = true
      result.progress_begins = result.progress_begins + 1
    end
  end,
})

vim.api.nvim_create_autocmd("VimEnter", {
  callback = function()
    vim.schedule(function()
      local fn = scenarios[result.scenario]
      local ok, err = pcall(fn or error, "no scenario " .. tostring(result.scenario))
      if not ok then
        result.error = tostring(err)
        pcall(snapshot)
      end
      write_result()
      vim.cmd(ok and "qall!" or "cquit! 1")
    end)
  end,
})
