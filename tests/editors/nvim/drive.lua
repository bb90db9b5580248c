-- Drives codex.nvim in headless Neovim for tests/editor_nvim.rs: runs one scenario, writes
-- what it saw to $CODEX_TEST_RESULT as JSON, and exits 0 (or 1 with the error in the result).
local env = vim.env
local result = { scenario = env.CODEX_TEST_SCENARIO, selects = {}, notifications = {} }

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

vim.opt.rtp:prepend(env.CODEX_TEST_PLUGIN)
local codex = require("codex")
codex.setup({
  cmd = { env.CODEX_TEST_LSP, "--stdio" },
  settings = vim.json.decode(env.CODEX_TEST_SETTINGS or "{}"),
  approvals = env.CODEX_TEST_APPROVALS or "codex",
})

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
  -- Started (a "## Review" block in the transcript) or refused (a notification).
  wait(20000, function()
    return #result.notifications > before or codex.transcript():find("## Review", 1, true) ~= nil
  end, ":CodexReview's answer")
  result.review_in_transcript = codex.transcript():find("## Review", 1, true) ~= nil
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

vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(args)
    local value = args.data.params.value or {}
    if value.kind == "begin" then
      result.progress_begun = true
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
