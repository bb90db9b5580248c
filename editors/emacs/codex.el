;;; codex.el --- Drive the Codex agent through codex-lsp and eglot  -*- lexical-binding: t; -*-

;; Requires: emacs "29.1", eglot "1.15" (Emacs 30 has eglot 1.17 built in)
;; Keywords: tools, ai, lsp
;; See docs/editors/emacs.md.

;;; Commentary:

;; codex-lsp is a language server; eglot talks to it.  This file adds what eglot does not
;; do by itself: the codex.* commands with their arguments (the region as context), the
;; streamed reply in a *codex* buffer (from `codex/event' and `codex/turnCompleted'), and
;; a mode-line string with the agent's progress.
;;
;;   (require 'codex)
;;   (codex-eglot-setup '(python-mode python-ts-mode))   ; modes to run codex-lsp in
;;
;; Eglot runs one server per buffer: in those modes codex-lsp replaces the usual one.

;;; Code:

(require 'eglot)
(require 'cl-lib)
(require 'subr-x)

(defgroup codex nil "Codex through codex-lsp." :group 'tools)

(defcustom codex-lsp-program "codex-lsp"
  "The codex-lsp executable."
  :type 'string)

(defcustom codex-settings nil
  "codex-lsp settings (docs/lsp.md) as a plist, e.g. (:model \"gpt-5.5\" :sandbox \"workspace-write\").
Sent as initializationOptions; `:streamEvents' is added."
  :type 'plist)

(defcustom codex-show-transcript t
  "Whether asking shows the *codex* buffer."
  :type 'boolean)

(defvar codex-status ""
  "What the agent does now (\"\" when idle); for the mode line.")

(defvar codex-last-turn nil
  "The params of the last `codex/turnCompleted', a plist.")

(defvar codex-thread-id nil "The thread of the last ask.")

(defvar codex--streamed (make-hash-table :test #'equal)
  "Turn ids whose reply came as deltas.")

(defconst codex--transcript "*codex*")

(defun codex--initialization-options ()
  (let ((options (copy-sequence codex-settings)))
    (unless (plist-member options :streamEvents)
      (setq options (plist-put options :streamEvents t)))
    options))

(defclass codex-lsp-server (eglot-lsp-server) ()
  :documentation "codex-lsp: eglot, plus how the agent's edits reach buffers.")

;;;###autoload
(defun codex-eglot-setup (modes)
  "Make eglot run codex-lsp for MODES (a list of major modes)."
  (add-to-list 'eglot-server-programs
               (cons modes
                     (lambda (&rest _)
                       (list 'codex-lsp-server codex-lsp-program "--stdio"
                             :initializationOptions (codex--initialization-options))))))

(cl-defmethod eglot-handle-request
  ((_server codex-lsp-server) (_method (eql workspace/applyEdit)) &key _label edit)
  "Apply the agent's change, merged by codex-lsp into an open buffer.
The file on disk already holds the agent's change and the edit brings the buffer to
\"your unsaved edits + that change\", so the buffer now stands on the file as it is
on disk: no confirmation (the change is made), no \"changed on disk\" question, and
the buffer's file time moves to the file's, so saving later asks nothing either."
  (condition-case err
      (progn
        (seq-doseq (document-edit (plist-get edit :documentChanges))
          (let* ((document (plist-get document-edit :textDocument))
                 (uri (plist-get document :uri))
                 (path (if (fboundp 'eglot-uri-to-path)
                           (eglot-uri-to-path uri)
                         (with-no-warnings (eglot--uri-to-path uri))))
                 (buffer (find-buffer-visiting path)))
            (unless buffer
              (error "%s is not open" path))
            (with-current-buffer buffer
              (eglot--apply-text-edits (plist-get document-edit :edits)
                                       (plist-get document :version))
              (set-visited-file-modtime)
              ;; codex-lsp waits for the change to come back before its next step;
              ;; send it now rather than after eglot's idle delay.
              (eglot--signal-textDocument/didChange))))
        '(:applied t))
    (error (list :applied :json-false
                 :failureReason (error-message-string err)))))

(defun codex--server ()
  (or (eglot-current-server)
      (user-error "codex-lsp is not running here: M-x eglot in a buffer of `codex-eglot-setup' modes")))

(defun codex--command (command &optional argument)
  "Run codex-lsp COMMAND with ARGUMENT (a plist) and return its result."
  (jsonrpc-request (codex--server) :workspace/executeCommand
                   (list :command command
                         :arguments (if argument (vector argument) []))))

(defun codex--buffer-uri ()
  (when buffer-file-name
    (if (fboundp 'eglot-path-to-uri)
        (eglot-path-to-uri buffer-file-name)
      (with-no-warnings (eglot--path-to-uri buffer-file-name)))))

;;; Transcript

(defun codex--transcript-buffer ()
  (or (get-buffer codex--transcript)
      (with-current-buffer (get-buffer-create codex--transcript)
        (when (fboundp 'markdown-mode) (ignore-errors (markdown-mode)))
        (current-buffer))))

(defun codex--append (text)
  (with-current-buffer (codex--transcript-buffer)
    (let ((inhibit-read-only t))
      (save-excursion (goto-char (point-max)) (insert text)))))

(defun codex-transcript ()
  "Show the *codex* buffer."
  (interactive)
  (display-buffer (codex--transcript-buffer)))

;;; Status

(defun codex--set-status (text)
  (setq codex-status text)
  (force-mode-line-update t))

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql $/progress)) &key token value &allow-other-keys)
  "Keep `codex-status' from codex-lsp's turn progress."
  (when (and (stringp token) (string-prefix-p "codex-lsp/turn/" token))
    (let ((kind (plist-get value :kind))
          (message (or (plist-get value :message) (plist-get value :title) "")))
      (codex--set-status (concat "Codex: " (if (equal kind "end") message message))))))

(cl-defmethod eglot-handle-notification
  (_server (_method (eql codex/event)) &key turnId method params &allow-other-keys)
  "Stream the agent's reply into *codex*."
  (when (equal method "item/agentMessage/delta")
    (unless (gethash turnId codex--streamed)
      (puthash turnId t codex--streamed)
      (codex--append "\n"))
    (codex--append (or (plist-get params :delta) ""))))

(cl-defmethod eglot-handle-notification
  (_server (_method (eql codex/turnCompleted)) &rest params &key turnId status finalResponse
           durationMs &allow-other-keys)
  "Finish the turn in *codex*."
  (unless (gethash turnId codex--streamed)
    (when (stringp finalResponse) (codex--append (concat "\n" finalResponse))))
  (remhash turnId codex--streamed)
  (codex--append (format "\n\n-- %s%s\n" status
                         (if (numberp durationMs) (format " in %.1f s" (/ durationMs 1000.0)) "")))
  (setq codex-last-turn params)
  (run-hook-with-args 'codex-turn-completed-functions params))

(defvar codex-turn-completed-functions nil
  "Called with the plist of each `codex/turnCompleted'.")

;;; Commands

(defun codex-ask (prompt &optional beg end)
  "Ask Codex PROMPT; with an active region (or BEG and END) it is the context."
  (interactive
   (list (read-string "Ask Codex: ")
         (and (use-region-p) (region-beginning))
         (and (use-region-p) (region-end))))
  (let ((argument (list :prompt prompt))
        (uri (codex--buffer-uri)))
    (when uri
      (setq argument (plist-put argument :uri uri))
      (when (and beg end)
        (setq argument
              (plist-put argument :range
                         (list :start (eglot--pos-to-lsp-position beg)
                               :end (eglot--pos-to-lsp-position end))))))
    (codex--append (format "\n## %s\n" (car (split-string prompt "\n"))))
    (when codex-show-transcript (codex-transcript))
    (let ((started (codex--command "codex.ask" argument)))
      (setq codex-thread-id (plist-get started :threadId))
      (codex--set-status "Codex: thinking")
      started)))

(defun codex-interrupt ()
  "Interrupt every running Codex turn."
  (interactive)
  (let* ((result (codex--command "codex.interrupt" (make-hash-table)))
         (n (length (plist-get result :interrupted))))
    (message (if (zerop n) "Codex: no turn is running" "Codex: interrupted"))
    result))

(defun codex-steer (prompt)
  "Add PROMPT to the running turn."
  (interactive (list (read-string "Steer Codex: ")))
  (codex--command "codex.steer" (list :prompt prompt)))

(defun codex-new-thread ()
  "Start a new Codex thread for this workspace."
  (interactive)
  (let ((result (codex--command "codex.newThread"
                                (if (codex--buffer-uri) (list :uri (codex--buffer-uri)) (make-hash-table)))))
    (setq codex-thread-id (plist-get result :threadId))
    (message "Codex: new thread %s" codex-thread-id)
    result))

(defun codex-resume ()
  "Pick one of this workspace's threads and make it the workspace's thread."
  (interactive)
  (let* ((listed (codex--command "codex.listThreads"
                                 (if (codex--buffer-uri) (list :uri (codex--buffer-uri)) (make-hash-table))))
         (threads (append (or (plist-get listed :data) (plist-get listed :threads)) nil))
         (choices (mapcar (lambda (thread)
                            (cons (format "%s  %s" (plist-get thread :id)
                                          (string-replace "\n" " " (or (plist-get thread :preview) "")))
                                  (plist-get thread :id)))
                          threads)))
    (unless choices (user-error "Codex: no threads for this workspace yet"))
    (let ((id (cdr (assoc (completing-read "Resume Codex thread: " choices nil t) choices))))
      (codex--command "codex.resumeThread" (list :threadId id))
      (setq codex-thread-id id)
      (message "Codex: resumed %s" id))))

;;; Review

(defun codex-review (&optional instructions)
  "Ask Codex to review the workspace's uncommitted changes.
With a prefix argument, read INSTRUCTIONS and review by them instead.
When the review ends its findings are Flymake diagnostics (source
codex): `flymake-show-project-diagnostics' lists them, and
`eglot-code-actions' on one offers \"Codex: Fix this finding\" and
\"Codex: Dismiss\"."
  (interactive (list (when current-prefix-arg (read-string "Review instructions: "))))
  (let ((argument (if (codex--buffer-uri) (list :uri (codex--buffer-uri)) (make-hash-table))))
    (when (and instructions (not (string-empty-p instructions)))
      (setq argument (if (hash-table-p argument)
                         (list :target (list :instructions instructions))
                       (plist-put argument :target (list :instructions instructions)))))
    (codex--append (format "\n## Review%s\n" (if instructions (concat ": " instructions) "")))
    (when codex-show-transcript (codex-transcript))
    (let ((started (codex--command "codex.review" argument)))
      (setq codex-thread-id (plist-get started :threadId))
      (codex--set-status "Codex: reviewing")
      started)))

(defun codex-clear-review ()
  "Remove every Codex review finding."
  (interactive)
  (let ((result (codex--command "codex.clearReview" (make-hash-table))))
    (message "Codex: cleared %s review finding(s)" (plist-get result :cleared))
    result))

(defun codex-login (method)
  "Log in to Codex with METHOD: chatgpt, deviceCode or apiKey."
  (interactive (list (completing-read "Log in with: " '("chatgpt" "deviceCode" "apiKey") nil t)))
  (codex--command "codex.login"
                  (if (equal method "apiKey")
                      (list :method "apiKey" :apiKey (read-passwd "OpenAI API key: "))
                    (list :method method))))

(defun codex-logout ()
  "Log out of Codex."
  (interactive)
  (codex--command "codex.logout" (make-hash-table)))

(defun codex-status-report ()
  "Show codex-lsp's status (app-server, threads, turns, settings)."
  (interactive)
  (let ((status (codex--command "codex.status" (make-hash-table))))
    (with-current-buffer (get-buffer-create "*codex-status*")
      (erase-buffer)
      (insert (json-encode status))
      (ignore-errors (json-pretty-print-buffer))
      (display-buffer (current-buffer)))))

(provide 'codex)
;;; codex.el ends here
