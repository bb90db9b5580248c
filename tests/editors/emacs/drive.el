;;; drive.el --- tests/editor_emacs.rs: codex.el + eglot in batch Emacs  -*- lexical-binding: t; -*-
;; Runs one scenario ($CODEX_TEST_SCENARIO) and writes what it saw to $CODEX_TEST_RESULT.
(require 'json)
(defvar drive-progress nil "Every $/progress value eglot handled, newest first.")
(defvar drive-statuses nil "Every `codex-status', newest first.")

(defun drive-wait (seconds what predicate)
  (let ((deadline (+ (float-time) seconds)))
    (while (not (funcall predicate))
      (when (> (float-time) deadline) (error "timed out after %ss waiting for %s" seconds what))
      (accept-process-output nil 0.05))))

(defun drive-diagnostics ()
  "The current buffer's eglot diagnostics: line, Flymake type and text."
  (vconcat
   (mapcar (lambda (d)
             (list :line (line-number-at-pos (flymake-diagnostic-beg d))
                   :type (symbol-name (flymake-diagnostic-type d))
                   :text (flymake-diagnostic-text d)))
           eglot--diagnostics)))

(defun drive-write (result)
  (with-temp-file (getenv "CODEX_TEST_RESULT")
    (insert (json-encode result))))

(let ((result nil) (ok nil))
  (condition-case err
      (progn
        (load (getenv "CODEX_TEST_EL") nil t)
        (setq codex-lsp-program (getenv "CODEX_TEST_LSP"))
        (setq codex-show-transcript nil)
        (codex-eglot-setup '(python-mode python-ts-mode))
        (advice-add 'eglot-handle-notification :before
                    (lambda (_server method &rest params)
                      (when (eq method '$/progress)
                        (push (plist-get params :value) drive-progress))))
        (add-variable-watcher 'codex-status
                              (lambda (_sym new _op _where) (push new drive-statuses)))
        (find-file (expand-file-name "main.py" (getenv "CODEX_TEST_WORKSPACE")))
        (apply #'eglot (eglot--guess-contact))
        (drive-wait 30 "eglot to connect" (lambda () (eglot-current-server)))
        (push (cons 'server (jsonrpc-name (eglot-current-server))) result)
        (pcase (getenv "CODEX_TEST_SCENARIO")
          ("ask"
           (goto-char (point-min))
           (end-of-line)
           (insert " (unsaved)")
           ;; Interactively eglot sends pending changes after 0.5 s of idle time; batch mode
           ;; is never idle, so flush them as that timer would.
           (eglot--signal-textDocument/didChange)
           (goto-char (point-min))
           (forward-line 1)
           (let ((beg (point)))
             (end-of-line)
             (codex-ask "emacs region ask" beg (point))))
          ("interrupt"
           (codex-ask "hang forever")
           (drive-wait 30 "progress to begin"
                       (lambda () (cl-some (lambda (v) (equal (plist-get v :kind) "begin")) drive-progress)))
           (push (cons 'interrupt (codex-interrupt)) result))
          ("review"
           (codex-review)
           (drive-wait 40 "the review to complete" (lambda () codex-last-turn))
           ;; What eglot hands Flymake for this buffer.
           (drive-wait 20 "the findings as diagnostics" (lambda () eglot--diagnostics))
           (push (cons 'diagnostics (drive-diagnostics)) result)
           (push (cons 'actions
                       (vconcat
                        (mapcar (lambda (a) (plist-get a :title))
                                (let ((d (car eglot--diagnostics)))
                                  (eglot-code-actions (flymake-diagnostic-beg d)
                                                      (flymake-diagnostic-end d)
                                                      nil nil)))))
                 result)
           (push (cons 'cleared (codex-clear-review)) result)
           (drive-wait 20 "the findings to be cleared" (lambda () (null eglot--diagnostics)))))
        (drive-wait 40 "the turn to complete" (lambda () codex-last-turn))
        (setq ok t))
    (error (push (cons 'error (error-message-string err)) result)))
  (push (cons 'last_turn codex-last-turn) result)
  (push (cons 'progress (vconcat (reverse drive-progress))) result)
  (push (cons 'statuses (vconcat (reverse drive-statuses))) result)
  (push (cons 'status codex-status) result)
  (ignore-errors
    (push (cons 'events (with-current-buffer (jsonrpc-events-buffer (eglot-current-server))
                          (buffer-substring-no-properties (point-min) (point-max))))
          result))
  (push (cons 'messages (with-current-buffer "*Messages*"
                          (buffer-substring-no-properties (point-min) (point-max))))
        result)
  (push (cons 'buffer (with-current-buffer "main.py"
                        (buffer-substring-no-properties (point-min) (point-max))))
        result)
  (push (cons 'transcript (with-current-buffer (codex--transcript-buffer) (buffer-string))) result)
  (drive-write result)
  (kill-emacs (if ok 0 1)))
