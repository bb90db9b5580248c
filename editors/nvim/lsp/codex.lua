-- codex-lsp for Neovim 0.11+'s `vim.lsp.enable("codex")`: with editors/nvim on the runtime
-- path, this file is the server's base configuration (the :Codex* commands come with it).
-- Settings (docs/lsp.md) go in `settings.codex`:
--
--   vim.lsp.config("codex", { settings = { codex = { model = "gpt-5.5" } } })
--   vim.lsp.enable("codex")
--
-- `cmd` defaults to `codex-lsp --stdio` from PATH. See docs/editors/neovim.md.
return require("codex").lsp_config()
