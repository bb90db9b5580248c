-- :checkhealth codex
local M = {}

function M.check()
  local health = vim.health
  local codex = require("codex")
  health.start("codex.nvim")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.10 or newer is needed")
  end

  local cmd = codex.config.cmd or {}
  local exe = cmd[1] and vim.fn.exepath(cmd[1]) or ""
  if exe == "" then
    health.error(
      ("codex-lsp not found: %s"):format(cmd[1] or "(no cmd)"),
      { "put codex-lsp on PATH, or pass cmd = { '/path/to/codex-lsp' } to setup()" }
    )
  else
    health.ok("codex-lsp: " .. exe)
    -- `codex-lsp doctor` checks the runtime, the app-server and the account (a few seconds).
    local ok, result = pcall(function()
      return vim.system({ exe, "doctor" }, { text = true }):wait(20000)
    end)
    if not ok then
      health.warn("could not run `codex-lsp doctor`: " .. tostring(result))
    else
      local out = vim.trim((result.stdout or "") .. "\n" .. (result.stderr or ""))
      for _, line in ipairs(vim.split(out, "\n")) do
        if line ~= "" then
          health.info(line)
        end
      end
      if result.code == 0 then
        health.ok("`codex-lsp doctor` passed")
      elseif out:find("NOT READY:", 1, true) and out:find("not logged in", 1, true) then
        -- Everything runs, but there is no account: say that, not a generic failure.
        health.error("Codex is not logged in", {
          "log in with :CodexLogin (API key, ChatGPT or device code), or run `codex login`",
        })
      else
        health.error("`codex-lsp doctor` failed (exit " .. tostring(result.code) .. ")", {
          "install Codex with `npm install -g @openai/codex`, or set settings.codexPath",
          "log in with :CodexLogin",
        })
      end
    end
  end

  local client = codex.client()
  if client then
    health.ok(("codex-lsp is running (client %d, root %s)"):format(client.id, tostring(client.root_dir or client.config.root_dir)))
  else
    health.info("codex-lsp is not running yet: it starts when a file is opened")
  end
  if codex.config.approvals == "codex" then
    health.info("approvals: codex/approval prompts through vim.ui.select")
  else
    health.info("approvals: window/showMessageRequest prompts through vim.ui.select")
  end
end

return M
