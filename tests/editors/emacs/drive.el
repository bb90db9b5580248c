;;; drive.el --- tests/editor_emacs.rs: a window on an interactive Emacs  -*- lexical-binding: t; -*-
;; Loaded after the user's init file (the snippets of docs/editors/emacs.md) in an Emacs
;; running in tmux. It changes nothing of codex.el's behaviour: it records what the user
;; would see and starts a server so the test can ask, with emacsclient, for `drive-state'.
;; The user's actions (M-x codex-ask, answering a prompt, C-g) are keys sent by the test.
(require 'json)
(require 'server)

(defvar drive-progress nil "Every turn progress value codex.el handled, newest first.")
(defvar drive-turns nil "Every `codex/turnCompleted', newest first.")
(defvar drive-approvals nil "Every `codex/approval' asked, newest first.")

(advice-add 'codex--progress :before
            (lambda (params) (push (plist-get params :value) drive-progress)))
(add-hook 'codex-turn-completed-functions (lambda (params) (push params drive-turns)))
(add-hook 'codex-approval-functions (lambda (params) (push params drive-approvals)))

(setq server-socket-dir (getenv "CODEX_TEST_SERVER_DIR"))
(server-start)

(defun drive-later (function &rest args)
  "Run FUNCTION with ARGS from the command loop (not inside emacsclient's request)."
  (run-at-time 0 nil (lambda () (apply function args)))
  t)

(defun drive-diagnostics (buffer)
  "BUFFER's Flymake diagnostics of every backend: line, type, text, backend."
  (with-current-buffer buffer
    (vconcat
     (mapcar (lambda (d)
               (list :line (line-number-at-pos (flymake-diagnostic-beg d))
                     :type (format "%s" (flymake-diagnostic-type d))
                     :text (flymake-diagnostic-text d)
                     :backend (format "%s" (flymake-diagnostic-backend d))))
             (and (bound-and-true-p flymake-mode) (flymake-diagnostics))))))

(defun drive-buffer-state (buffer)
  (with-current-buffer buffer
    (list :name (buffer-name)
          :text (save-restriction (widen) (buffer-substring-no-properties (point-min) (point-max)))
          :modified (if (buffer-modified-p) t :json-false)
          :codex (if (bound-and-true-p codex-mode) t :json-false)
          :codex_version (bound-and-true-p codex--version)
          :eglot (if (and (fboundp 'eglot-current-server) (eglot-current-server))
                     (string-join (process-command (jsonrpc--process (eglot-current-server))) " ")
                   :json-false)
          :diagnostics (drive-diagnostics buffer))))

(defun drive-completions (buffer prefix-end-regexp)
  "The candidates eglot's completion offers in BUFFER right after PREFIX-END-REGEXP."
  (with-current-buffer buffer
    (save-excursion
      (goto-char (point-min))
      (re-search-forward prefix-end-regexp)
      (let* ((capf (eglot-completion-at-point))
             (table (nth 2 capf))
             (prefix (buffer-substring-no-properties (nth 0 capf) (point))))
        (vconcat (all-completions prefix table))))))

(defun drive-state (&optional extra)
  "Write what the user would see to $CODEX_TEST_RESULT; EXTRA is a plist added to it."
  (let ((state
         (append
          extra
          (list
           :status codex-status
           :mode_line (codex-mode-line-text)
           ;; The minor mode's lighter as the mode line shows it.
           :lighter_shown (format-mode-line (cadr (assq 'codex-mode minor-mode-alist)))
           :misc_shown (format-mode-line mode-line-misc-info)
           :last_turn codex-last-turn
           :turns (vconcat (reverse drive-turns))
           :approvals (vconcat (reverse drive-approvals))
           :progress (vconcat (reverse drive-progress))
           :minibuffer (if (active-minibuffer-window) t :json-false)
           :buffers (vconcat (delq nil (mapcar (lambda (b)
                                                 (and (buffer-file-name b) (drive-buffer-state b)))
                                               (buffer-list))))
           :messages (with-current-buffer "*Messages*"
                       (buffer-substring-no-properties (point-min) (point-max)))
           :transcript (if (get-buffer "*codex*")
                           (with-current-buffer "*codex*" (buffer-string))
                         "")))))
    (with-temp-file (getenv "CODEX_TEST_RESULT")
      (let ((json-encoding-pretty-print nil))
        (insert (json-encode state)))))
  t)

(defun drive-eval (form-string)
  "Evaluate FORM-STRING and record its value (or error) as :value in the state."
  (let ((value (condition-case err
                   (eval (car (read-from-string form-string)) t)
                 (error (list :error (error-message-string err))))))
    (drive-state (list :value value))))
