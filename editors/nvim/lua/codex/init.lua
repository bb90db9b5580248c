-- codex.nvim: drive the Codex agent from Neovim (0.10+) through the codex-lsp language server.
--
--   require("codex").setup({ settings = { model = "gpt-5.5" } })
--
-- See docs/editors/neovim.md for every option and command.
local M = {}

local NAME = "codex"
local TRANSCRIPT = "codex://transcript"
local APPROVAL = "codex://approval"

---@class codex.Config
local defaults = {
  -- The server command; `codex-lsp` must be on PATH otherwise.
  cmd = { "codex-lsp", "--stdio" },
  -- nil: every file buffer. A list restricts codex-lsp to these filetypes.
  filetypes = nil,
  -- The workspace folder is the nearest ancestor holding one of these; else the cwd.
  root_markers = { ".git", ".hg", ".jj" },
  -- codex-lsp settings (docs/lsp.md), sent as initializationOptions and as `settings.codex`.
  settings = {},
  -- "codex": richer approval prompts over `codex/approval` (diffs for file changes);
  -- "message": plain `window/showMessageRequest` prompts.
  approvals = "codex",
  -- Open the transcript window when a turn starts (false: only :CodexTranscript opens it).
  open_transcript = true,
  -- How the transcript window opens.
  transcript_split = "botright split",
  -- Echo progress in the message area (besides status()).
  echo_progress = true,
  -- How the agent's pending changes (codex/changes) are drawn: a sign on each changed line
  -- (`deleted` where the agent only removed lines) and, when `line_hl` names a highlight
  -- group, a line highlight. false: not drawn (the `codex.change` hints still show).
  change_signs = { text = "▎", deleted = "▁", hl = "DiffChange", line_hl = nil },
}

M.config = vim.deepcopy(defaults)

-- What the statusline and the tests read.
M.state = {
  status = "", -- "" when idle
  running = {}, -- turnId -> threadId
  thread_id = nil,
  last_turn = nil, -- the last codex/turnCompleted params
  history = {}, -- every status text shown, in order (bounded)
  events = 0, -- codex/event notifications received
  meters = nil, -- the last codex/status params: model, effort, tokens, context, rate limits
  changes = {}, -- uri -> the pending hunks of the last codex/changes for it
}

local function notify(msg, level)
  vim.notify("Codex: " .. msg, level or vim.log.levels.INFO)
end

local has_011 = vim.fn.has("nvim-0.11") == 1

--- The codex-lsp client for `bufnr` (else any running one).
function M.client(bufnr)
  local get = vim.lsp.get_clients or vim.lsp.get_active_clients
  local clients = get({ name = NAME, bufnr = bufnr })
  if #clients == 0 then
    clients = get({ name = NAME })
  end
  return clients[1]
end

local function request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- Runs a codex-lsp command; `callback(err, result)`.
function M.exec(command, argument, callback, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if not client then
    notify("codex-lsp is not running for this buffer (see :checkhealth codex)", vim.log.levels.ERROR)
    if callback then
      callback({ message = "codex-lsp is not running" }, nil)
    end
    return
  end
  -- Sent as a plain request (not client:exec_cmd), so that a command this codex-lsp does not
  -- announce still reaches it and its error comes back to us.
  if type(argument) == "table" and next(argument) == nil then
    argument = vim.empty_dict() -- an empty Lua table would go out as a JSON array
  end
  local params = { command = command, arguments = argument ~= nil and { argument } or {} }
  request(client, "workspace/executeCommand", params, function(err, result)
    if callback then
      callback(err, result)
    elseif err then
      notify(command .. ": " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end
  end, bufnr)
end

-- Status ---------------------------------------------------------------------------------

local function set_status(text)
  M.state.status = text
  table.insert(M.state.history, text)
  if #M.state.history > 200 then
    table.remove(M.state.history, 1)
  end
  if M.config.echo_progress and text ~= "" then
    vim.api.nvim_echo({ { text } }, false, {})
  end
  vim.cmd("redrawstatus")
end

--- For a statusline: the current Codex activity (else its last end), then the model,
--- the context's fill and the rate limits in brackets once codex-lsp said them
--- ("Codex: thinking [gpt-5.5 high · 43% of context · 5h 12%]"); "" before anything.
function M.status()
  local meters = M.state.meters and M.state.meters.text or ""
  if meters == "" then
    return M.state.status
  end
  local activity = M.state.status ~= "" and M.state.status or "Codex:"
  return activity .. " [" .. meters .. "]"
end

--- codex/status: what the statusline shows of the model, tokens and rate limits.
local function on_codex_status(_, params)
  if type(params) == "table" then
    M.state.meters = params
    vim.cmd("redrawstatus")
  end
  return vim.NIL
end

-- Transcript -----------------------------------------------------------------------------
--
-- The transcript is codex-lsp's Markdown, shown as it comes: `codex.transcript` renders a
-- thread's history, `codex/transcript` updates a running turn's part (append, or replace
-- from a line). Nothing here renders; the buffer only displays.

-- Displayed parts in buffer order: { turn = turnId?, thread = threadId?, lines = {…} }, the
-- last line of `lines` partial (a reply streams into it; "" when the text ends a line).
local parts = {}
local by_turn = {} -- turnId -> its part, for every turn updated in this session
local shown_total = 0 -- buffer lines the parts take (the buffer keeps one "" line at 0)

local function transcript_buf()
  local buf = vim.fn.bufnr(TRANSCRIPT)
  if buf == -1 or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, TRANSCRIPT)
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "hide"
    vim.bo[buf].swapfile = false
    vim.bo[buf].filetype = "markdown"
    -- A new buffer (the old one wiped): everything is drawn again.
    local lines = {}
    for _, part in ipairs(parts) do
      for i = 1, #part.lines do
        if i < #part.lines or part.lines[i] ~= "" then
          lines[#lines + 1] = part.lines[i]
        end
      end
    end
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    shown_total = #lines
  end
  return buf
end

--- The transcript's text (for tests and scripts).
function M.transcript()
  return table.concat(vim.api.nvim_buf_get_lines(transcript_buf(), 0, -1, false), "\n")
end

--- How many buffer lines a part takes.
local function shown(part)
  local n = #part.lines
  return part.lines[n] == "" and n - 1 or n
end

--- Writes `part`'s lines from `from` (0-based, in the part) over the `old` lines it took.
local function redraw(part, from, old)
  local buf = transcript_buf()
  local start = 0
  for _, p in ipairs(parts) do
    if p == part then
      break
    end
    start = start + shown(p)
  end
  local new = {}
  for i = from + 1, shown(part) do
    new[#new + 1] = part.lines[i]
  end
  if shown_total == 0 then
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, new)
  else
    vim.api.nvim_buf_set_lines(buf, start + from, start + old, false, new)
  end
  shown_total = shown_total + shown(part) - old
  if part == parts[#parts] then
    for _, win in ipairs(vim.fn.win_findbuf(buf)) do
      vim.api.nvim_win_set_cursor(win, { vim.api.nvim_buf_line_count(buf), 0 })
    end
  end
end

--- Shows `parts` from scratch.
local function redraw_all()
  shown_total = 0
  vim.api.nvim_buf_set_lines(transcript_buf(), 0, -1, false, {})
  for _, part in ipairs(parts) do
    redraw(part, 0, 0)
  end
end

local function is_shown(part)
  for _, p in ipairs(parts) do
    if p == part then
      return true
    end
  end
  return false
end

--- `codex/transcript`: drop the turn's lines from `replaceFromLine` on, then append.
local function on_transcript(_, params)
  if type(params) ~= "table" or type(params.turnId) ~= "string" or type(params.markdown) ~= "string" then
    return
  end
  local part = by_turn[params.turnId]
  local old
  if not part then
    -- Its first update: the turn runs (until its codex/turnCompleted).
    M.state.running[params.turnId] = params.threadId or true
    for _, p in ipairs(parts) do
      if p.turn == params.turnId then
        part = p -- shown from the history while it ran: the live text replaces it
      end
    end
    part = part or { turn = params.turnId, thread = params.threadId }
    old = part.lines and shown(part) or 0
    part.lines = { "" }
    by_turn[params.turnId] = part
  end
  old = old or shown(part)
  local from = #part.lines - 1
  local cut = tonumber(params.replaceFromLine)
  if #part.lines == 1 and part.lines[1] == "" then
    from = 0
  end
  if cut then
    cut = math.max(0, math.min(cut, #part.lines - 1))
    for i = #part.lines, cut + 1, -1 do
      part.lines[i] = nil
    end
    part.lines[#part.lines + 1] = ""
    from = cut
  end
  local pieces = vim.split(params.markdown, "\n", { plain = true })
  part.lines[#part.lines] = part.lines[#part.lines] .. pieces[1]
  for i = 2, #pieces do
    part.lines[#part.lines + 1] = pieces[i]
  end
  if is_shown(part) then
    redraw(part, math.min(from, old), old)
  else
    parts[#parts + 1] = part
    redraw(part, 0, 0)
  end
end

--- Shows a thread's transcript as `codex.transcript` answered it (`{threadId, markdown,
--- turns: [{turnId, line}]}`). A turn this session follows keeps its live text: its updates
--- count lines in it.
local function show_history(result)
  local lines = vim.split(result.markdown or "", "\n", { plain = true })
  local turns = type(result.turns) == "table" and result.turns or {}
  local new = {}
  local listed = {}
  local function slice(from, to) -- lines [from, to) as a part's lines, the last partial
    local out = {}
    for i = from + 1, math.min(to, #lines - 1) do
      out[#out + 1] = lines[i]
    end
    out[#out + 1] = to >= #lines and lines[#lines] or ""
    return out
  end
  local head_end = turns[1] and turns[1].line or #lines
  new[1] = { lines = slice(0, head_end) }
  for i, turn in ipairs(turns) do
    local to = turns[i + 1] and turns[i + 1].line or #lines
    listed[turn.turnId] = true
    new[#new + 1] = by_turn[turn.turnId] or { turn = turn.turnId, thread = result.threadId, lines = slice(turn.line, to) }
  end
  -- Turns of this thread that began after the history was read.
  for _, part in ipairs(parts) do
    if part.turn and part.thread == result.threadId and not listed[part.turn] then
      new[#new + 1] = part
    end
  end
  parts = new
  redraw_all()
end

--- Loads a thread's transcript (`thread_id`, else the workspace's of `bufnr`) into the
--- buffer; `quiet`: no word when there is none.
local function load_transcript(thread_id, bufnr, quiet)
  local argument = {}
  if thread_id then
    argument.threadId = thread_id
  elseif bufnr and vim.api.nvim_buf_is_valid(bufnr) and vim.bo[bufnr].buftype == "" and vim.api.nvim_buf_get_name(bufnr) ~= "" then
    argument.uri = vim.uri_from_bufnr(bufnr)
  end
  M.exec("codex.transcript", argument, function(err, result)
    if quiet and (err or type(result) ~= "table") then
      return
    end
    if err or type(result) ~= "table" then
      -- Say why the transcript stays empty (no thread in this folder yet, say).
      notify("no history to show: " .. (err and err.message or "no thread"), vim.log.levels.WARN)
      return
    end
    M.state.thread_id = result.threadId or M.state.thread_id
    show_history(result)
    if not quiet and type(result.turns) == "table" and #result.turns == 0 then
      notify("no history to show: the thread has no turns yet")
    end
  end, bufnr)
end

--- Opens the transcript in a window (or focuses it).
function M.open_transcript()
  local buf = transcript_buf()
  local wins = vim.fn.win_findbuf(buf)
  if #wins > 0 then
    return wins[1]
  end
  local current = vim.api.nvim_get_current_win()
  vim.cmd(M.config.transcript_split)
  vim.api.nvim_win_set_buf(0, buf)
  local win = vim.api.nvim_get_current_win()
  vim.api.nvim_set_current_win(current)
  return win
end

-- Turns ------------------------------------------------------------------------------------

local function on_event(_, params)
  if type(params) ~= "table" then
    return
  end
  M.state.events = M.state.events + 1
end

local function on_turn_completed(_, params)
  if type(params) ~= "table" then
    return
  end
  M.state.running[params.turnId] = nil
  M.state.last_turn = params
  vim.api.nvim_exec_autocmds("User", { pattern = "CodexTurnCompleted", data = params, modeline = false })
end

local progress = {} -- progress token -> true while it runs (the token is opaque)

local function on_progress(args)
  local client = vim.lsp.get_client_by_id(args.data.client_id)
  if not client or client.name ~= NAME then
    return
  end
  local params = args.data.params or {}
  local value = params.value or {}
  local token = tostring(params.token or "")
  if value.kind == "begin" then
    progress[token] = true
  elseif not progress[token] then
    return
  end
  if value.kind == "end" then
    progress[token] = nil
    set_status("Codex: " .. (value.message or "done"))
  else
    set_status("Codex: " .. (value.message or value.title or "working"))
  end
end

-- Approvals ---------------------------------------------------------------------------------

--- Asks with vim.ui.select from inside the LSP handler's coroutine; returns the picked item.
local function select(items, opts)
  local co, is_main = coroutine.running()
  if not co or is_main then
    -- Not in a coroutine (should not happen for server requests): a blocking list.
    local lines = { opts.prompt }
    for i, item in ipairs(items) do
      table.insert(lines, string.format("%d. %s", i, opts.format_item(item)))
    end
    local pick = vim.fn.inputlist(lines)
    return items[pick]
  end
  vim.ui.select(items, opts, function(choice)
    vim.schedule(function()
      coroutine.resume(co, choice)
    end)
  end)
  return coroutine.yield()
end

--- Runs an approval UI so that any failure in it (a Lua error in a vim.ui.select override,
--- a bad buffer write) reaches the user and answers `failed()` (a decline), never an error
--- that only lsp.log would see.
local function guarded(what, fn, failed)
  return function(err, params, ctx, config)
    local ok, res = pcall(fn, err, params, ctx, config)
    if ok then
      return res
    end
    notify(what .. " failed, so it was declined: " .. tostring(res), vim.log.levels.ERROR)
    return failed()
  end
end

local function lines_of(text)
  return vim.split(tostring(text or ""), "\n", { plain = true })
end

local function on_show_message_request(_, params)
  local actions = vim.deepcopy(params.actions or {})
  local offers_decline = false
  for _, a in ipairs(actions) do
    offers_decline = offers_decline or a.title == "Decline"
  end
  if #actions > 0 and not offers_decline and (params.message or ""):match("^Codex wants to") then
    -- An approval without a Decline button: any answer codex-lsp did not offer declines.
    table.insert(actions, { title = "Decline" })
  end
  local choice = select(actions, {
    kind = "codex_approval",
    prompt = params.message,
    format_item = function(a)
      return a.title
    end,
  })
  -- A dismissed prompt answers null: codex-lsp declines and says so.
  return choice or vim.NIL
end

--- The prompt: codex-lsp's message, which shows the command or the file list whole (every
--- line; hidden characters as <U+XXXX>), and where to read the diffs.
local function approval_text(params)
  local text = params.message or "Codex asks for approval"
  if type(params.files) == "table" and #params.files > 0 then
    text = text .. "\n(the diffs are in the window above: " .. APPROVAL .. ")"
  end
  return text
end

--- The diffs of a file-change approval, in their own scratch buffer (the transcript is
--- codex-lsp's: it gets the approval and its answer from there), so they can be read
--- before answering. A buffer line cannot hold a newline: every text is split into lines.
local function show_approval_diffs(params)
  local buf = vim.fn.bufnr(APPROVAL)
  if buf == -1 or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, APPROVAL)
    vim.bo[buf].buftype = "nofile"
    vim.bo[buf].bufhidden = "hide"
    vim.bo[buf].swapfile = false
    vim.bo[buf].filetype = "markdown"
  end
  local block = lines_of(params.message)
  for _, file in ipairs(params.files) do
    table.insert(block, "")
    table.insert(block, "```diff")
    vim.list_extend(block, lines_of(file.diff))
    table.insert(block, "```")
  end
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, block)
  M.state.approval_diffs = table.concat(block, "\n")
  if #vim.fn.win_findbuf(buf) == 0 then
    -- At the top, and drawn now: Neovim's own vim.ui.select (an inputlist) blocks before the
    -- next redraw and its lines cover the bottom of the screen, where a bottom split was.
    local current = vim.api.nvim_get_current_win()
    vim.cmd("topleft split")
    vim.api.nvim_win_set_buf(0, buf)
    vim.api.nvim_set_current_win(current)
    vim.cmd.redraw()
  end
  return buf
end

local function close_approval_diffs(buf)
  for _, win in ipairs(vim.fn.win_findbuf(buf)) do
    pcall(vim.api.nvim_win_close, win, true)
  end
end

local function on_codex_approval(_, params)
  set_status("Codex: waiting for approval")
  local diffs
  if type(params.files) == "table" and #params.files > 0 then
    diffs = show_approval_diffs(params)
  end
  local choices = vim.deepcopy(params.choices or {})
  local offers_decline = false
  for _, c in ipairs(choices) do
    offers_decline = offers_decline or c.decision == "decline"
  end
  if not offers_decline then
    -- Command approvals may not offer one; codex-lsp declines on any answer it did not offer.
    table.insert(choices, { title = "Decline", decision = "decline" })
  end
  local ok, choice = pcall(select, choices, {
    kind = "codex_approval",
    prompt = approval_text(params),
    format_item = function(c)
      return c.title
    end,
  })
  if diffs then
    close_approval_diffs(diffs)
  end
  if not ok then
    error(choice, 0)
  end
  if choice == nil then
    notify("declined: the approval prompt was dismissed", vim.log.levels.WARN)
    return { decision = "decline" }
  end
  return { decision = choice.decision }
end

-- Changes -----------------------------------------------------------------------------------

-- The agent's pending hunks, drawn as extmarks in a namespace of their own.
M.changes_ns = vim.api.nvim_create_namespace("codex.changes")

--- The loaded buffer of `uri`, if any (a file not open is not loaded for its signs).
local function loaded_buf(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  if not ok then
    return nil
  end
  local bufnr = vim.fn.bufnr(fname)
  if bufnr > 0 and vim.api.nvim_buf_is_loaded(bufnr) then
    return bufnr
  end
  return nil
end

--- Redraws the signs of `bufnr` from the last codex/changes for `uri`.
local function draw_changes(bufnr, uri)
  vim.api.nvim_buf_clear_namespace(bufnr, M.changes_ns, 0, -1)
  local style = M.config.change_signs
  if not style then
    return
  end
  local count = vim.api.nvim_buf_line_count(bufnr)
  for _, hunk in ipairs(M.state.changes[uri] or {}) do
    local first, last = hunk.range.start.line, hunk.range["end"].line
    local deleted = last <= first
    if deleted then
      last = first + 1 -- lines removed: the sign goes on the line after them
    end
    for row = first, math.min(last, count) - 1 do
      pcall(vim.api.nvim_buf_set_extmark, bufnr, M.changes_ns, row, 0, {
        sign_text = deleted and style.deleted or style.text,
        sign_hl_group = style.hl,
        line_hl_group = not deleted and style.line_hl or nil,
        priority = 8, -- under diagnostics' signs
      })
    end
  end
end

--- codex/changes: the file's marked hunks now; only pending ones are drawn.
local function on_codex_changes(_, params)
  if type(params) ~= "table" or type(params.uri) ~= "string" then
    return vim.NIL
  end
  local pending = {}
  for _, hunk in ipairs(params.hunks or {}) do
    if hunk.status == "pending" and type(hunk.range) == "table" then
      table.insert(pending, hunk)
    end
  end
  M.state.changes[params.uri] = #pending > 0 and pending or nil
  local bufnr = loaded_buf(params.uri)
  if bufnr then
    draw_changes(bufnr, params.uri)
  end
  return vim.NIL
end

--- The pending hunks of `bufnr` meeting lines `line1`..`line2` (1-based, inclusive).
function M.changes_at(bufnr, line1, line2)
  local found = {}
  local uri = vim.uri_from_bufnr(bufnr)
  for _, hunk in ipairs(M.state.changes[uri] or {}) do
    local first, last = hunk.range.start.line, hunk.range["end"].line
    if last <= first then
      last = first + 1 -- deleted lines: the hunk is on the line after them
    end
    if first < line2 and last > line1 - 1 then
      table.insert(found, hunk)
    end
  end
  return found
end

--- `:CodexKeep` / `:CodexRevert` (with a range: every hunk it meets): keeps or reverts
--- the agent's change at the cursor.
local function on_hunks(command, verb)
  return function(opts)
    local bufnr = vim.api.nvim_get_current_buf()
    local hunks = M.changes_at(bufnr, opts.line1, opts.line2)
    if #hunks == 0 then
      notify("no pending Codex change here", vim.log.levels.WARN)
      return
    end
    for _, hunk in ipairs(hunks) do
      M.exec(command, { id = hunk.id }, function(err, result)
        if err then
          notify(verb .. " failed: " .. (err.message or ""), vim.log.levels.ERROR)
          return
        end
        M.state.last_change_command = { command = command, id = hunk.id, result = result }
        local conflicts = result and result.conflicts or {}
        if #conflicts > 0 then
          notify("left as it is: your edits overlap the change", vim.log.levels.WARN)
        end
      end, bufnr)
    end
  end
end

M.keep = on_hunks("codex.keepChange", "keep")
M.revert = on_hunks("codex.revertChange", "revert")

-- The server ----------------------------------------------------------------------------------

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  caps.window.showMessage = caps.window.showMessage or {}
  caps.experimental = caps.experimental or {}
  if M.config.approvals == "codex" then
    caps.experimental.codexApprovals = true
  end
  -- codex-lsp renders the transcript and sends each turn's updates (codex/transcript).
  caps.experimental.codexTranscript = true
  -- The model, the context's fill and the rate limits for the statusline (codex/status).
  caps.experimental.codexStatus = true
  -- The agent's changes as hunks to draw in the sign column (codex/changes).
  caps.experimental.codexChanges = true
  return caps
end

local function init_options()
  local options = vim.deepcopy(M.config.settings or {})
  if options.streamEvents == nil then
    options.streamEvents = true
  end
  return options
end

--- codex-lsp's messages (a queued ask, a retry, a failure…) through vim.notify, so that they
--- reach notification plugins and are not hidden at once by the progress echoes, as
--- Neovim's own handler (an echo into :messages) would have them.
local function on_show_message(_, params)
  if type(params) ~= "table" or type(params.message) ~= "string" then
    return vim.NIL
  end
  local levels = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }
  local message = params.message
  if not message:match("^[Cc]odex") then
    message = "Codex: " .. message
  end
  vim.notify(message, levels[params.type] or vim.log.levels.INFO)
  return vim.NIL
end

local function handlers()
  return {
    ["window/showMessage"] = on_show_message,
    ["codex/event"] = on_event,
    ["codex/turnCompleted"] = on_turn_completed,
    ["codex/transcript"] = on_transcript,
    ["codex/status"] = on_codex_status,
    ["codex/changes"] = on_codex_changes,
    ["codex/approval"] = guarded("the approval prompt", on_codex_approval, function()
      return { decision = "decline" }
    end),
    ["window/showMessageRequest"] = guarded("the approval prompt", on_show_message_request, function()
      return vim.NIL
    end),
  }
end

local function root_for(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local root = name ~= "" and vim.fs.root and vim.fs.root(bufnr, M.config.root_markers) or nil
  if not root and name ~= "" and not vim.fs.root then
    local found = vim.fs.find(M.config.root_markers, { upward = true, path = vim.fs.dirname(name) })[1]
    root = found and vim.fs.dirname(found) or nil
  end
  return root or vim.fn.getcwd()
end

local function server_config()
  return {
    name = NAME,
    cmd = M.config.cmd,
    filetypes = M.config.filetypes,
    init_options = init_options(),
    -- An empty Lua table would go out as a JSON array.
    -- The same settings answer workspace/configuration (which codex-lsp re-reads on
    -- didChangeConfiguration), so `streamEvents` must be there too.
    settings = { codex = init_options() },
    capabilities = capabilities(),
    handlers = handlers(),
  }
end

local initialized = false
local create_commands -- below, with the commands

--- A buffer opened after its codex/changes came gets its signs.
local function on_buf_read(args)
  local uri = vim.uri_from_bufnr(args.buf)
  if M.state.changes[uri] then
    draw_changes(args.buf, uri)
  end
end

--- What setup() and lsp/codex.lua both need besides the server: the :Codex* commands and
--- the progress echo.
local function init_once()
  if initialized then
    return
  end
  initialized = true
  local group = vim.api.nvim_create_augroup("codex", { clear = true })
  vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = on_progress })
  vim.api.nvim_create_autocmd("BufReadPost", { group = group, callback = on_buf_read })
  create_commands()
end

--- The server's configuration for Neovim 0.11's `vim.lsp.config` (lsp/codex.lua returns it),
--- so that `vim.lsp.enable("codex")` alone works. Settings go in `settings.codex`; they are
--- sent as initializationOptions too (before_init), so `vim.lsp.config("codex", { settings =
--- { codex = { model = … } } })` is all a user writes.
function M.lsp_config()
  init_once()
  local config = server_config()
  config.root_dir = function(bufnr, on_dir)
    on_dir(root_for(bufnr))
  end
  config.before_init = function(params, resolved)
    local options = vim.deepcopy((resolved.settings or {}).codex or {})
    if options.streamEvents == nil then
      options.streamEvents = true
    end
    params.initializationOptions = options
  end
  return config
end

local function attachable(bufnr)
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return false
  end
  if vim.api.nvim_buf_get_name(bufnr):match("^%a+://") then
    return false
  end
  local fts = M.config.filetypes
  return fts == nil or vim.tbl_contains(fts, vim.bo[bufnr].filetype)
end

local function register_server()
  if vim.lsp.config and vim.lsp.enable then
    -- Neovim 0.11+: the built-in registry (users can still override it with lsp/codex.lua).
    -- It starts on FileType, so a buffer without a filetype gets no codex-lsp.
    vim.lsp.config(NAME, M.lsp_config())
    vim.lsp.enable(NAME)
    return
  end
  -- Neovim 0.10: start (or reuse) the client on each file buffer.
  local group = vim.api.nvim_create_augroup("codex.start", { clear = true })
  local function start(bufnr)
    if not attachable(bufnr) then
      return
    end
    local config = server_config()
    config.root_dir = root_for(bufnr)
    config.workspace_folders = { { uri = vim.uri_from_fname(config.root_dir), name = config.root_dir } }
    vim.lsp.start(config, { bufnr = bufnr })
  end
  vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile", "FileType" }, {
    group = group,
    callback = function(args)
      start(args.buf)
    end,
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      start(bufnr)
    end
  end
end

-- Commands ------------------------------------------------------------------------------------

--- The LSP range of a command's range (visual selection or lines) in `bufnr`.
local function range_of(opts, bufnr, encoding)
  local line1, line2 = opts.line1, opts.line2
  local start_col, end_col -- bytes, 0-based, end exclusive
  local vs, ve = vim.fn.getpos("'<"), vim.fn.getpos("'>")
  local charwise = vim.fn.visualmode() == "v" and vs[2] == line1 and ve[2] == line2
  local last_line = vim.api.nvim_buf_get_lines(bufnr, line2 - 1, line2, false)[1] or ""
  if charwise then
    start_col = vs[3] - 1
    -- '> is the last selected character; include all its bytes.
    local char_end = vim.fn.byteidx(last_line, vim.fn.charidx(last_line, math.min(ve[3] - 1, #last_line)) + 1)
    end_col = char_end >= 0 and char_end or #last_line
  else
    start_col, end_col = 0, #last_line
  end
  local function pos(row, col)
    return { line = row, character = vim.lsp.util.character_offset(bufnr, row, col, encoding) }
  end
  return { start = pos(line1 - 1, start_col), ["end"] = pos(line2 - 1, end_col) }
end

--- Sends `command` (codex.ask or codex.review), which starts a turn (or is queued behind
--- the running one: codex-lsp tells the user). The transcript shows it from codex-lsp's
--- updates. `failed` takes an error.
local function start_turn(command, argument, bufnr, failed)
  if M.config.open_transcript then
    M.open_transcript()
  end
  if #parts == 0 then
    -- The thread's earlier turns first (quietly: a new folder has none).
    load_transcript(nil, bufnr, true)
  end
  M.exec(command, argument, function(err, result)
    if err then
      failed(err)
      return
    end
    result = result or {}
    M.state.thread_id = result.threadId or M.state.thread_id
    if result.status == "queued" then
      set_status(("Codex: queued (%s)"):format(tostring(result.position or "waiting")))
      return
    end
    if result.turnId == nil then
      return
    end
    if not (M.state.last_turn and M.state.last_turn.turnId == result.turnId) then
      M.state.running[result.turnId] = result.threadId or true
    end
    set_status("Codex: thinking")
  end, bufnr)
end

--- `:CodexAsk [prompt]`, with a range for context.
function M.ask(opts)
  opts = opts or {}
  local bufnr = vim.api.nvim_get_current_buf()
  local argument = {}
  local client = M.client(bufnr)
  if vim.api.nvim_buf_get_name(bufnr) ~= "" and vim.bo[bufnr].buftype == "" then
    argument.uri = vim.uri_from_bufnr(bufnr)
    if opts.range and opts.range > 0 and client then
      argument.range = range_of(opts, bufnr, client.offset_encoding or "utf-16")
    end
  end
  local function go(prompt)
    if not prompt or vim.trim(prompt) == "" then
      return
    end
    argument.prompt = prompt
    start_turn("codex.ask", argument, bufnr, function(err)
      notify("ask failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
    end)
  end
  if opts.args and opts.args ~= "" then
    go(opts.args)
  else
    vim.ui.input({ prompt = "Ask Codex: " }, go)
  end
end

function M.interrupt()
  M.exec("codex.interrupt", {}, function(err, result)
    if err then
      notify("interrupt failed: " .. (err.message or ""), vim.log.levels.ERROR)
      return
    end
    if result and result.interrupted and #result.interrupted == 0 then
      notify("no turn is running")
    end
  end)
end

function M.steer(opts)
  local function go(prompt)
    if prompt and vim.trim(prompt) ~= "" then
      M.exec("codex.steer", { prompt = prompt })
    end
  end
  if opts and opts.args and opts.args ~= "" then
    go(opts.args)
  else
    vim.ui.input({ prompt = "Steer Codex: " }, go)
  end
end

local function buffer_uri()
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.api.nvim_buf_get_name(bufnr) ~= "" and vim.bo[bufnr].buftype == "" then
    return vim.uri_from_bufnr(bufnr)
  end
end

function M.new_thread()
  M.exec("codex.newThread", { uri = buffer_uri() }, function(err, result)
    if err then
      notify("new thread failed: " .. (err.message or ""), vim.log.levels.ERROR)
      return
    end
    M.state.thread_id = result.threadId
    -- The transcript shows the new thread: nothing yet.
    parts = {}
    redraw_all()
    notify("new thread " .. tostring(result.threadId))
  end)
end

local function thread_label(t)
  local text = t.name or t.preview or t.title or ""
  if type(text) ~= "string" or text == "" then
    text = "(no preview)"
  end
  text = text:gsub("%s+", " ")
  if #text > 70 then
    text = text:sub(1, 67) .. "..."
  end
  local when = t.updatedAt or t.createdAt
  if type(when) == "number" then
    when = os.date("%Y-%m-%d %H:%M", when > 1e12 and math.floor(when / 1000) or when)
  end
  return (when and (tostring(when) .. "  ") or "") .. text
end

function M.resume()
  local uri = buffer_uri()
  M.exec("codex.listThreads", { uri = uri }, function(err, result)
    if err then
      notify("listing threads failed: " .. (err.message or ""), vim.log.levels.ERROR)
      return
    end
    local threads = (result and (result.data or result.threads)) or {}
    if #threads == 0 then
      notify("no threads for this workspace yet")
      return
    end
    vim.ui.select(threads, { prompt = "Resume Codex thread", format_item = thread_label }, function(t)
      if not t then
        return
      end
      M.exec("codex.resumeThread", { threadId = t.id, uri = uri }, function(e)
        if e then
          notify("resume failed: " .. (e.message or ""), vim.log.levels.ERROR)
        else
          M.state.thread_id = t.id
          load_transcript(t.id)
          notify("resumed thread " .. t.id)
        end
      end)
    end)
  end)
end

--- `:CodexReview`: asks codex-lsp for a review of the workspace's uncommitted changes.
function M.review(opts)
  local argument = { uri = buffer_uri() }
  if opts and opts.args and opts.args ~= "" then
    argument.target = { instructions = opts.args }
  end
  start_turn("codex.review", argument, nil, function(err)
    local message = err.message or ""
    if message:match("unknown command") then
      notify("this codex-lsp has no review command (codex.review); update codex-lsp", vim.log.levels.WARN)
    else
      notify("review failed: " .. message, vim.log.levels.ERROR)
    end
  end)
end

--- `:CodexClearReview`: removes every review finding (the diagnostics with source codex).
function M.clear_review()
  M.exec("codex.clearReview", {}, function(err, result)
    if err then
      notify("clear review failed: " .. (err.message or ""), vim.log.levels.ERROR)
      return
    end
    notify(("cleared %d review finding(s)"):format(result and result.cleared or 0))
  end)
end

function M.login(opts)
  local function with(method)
    if method == "apiKey" then
      local key = vim.fn.inputsecret("OpenAI API key: ")
      if key == "" then
        return
      end
      M.exec("codex.login", { method = "apiKey", apiKey = key })
    elseif method then
      M.exec("codex.login", { method = method })
    end
  end
  local arg = opts and opts.args or ""
  local methods = { apikey = "apiKey", chatgpt = "chatgpt", device = "deviceCode", devicecode = "deviceCode" }
  if arg ~= "" then
    local method = methods[arg:lower()]
    if not method then
      notify("login method is one of apikey, chatgpt, device", vim.log.levels.ERROR)
      return
    end
    return with(method)
  end
  vim.ui.select({ "chatgpt", "deviceCode", "apiKey" }, {
    prompt = "Log in to Codex with",
    format_item = function(m)
      return ({ chatgpt = "ChatGPT (browser)", deviceCode = "ChatGPT device code (remote machines)", apiKey = "API key" })[m]
    end,
  }, with)
end

function M.logout()
  M.exec("codex.logout", {}, function(err)
    if err then
      notify("logout failed: " .. (err.message or ""), vim.log.levels.ERROR)
    else
      notify("logged out")
    end
  end)
end

--- :CodexModel [model [effort]]: without arguments, pick the model then its effort with
--- vim.ui.select from what codex-lsp's app-server offers (codex.listModels).
function M.model_command(opts)
  local args = opts and opts.fargs or {}
  local function set(model, effort)
    M.exec("codex.setModel", { model = model, effort = effort }, function(err, result)
      if err then
        notify("model: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      elseif result and result.changed then
        notify(("model %s%s from the next turn"):format(
          result.model or "default",
          type(result.effort) == "string" and (", effort " .. result.effort) or ""
        ))
      end
    end)
  end
  if #args > 0 then
    return set(args[1], args[2])
  end
  M.exec("codex.listModels", {}, function(err, result)
    if err or not result then
      return notify("models: " .. ((err and err.message) or "no answer"), vim.log.levels.ERROR)
    end
    local models = vim.tbl_filter(function(m)
      return not m.hidden
    end, result.models or {})
    vim.schedule(function()
      vim.ui.select(models, {
        prompt = "Codex model",
        kind = "codex.model",
        format_item = function(m)
          return m.id
        end,
      }, function(model)
        if not model then
          return
        end
        local efforts = {}
        for _, e in ipairs(model.supportedReasoningEfforts or {}) do
          table.insert(efforts, e.reasoningEffort)
        end
        if #efforts == 0 then
          return set(model.id, nil)
        end
        vim.ui.select(efforts, { prompt = "Reasoning effort for " .. model.id, kind = "codex.effort" }, function(effort)
          set(model.id, effort)
        end)
      end)
    end)
  end)
end

function M.transcript_command()
  local from = vim.api.nvim_get_current_buf()
  local win = M.open_transcript()
  vim.api.nvim_set_current_win(win)
  if #parts == 0 then
    -- Nothing shown in this session: the workspace thread's history. Without a threadId
    -- codex-lsp reads the folder's thread: after a restart, the last one (no :CodexResume).
    load_transcript(nil, from)
  end
end

--- `:CodexInstallRuntime`: codex-lsp installs the pinned Codex runtime into its cache (the
--- download shows as LSP progress; a message says where it went).
function M.install_runtime()
  M.exec("codex.installRuntime", {}, function(err)
    if err then
      notify("installing the runtime failed: " .. (err.message or ""), vim.log.levels.ERROR)
    else
      notify("installing the Codex runtime…")
    end
  end)
end

--- The quickfix items of a `codex.listChanges` answer: one per hunk, newest turn first, at
--- the line the agent left it ("turn N: +a −b", its status when not pending, the prompt).
function M.change_items(result)
  local items = {}
  for _, turn in ipairs(result and result.turns or {}) do
    for _, file in ipairs(turn.files or {}) do
      local name = file.uri and vim.uri_to_fname(file.uri) or file.path
      for _, hunk in ipairs(file.hunks or {}) do
        local status = hunk.status == "pending" and "" or (" (" .. tostring(hunk.status) .. ")")
        table.insert(items, {
          filename = name,
          lnum = (hunk.afterLines and hunk.afterLines[1] or 0) + 1,
          text = ("turn %d: +%d −%d%s %q"):format(turn.turn or 0, hunk.added or 0, hunk.removed or 0, status, turn.prompt or ""),
          user_data = { id = hunk.id, turnId = turn.turnId },
        })
      end
    end
  end
  return items
end

--- `:CodexChanges`: every change the agent made that codex-lsp still records, in the
--- quickfix list (keep or revert one with the code actions on its line).
function M.changes()
  M.exec("codex.listChanges", {}, function(err, result)
    if err then
      notify("listing the changes failed: " .. (err.message or ""), vim.log.levels.ERROR)
      return
    end
    local items = M.change_items(result)
    vim.fn.setqflist({}, " ", { title = "Codex changes", items = items })
    if #items == 0 then
      notify("no changes recorded")
    else
      vim.cmd("botright copen")
    end
  end)
end

--- `:CodexUndoTurn [turnId]`: reverts every change of the turn (default: the newest with
--- changes left), keeping your later edits; says what was reverted and what conflicted.
function M.undo_turn(opts)
  local argument = {}
  if opts and opts.args and opts.args ~= "" then
    argument.turnId = opts.args
  end
  M.exec("codex.undoTurn", argument, function(err, result)
    if err then
      notify("undo failed: " .. (err.message or ""), vim.log.levels.ERROR)
      return
    end
    result = result or {}
    local conflicts = result.conflicts or {}
    local message = ("undid %d file(s) of the turn"):format(#(result.reverted or {}))
    if #conflicts > 0 then
      message = message .. (", %d left as they are (your edits overlap)"):format(#conflicts)
    end
    M.state.last_undo = result
    notify(message, #conflicts > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
  end)
end

function create_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd("CodexAsk", M.ask, { nargs = "*", range = true, desc = "Ask Codex (a range or visual selection is the context)" })
  cmd("CodexInterrupt", M.interrupt, { desc = "Interrupt the running Codex turn" })
  cmd("CodexSteer", M.steer, { nargs = "*", desc = "Add input to the running Codex turn" })
  cmd("CodexNewThread", M.new_thread, { desc = "Start a new Codex thread for this workspace" })
  cmd("CodexResume", M.resume, { desc = "Resume one of this workspace's Codex threads" })
  cmd("CodexReview", M.review, { nargs = "*", desc = "Ask Codex to review the uncommitted changes" })
  cmd("CodexClearReview", M.clear_review, { desc = "Remove every Codex review finding" })
  cmd("CodexChanges", M.changes, { desc = "List the changes Codex made in the quickfix list" })
  cmd("CodexKeep", M.keep, { range = true, desc = "Keep the Codex change at the cursor (or in the range)" })
  cmd("CodexRevert", M.revert, { range = true, desc = "Revert the Codex change at the cursor (or in the range)" })
  cmd("CodexUndoTurn", M.undo_turn, { nargs = "?", desc = "Undo a Codex turn (default: the last one)" })
  cmd("CodexLogin", M.login, {
    nargs = "?",
    complete = function()
      return { "chatgpt", "device", "apikey" }
    end,
    desc = "Log in to Codex",
  })
  cmd("CodexLogout", M.logout, { desc = "Log out of Codex" })
  cmd("CodexInstallRuntime", M.install_runtime, { desc = "Install the Codex runtime codex-lsp is tested with" })
  cmd("CodexTranscript", M.transcript_command, { desc = "Open the Codex transcript" })
  cmd("CodexModel", M.model_command, { nargs = "*", desc = "Choose the Codex model and effort for the next turns" })
end

--- Sets codex.nvim up: registers codex-lsp and the :Codex* commands.
---@param opts codex.Config?
function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  -- Lists replace rather than merge.
  if opts and opts.cmd then
    M.config.cmd = opts.cmd
  end
  if opts and opts.root_markers then
    M.config.root_markers = opts.root_markers
  end
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes
  end
  init_once()
  register_server()
end

return M
