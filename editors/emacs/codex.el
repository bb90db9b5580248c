;;; codex.el --- Drive the Codex agent through codex-lsp  -*- lexical-binding: t; -*-

;; Copyright (C) 2026 the codex-lsp authors

;; Author: the codex-lsp authors
;; Version: 0.1.0
;; Package-Requires: ((emacs "29.1") (jsonrpc "1.0.16"))
;; Keywords: tools, convenience
;; URL: https://github.com/OWNER/codex-lsp
;; SPDX-License-Identifier: Apache-2.0

;; The URL is a placeholder until the repository is published (OWNER).  Emacs 29.1 ships
;; jsonrpc 1.0.16, Emacs 30 ships 1.0.25; eglot is not required (codex.el works beside it).
;; This file is not part of GNU Emacs.

;;; Commentary:

;; codex-lsp is a language server.  Eglot runs one server per buffer, and that one is your
;; own (rust-analyzer, clangd, pyright…), so codex.el does not go through eglot: it keeps its
;; own connection to codex-lsp (jsonrpc.el) per project and syncs the buffers of
;; `codex-mode' itself.  Eglot, or any other package, goes on working in the same buffers.
;;
;;   (require 'codex)
;;   (setq codex-settings '(:approvalPolicy "untrusted" :sandbox "read-only"))
;;   (global-codex-mode 1)      ; every file buffer inside a project
;;
;; What codex.el handles: the codex.* commands (the region as context), the agent's edits
;; merged into open buffers (workspace/applyEdit), approvals as a minibuffer question whose
;; default and C-g both decline (with the diff shown for file changes), the turn's progress
;; in `codex-status', the streamed reply in *codex*, and codex-lsp's diagnostics (review
;; findings, conflicts) as a Flymake backend beside your language server's.

;;; Code:

(require 'jsonrpc)
(require 'cl-lib)
(require 'subr-x)
(require 'flymake)
(require 'url-util)
(require 'json)

(defgroup codex nil "Codex through codex-lsp." :group 'tools)

(defcustom codex-lsp-program "codex-lsp"
  "The codex-lsp executable."
  :type 'string)

(defcustom codex-settings nil
  "The codex-lsp settings (docs/lsp.md), as a plist.
For example (:model \"gpt-5.5\" :sandbox \"read-only\").  Sent as
initializationOptions and as the answer to `workspace/configuration'
\(section codex); `:streamEvents' is added.  After changing it, run
\\[codex-send-settings]."
  :type 'plist)

(defcustom codex-show-transcript t
  "Whether asking shows the *codex* buffer."
  :type 'boolean)

(defcustom codex-change-indicator 'auto
  "How the agent's pending changes (`codex/changes') are marked.
`fringe': a bar in the left fringe; `margin': a bar in the left margin
\(which is widened to show it); `auto': the fringe in a graphical frame,
the margin in a terminal; nil: not marked (the Flymake notes still are)."
  :type '(choice (const auto) (const fringe) (const margin) (const :tag "None" nil)))

(defface codex-change-indicator-face
  '((((class color) (background dark)) :foreground "gold")
    (((class color)) :foreground "dark orange")
    (t :weight bold))
  "The face of the bar marking a line the agent changed.")

(defcustom codex-change-highlight nil
  "A face for the whole lines of the agent's pending changes, or nil."
  :type '(choice (const :tag "None" nil) face))

(defcustom codex-change-delay 0.2
  "Seconds of idle time after which buffer changes are sent to codex-lsp.
Changes are also sent before every request and after every agent edit."
  :type 'number)

(defvar codex-status ""
  "What the agent does now (\"\" when idle); for the mode line.")

(defvar codex-meters nil
  "The last `codex/status' params, a plist.
The model and effort, the thread's tokens, the context's fill and the
rate limits; `:text' says them in one line.")

(defun codex-mode-line-text ()
  "Return the mode line's text for Codex, \"\" until codex-lsp said it.
The model, the context's fill and the rate limits, as in
\"gpt-5.5 high · 43% of context · 5h 12%\"."
  (or (plist-get codex-meters :text) ""))

(defvar codex-last-turn nil
  "The params of the last `codex/turnCompleted', a plist.")

(defvar codex-thread-id nil "The thread of the last ask.")

(defvar codex-mode)

(defvar codex-turn-completed-functions nil
  "Called with the plist of each `codex/turnCompleted'.")

(defvar codex-approval-functions nil
  "Called with the params of each `codex/approval' before the question is asked.")

(defvar codex--open-approvals nil
  "The approvals whose question is open, innermost first: (APPROVAL-ID . TAG).")

(defvar codex--connections (make-hash-table :test #'equal)
  "Project root → its codex-lsp connection.")

(defvar codex--diagnostics (make-hash-table :test #'equal)
  "File path → codex-lsp's last published diagnostics for it (a vector).")

(defconst codex--transcript "*codex*")

(defclass codex-connection (jsonrpc-process-connection)
  ((root :initarg :root :reader codex--root)
   (encoding :initform "utf-16" :accessor codex--encoding))
  :documentation "A codex-lsp process for one project.")

;;; Paths and positions

(defun codex--path-to-uri (path)
  "Return the file: URI of PATH."
  (concat "file://"
          (url-hexify-string (encode-coding-string (expand-file-name path) 'utf-8)
                             url-path-allowed-chars)))

(defun codex--uri-to-path (uri)
  "Return the file name of the file: URI, or nil."
  (when (string-prefix-p "file://" uri)
    (let ((path (decode-coding-string (url-unhex-string (substring uri 7)) 'utf-8)))
      (expand-file-name path))))

(defun codex--project-root (&optional directory)
  "The root of DIRECTORY's project (a directory name), or nil."
  (when-let ((project (and (fboundp 'project-current)
                           (project-current nil (or directory default-directory)))))
    (file-name-as-directory (expand-file-name (project-root project)))))

(defvar-local codex--connection nil "This buffer's codex-lsp connection.")
(defvar-local codex--version 0 "The version of this buffer last sent to codex-lsp.")
(defvar-local codex--pending nil "Changes not sent yet, newest first; `:full' for all.")
(defvar-local codex--before-change nil "(BEG END START-POS END-POS) of the change under way.")
(defvar-local codex--uri nil "The URI this buffer was opened under.")
(defvar-local codex--flymake-report nil "The last Flymake report function of the codex backend.")

(defun codex--column (pos)
  "The LSP character of POS on its line, in the connection's encoding."
  (let ((text (buffer-substring-no-properties
               (save-excursion (goto-char pos) (line-beginning-position)) pos)))
    (pcase (and codex--connection (codex--encoding codex--connection))
      ("utf-8" (length (encode-coding-string text 'utf-8 t)))
      ("utf-32" (length text))
      (_ (/ (length (encode-coding-string text 'utf-16le t)) 2)))))

(defun codex--pos-to-lsp (pos)
  "Return POS as an LSP position (UTF-16 columns)."
  (save-restriction
    (widen)
    (list :line (1- (line-number-at-pos pos t)) :character (codex--column pos))))

(defun codex--lsp-to-pos (position)
  "The buffer position of LSP POSITION (a plist), clamped to its line."
  (save-excursion
    (save-restriction
      (widen)
      (goto-char (point-min))
      (forward-line (plist-get position :line))
      (let* ((bol (point))
             (line (buffer-substring-no-properties bol (line-end-position)))
             (wanted (plist-get position :character))
             (chars
              (pcase (and codex--connection (codex--encoding codex--connection))
                ("utf-32" (min wanted (length line)))
                (encoding
                 (let ((n 0) (units 0))
                   (while (and (< n (length line)) (< units wanted))
                     (setq units (+ units
                                    (if (equal encoding "utf-8")
                                        (length (encode-coding-string (string (aref line n)) 'utf-8 t))
                                      (if (> (aref line n) #xFFFF) 2 1))))
                     (setq n (1+ n)))
                   n)))))
        (+ bol chars)))))

;;; The connection

(defun codex--capabilities ()
  "Return the client capabilities codex.el announces."
  (list :general (list :positionEncodings ["utf-8" "utf-16"])
        :workspace (list :applyEdit t
                         :workspaceEdit (list :documentChanges t)
                         :configuration t
                         :workspaceFolders t)
        :window (list :workDoneProgress t
                      :showMessage (list :messageActionItem (list :additionalPropertiesSupport :json-false))
                      :showDocument (list :support t))
        :textDocument (list :synchronization (list :didSave t :dynamicRegistration :json-false)
                            :publishDiagnostics (list :relatedInformation :json-false)
                            :codeAction (list :dynamicRegistration :json-false))
        ;; codexTranscript: codex-lsp renders the transcript and sends each turn's updates;
        ;; codexStatus: the model, the context's fill and the rate limits for the mode line.
        :experimental (list :codexApprovals t :codexTranscript t :codexStatus t
                            ;; codexChanges: the agent's hunks, drawn as overlays.
                            :codexChanges t)))

(defun codex--settings ()
  "Return `codex-settings', with `:streamEvents t' unless set there."
  (let ((options (copy-sequence codex-settings)))
    (unless (plist-member options :streamEvents)
      (setq options (plist-put options :streamEvents t)))
    options))

(defun codex--connect (root)
  "Start codex-lsp for ROOT and initialize it."
  (let* ((name (format "codex-lsp %s" (abbreviate-file-name root)))
         (default-directory root)
         (conn
          (make-instance
           'codex-connection
           :name name
           :root root
           :events-buffer-config '(:size 200000 :format short)
           :process (lambda ()
                      (make-process
                       :name name
                       :command (list codex-lsp-program "--stdio")
                       :connection-type 'pipe
                       :coding 'utf-8-emacs-unix
                       :noquery t
                       :stderr (get-buffer-create (format "*%s stderr*" name))))
           :request-dispatcher #'codex--handle-request
           :notification-dispatcher #'codex--handle-notification
           :on-shutdown #'codex--on-shutdown)))
    (let ((result (jsonrpc-request
                   conn :initialize
                   (list :processId (emacs-pid)
                         :clientInfo (list :name "codex.el" :version emacs-version)
                         :rootUri (codex--path-to-uri root)
                         :rootPath root
                         :workspaceFolders (vector (list :uri (codex--path-to-uri root)
                                                         :name (file-name-nondirectory
                                                                (directory-file-name root))))
                         :initializationOptions (codex--settings)
                         :capabilities (codex--capabilities))
                   :timeout 30)))
      (setf (codex--encoding conn)
            (or (plist-get (plist-get result :capabilities) :positionEncoding) "utf-16")))
    (jsonrpc-notify conn :initialized (make-hash-table))
    (puthash root conn codex--connections)
    conn))

(defun codex--on-shutdown (conn)
  "Forget CONN once its codex-lsp has ended."
  (remhash (codex--root conn) codex--connections)
  (dolist (buffer (buffer-list))
    (with-current-buffer buffer
      (when (eq codex--connection conn)
        (setq codex--connection nil))))
  (codex--set-status "")
  (message "Codex: codex-lsp stopped (%s); it starts again with the next buffer or command"
           (abbreviate-file-name (codex--root conn))))

(defun codex--connection-for (root)
  "Return the codex-lsp connection of the project at ROOT, started if need be."
  (let ((conn (gethash root codex--connections)))
    (if (and conn (jsonrpc-running-p conn))
        conn
      (codex--connect root))))

(defun codex--server ()
  "This buffer's connection, else that of `default-directory''s project.
The project's codex-lsp is started if needed."
  (or (and codex--connection (jsonrpc-running-p codex--connection) codex--connection)
      (let ((root (codex--project-root)))
        (if root
            (codex--connection-for root)
          (or (car (hash-table-values codex--connections))
              (user-error "Codex: this buffer is in no project; open a file of one (or M-x codex-mode there)"))))))

(defun codex-shutdown ()
  "Stop every codex-lsp that codex.el started."
  (interactive)
  (dolist (conn (hash-table-values codex--connections))
    (ignore-errors (jsonrpc-request conn :shutdown nil :timeout 5))
    (ignore-errors (jsonrpc-notify conn :exit nil))
    (jsonrpc-shutdown conn t)))

(defun codex-send-settings ()
  "Tell every codex-lsp that `codex-settings' changed (it asks for them again)."
  (interactive)
  (dolist (conn (hash-table-values codex--connections))
    (jsonrpc-notify conn :workspace/didChangeConfiguration
                    (list :settings (list :codex (codex--settings))))))

;;; Buffers

(defun codex--language-id ()
  "Return the LSP language id of the current buffer."
  (let ((mode (symbol-name major-mode)))
    (replace-regexp-in-string "\\(-ts\\)?-mode$" "" mode)))

(defun codex--did-open ()
  "Tell codex-lsp the current buffer is open (didOpen)."
  (setq codex--version 0
        codex--pending nil
        codex--uri (codex--path-to-uri buffer-file-name))
  (jsonrpc-notify codex--connection :textDocument/didOpen
                  (list :textDocument
                        (list :uri codex--uri
                              :languageId (codex--language-id)
                              :version codex--version
                              :text (save-restriction
                                      (widen)
                                      (buffer-substring-no-properties (point-min) (point-max)))))))

(defun codex--did-close ()
  "Tell codex-lsp the current buffer is closed (didClose)."
  (when (and codex--connection codex--uri (jsonrpc-running-p codex--connection))
    (jsonrpc-notify codex--connection :textDocument/didClose
                    (list :textDocument (list :uri codex--uri))))
  (setq codex--uri nil))

(defun codex--before-change (beg end)
  "Remember the LSP range of BEG..END before the edit."
  (when codex--uri
    (setq codex--before-change
          (list beg end (codex--pos-to-lsp beg) (codex--pos-to-lsp end)))))

(defun codex--after-change (beg end old-length)
  "Queue the change of BEG..END (OLD-LENGTH characters before)."
  (when codex--uri
    (pcase codex--before-change
      ((and `(,b ,e ,start ,finish)
            (guard (and (= b beg) (= e (+ beg old-length))))
            (guard (not (eq codex--pending :full))))
       (push (list :range (list :start start :end finish)
                   :text (buffer-substring-no-properties beg end))
             codex--pending))
      (_ (setq codex--pending :full)))
    (setq codex--before-change nil)
    (codex--schedule-flush)))

(defvar codex--flush-timer nil)

(defun codex--schedule-flush ()
  "Send the queued edits once Emacs is idle."
  (unless codex--flush-timer
    (setq codex--flush-timer
          (run-with-idle-timer codex-change-delay nil #'codex--flush-all))))

(defun codex--flush-all ()
  "Send the pending edits of every buffer."
  (setq codex--flush-timer nil)
  (dolist (buffer (buffer-list))
    (with-current-buffer buffer
      (when codex--pending (codex--flush)))))

(defun codex--flush ()
  "Send the pending edits of this buffer as one didChange."
  (when (and codex--pending codex--uri codex--connection
             (jsonrpc-running-p codex--connection))
    (let ((changes (if (eq codex--pending :full)
                       (vector (list :text (save-restriction
                                             (widen)
                                             (buffer-substring-no-properties (point-min) (point-max)))))
                     (vconcat (reverse codex--pending)))))
      (setq codex--pending nil
            codex--version (1+ codex--version))
      (jsonrpc-notify codex--connection :textDocument/didChange
                      (list :textDocument (list :uri codex--uri :version codex--version)
                            :contentChanges changes)))))

(defun codex--did-save ()
  "Tell codex-lsp the current buffer was saved (didSave)."
  (when codex--uri
    (codex--flush)
    (jsonrpc-notify codex--connection :textDocument/didSave
                    (list :textDocument (list :uri codex--uri)))))

(defun codex--before-revert ()
  "Close the buffer in codex-lsp before it is reverted."
  (codex--did-close))
(defun codex--after-revert ()
  "Open the buffer in codex-lsp again after it was reverted."
  (when codex--connection (codex--did-open)))

(defun codex--keep-flymake-backend ()
  "Put our Flymake backend back after eglot took over this buffer.
Eglot replaces `flymake-diagnostic-functions' in the buffers it manages."
  (when codex-mode
    (add-hook 'flymake-diagnostic-functions #'codex-flymake-backend nil t)))

;;;###autoload
(define-minor-mode codex-mode
  "Sync this buffer with codex-lsp, beside any other language server."
  :lighter (:eval (let ((meters (codex-mode-line-text)))
                     ;; A mode line reads `%' as a construct: "43% of context" would lose it.
                     (if (string-empty-p meters) " Codex"
                       (format " Codex[%s]" (string-replace "%" "%%" meters)))))
  (cond
   (codex-mode
    (if (not buffer-file-name)
        (progn (setq codex-mode nil)
               (user-error "Codex: this buffer visits no file"))
      (let ((root (or (codex--project-root)
                      (file-name-as-directory (expand-file-name default-directory)))))
        (setq codex--connection (codex--connection-for root))
        (add-hook 'before-change-functions #'codex--before-change nil t)
        (add-hook 'after-change-functions #'codex--after-change nil t)
        (add-hook 'after-save-hook #'codex--did-save nil t)
        (add-hook 'kill-buffer-hook #'codex--did-close nil t)
        (add-hook 'before-revert-hook #'codex--before-revert nil t)
        (add-hook 'after-revert-hook #'codex--after-revert nil t)
        (add-hook 'flymake-diagnostic-functions #'codex-flymake-backend nil t)
        (codex--did-open)
        (codex--draw-changes)
        (when (gethash (expand-file-name buffer-file-name) codex--diagnostics)
          (flymake-mode 1)))))
   (t
    (codex--did-close)
    (remove-hook 'before-change-functions #'codex--before-change t)
    (remove-hook 'after-change-functions #'codex--after-change t)
    (remove-hook 'after-save-hook #'codex--did-save t)
    (remove-hook 'kill-buffer-hook #'codex--did-close t)
    (remove-hook 'before-revert-hook #'codex--before-revert t)
    (remove-hook 'after-revert-hook #'codex--after-revert t)
    (remove-hook 'flymake-diagnostic-functions #'codex-flymake-backend t)
    (remove-overlays nil nil 'codex-change t)
    (setq codex--connection nil))))

(defun codex--turn-on ()
  "Turn `codex-mode' on in a buffer visiting a file inside a project."
  (when (and buffer-file-name
             (not (minibufferp))
             (not (file-remote-p buffer-file-name))
             (codex--project-root))
    (condition-case err
        (codex-mode 1)
      (error (message "Codex: %s" (error-message-string err))))))

;;;###autoload
(define-globalized-minor-mode global-codex-mode codex-mode codex--turn-on
  :group 'codex)

(add-hook 'eglot-managed-mode-hook #'codex--keep-flymake-backend)

;;; What codex-lsp asks

(defun codex--handle-request (conn method params)
  "Answer codex-lsp's request METHOD with PARAMS on CONN."
  (pcase method
    ('workspace/applyEdit (codex--apply-edit params))
    ('codex/approval (codex--approval params))
    ('window/showMessageRequest (codex--show-message-request params))
    ('window/workDoneProgress/create nil)
    ('workspace/configuration
     (vconcat (mapcar (lambda (item)
                        (if (member (plist-get item :section) '("codex" nil))
                            (codex--settings)
                          nil))
                      (plist-get params :items))))
    ('window/showDocument (codex--show-document params))
    ('workspace/workspaceFolders
     (vector (list :uri (codex--path-to-uri (codex--root conn))
                   :name (file-name-nondirectory (directory-file-name (codex--root conn))))))
    ((or 'client/registerCapability 'client/unregisterCapability 'workspace/diagnostic/refresh)
     nil)
    (_ (jsonrpc-error :code -32601 :message (format "codex.el does not handle %s" method)))))

(defun codex--handle-notification (_conn method params)
  "Handle codex-lsp's notification METHOD with PARAMS."
  (pcase method
    ('$/progress (codex--progress params))
    ('window/showMessage
     (let ((text (plist-get params :message)))
       (message "%s" (if (string-prefix-p "Codex" text) text (concat "Codex: " text)))))
    ('window/logMessage nil)
    ('textDocument/publishDiagnostics (codex--publish-diagnostics params))
    ('codex/event (codex--event params))
    ('codex/turnCompleted (codex--turn-completed params))
    ('codex/transcript (codex--on-transcript params))
    ('codex/status (setq codex-meters params) (force-mode-line-update t))
    ('codex/approvalEnded (codex--approval-ended params))
    ('codex/changes (codex--on-changes params))
    (_ nil)))

(defun codex--apply-edit (params)
  "Apply the agent's change PARAMS, merged by codex-lsp into an open buffer.
The file on disk already holds the agent's change and the edit brings
the buffer to \"your unsaved edits + that change\", so the buffer now
stands on the file as it is on disk: no confirmation (the change is
made), no \"changed on disk\" question, and the buffer's file time
moves to the file's, so saving later asks nothing either.  A buffer
without unsaved edits stays unmodified (it now equals the file)."
  (condition-case err
      (let ((edit (plist-get params :edit)))
        (seq-doseq (document-edit (plist-get edit :documentChanges))
          (let* ((document (plist-get document-edit :textDocument))
                 (path (codex--uri-to-path (plist-get document :uri)))
                 (buffer (and path (find-buffer-visiting path))))
            (unless (and buffer (buffer-local-value 'codex--uri buffer))
              (error "%s is not open" path))
            (with-current-buffer buffer
              (codex--flush)
              (let ((version (plist-get document :version)))
                (when (and version (not (equal version codex--version)))
                  (error "%s: the edit is for version %s, the buffer is at %s"
                         path version codex--version)))
              (let ((was-modified (buffer-modified-p)))
                ;; First the file time: modifying a buffer whose file changed on disk
                ;; would ask "changed on disk; really edit the buffer?".
                (set-visited-file-modtime)
                (codex--apply-text-edits (plist-get document-edit :edits))
                ;; A clean buffer ends equal to the file on disk.
                (unless was-modified (set-buffer-modified-p nil)))
              ;; codex-lsp waits for the change to come back before its next step.
              (codex--flush))))
        '(:applied t))
    (error (list :applied :json-false
                 :failureReason (error-message-string err)))))

(defun codex--apply-text-edits (edits)
  "Apply the LSP text EDITS to the current buffer."
  (let ((regions (mapcar (lambda (edit)
                           (let ((range (plist-get edit :range)))
                             (list (copy-marker (codex--lsp-to-pos (plist-get range :start)))
                                   (copy-marker (codex--lsp-to-pos (plist-get range :end)) t)
                                   (plist-get edit :newText))))
                         (append edits nil))))
    (save-excursion
      (save-restriction
        (widen)
        (atomic-change-group
          (let ((group (prepare-change-group)))
            (dolist (region (reverse regions))
              (pcase-let ((`(,beg ,end ,text) region))
                (goto-char beg)
                (delete-region beg end)
                (insert text)))
            (undo-amalgamate-change-group group)))))))

(defun codex--show-document (params)
  "Show the document PARAMS name (window/showDocument)."
  (let ((uri (plist-get params :uri)))
    (if (eq (plist-get params :external) t)
        (browse-url uri)
      (let ((path (codex--uri-to-path uri)))
        (when path
          (if (eq (plist-get params :takeFocus) t)
              (find-file path)
            (display-buffer (find-file-noselect path))))))
    '(:success t)))

;;; Approvals

(defconst codex--decline "Decline"
  "The title of the decline answer.
Always offered, the default, and what quitting means.")

(defun codex--approval-choices (choices)
  "CHOICES as an alist (title . decision), with `codex--decline' first."
  (let ((alist (mapcar (lambda (c) (cons (plist-get c :title) (plist-get c :decision)))
                       (append choices nil))))
    (cons (cons codex--decline "decline")
          (cl-remove-if (lambda (c) (equal (car c) codex--decline)) alist))))

(defun codex--show-approval (params)
  "Show the details of approval PARAMS in *codex-approval* (with any diff)."
  (with-current-buffer (get-buffer-create "*codex-approval*")
    (let ((inhibit-read-only t))
      (erase-buffer)
      (insert (or (plist-get params :message) "") "\n")
      (when-let ((reason (plist-get params :reason)))
        (insert "\nReason: " reason "\n"))
      (seq-doseq (file (or (plist-get params :files) []))
        (when-let ((diff (plist-get file :diff)))
          (insert "\n" diff (if (string-suffix-p "\n" diff) "" "\n"))))
      (goto-char (point-min))
      (when (and (fboundp 'diff-mode) (plist-get params :files))
        (diff-mode))
      (setq buffer-read-only t))
    (display-buffer (current-buffer))))

(defun codex--approval (params)
  "Ask about approval PARAMS; answer the decision picked.
Enter on the empty answer, quitting, or any failure declines: only an
answer the user picks grants anything.  When codex-lsp ends the approval
while the question is open (`approvalTimeout' passed, it was answered
elsewhere, the app-server stopped), the question closes and the echo
area says it was declined and why."
  (run-hook-with-args 'codex-approval-functions params)
  (let* ((choices (codex--approval-choices (plist-get params :choices)))
         (kind (if (equal (plist-get params :kind) "fileChange") "file change" "command"))
         (subject (string-trim
                   (or (plist-get params :command)
                       (mapconcat (lambda (f) (plist-get f :path))
                                  (append (plist-get params :files) nil) ", "))))
         (tag (make-symbol "codex-approval-ended"))
         (codex--open-approvals (cons (cons (plist-get params :approvalId) tag)
                                      codex--open-approvals))
         (decision "decline"))
    (condition-case err
        (let ((ended
               (catch tag
                 (codex--show-approval params)
                 (let* ((enable-recursive-minibuffers t)
                        (answer (completing-read
                                 (format-prompt "Codex asks to allow the %s `%s'" codex--decline
                                                kind subject)
                                 (mapcar #'car choices) nil t nil nil codex--decline)))
                   (setq decision (or (cdr (assoc answer choices)) "decline"))
                   (message "Codex: %s: %s" subject answer)
                   nil))))
          (when ended
            (setq decision "decline")
            (message "Codex: declined the %s `%s': %s; nothing was approved" kind subject
                     (if (equal ended "timed out")
                         "no answer within approvalTimeout"
                       ended))))
      (quit (message "Codex: declined (quit)"))
      (error (message "Codex: declined: %s" (error-message-string err))))
    (when-let ((window (get-buffer-window "*codex-approval*" t)))
      (ignore-errors (quit-window nil window)))
    (list :decision decision)))

(defun codex--approval-ended (params)
  "`codex/approvalEnded': codex-lsp no longer waits for the approval PARAMS names.
Its question, if open, closes (a later answer could grant nothing anyway).  Only
the innermost question is closed this way: closing an outer one would abandon
the inner without an answer."
  (let ((open (car codex--open-approvals)))
    (when (and open (equal (car open) (plist-get params :approvalId)))
      (throw (cdr open) (or (plist-get params :reason) "it ended")))))

(defun codex--show-message-request (params)
  "Ask the question PARAMS with its buttons.
Quitting or the empty answer pick none."
  (let* ((actions (append (plist-get params :actions) nil))
         (titles (mapcar (lambda (a) (plist-get a :title)) actions)))
    (condition-case nil
        (let* ((enable-recursive-minibuffers t)
               (answer (completing-read (concat (plist-get params :message) "\nChoose (empty: none): ")
                                        titles nil t)))
          (cl-find answer actions :key (lambda (a) (plist-get a :title)) :test #'equal))
      (quit nil))))

;;; Transcript
;;
;; *codex* shows codex-lsp's Markdown as it comes: `codex.transcript' renders a thread's
;; history, `codex/transcript' updates a running turn's part (append, or replace from a
;; line of it).  Nothing here renders; the buffer only displays.

(defun codex--transcript-buffer ()
  "Return the *codex* buffer, made if need be."
  (or (get-buffer codex--transcript)
      (with-current-buffer (get-buffer-create codex--transcript)
        (when (fboundp 'markdown-mode) (ignore-errors (markdown-mode)))
        (setq buffer-read-only t)
        (current-buffer))))

(defvar codex--parts nil
  "The turns shown in *codex*, in order: (TURN-ID THREAD-ID . START-MARKER).
A turn's text runs from its marker to the next turn's (or the end).")

(defvar codex--running-turns (make-hash-table :test #'equal)
  "Turn ids that got a `codex/transcript' and no `codex/turnCompleted' yet.")

(defun codex--part-end (part)
  "Return where PART's text ends in *codex*."
  (let ((next (cadr (memq part codex--parts))))
    (if next (marker-position (cddr next)) (point-max))))

(defun codex--on-transcript (params)
  "Apply codex-lsp's transcript update PARAMS to its turn's part of *codex*."
  (let ((turn (plist-get params :turnId))
        (markdown (plist-get params :markdown))
        (cut (plist-get params :replaceFromLine)))
    (when (and (stringp turn) (stringp markdown))
      (with-current-buffer (codex--transcript-buffer)
        (let* ((inhibit-read-only t)
               (part (assoc turn codex--parts))
               (fresh (not (gethash turn codex--running-turns))))
          (puthash turn t codex--running-turns)
          (cond
           ((not part)
            (setq part (cons turn (cons (plist-get params :threadId)
                                        (copy-marker (point-max) t))))
            (setq codex--parts (append codex--parts (list part))))
           (fresh
            ;; Shown from the history while it ran: its live text (from its first line)
            ;; replaces that.
            (delete-region (cddr part) (codex--part-end part))))
          (let* ((start (marker-position (cddr part)))
                 (end (codex--part-end part))
                 (follow (mapcar (lambda (w) (cons w (= (window-point w) (point-max))))
                                 (get-buffer-window-list (current-buffer) nil t))))
            (save-excursion
              (if (not (numberp cut))
                  (goto-char end)
                (goto-char start)
                (forward-line cut)
                (goto-char (min (point) end))
                (delete-region (point) end))
              (insert markdown))
            ;; Inserting at a turn's start moved its marker past the text: back to it.
            (set-marker (cddr part) start)
            (dolist (w follow)
              (when (cdr w) (set-window-point (car w) (point-max))))))))))

(defun codex--show-transcript (result)
  "Show the thread `codex.transcript' answered RESULT with in *codex*.
A running turn keeps its live text (its updates count lines in it)."
  (let* ((markdown (or (plist-get result :markdown) ""))
         (thread (plist-get result :threadId))
         (turns (append (plist-get result :turns) nil))
         (live nil))
    (with-current-buffer (codex--transcript-buffer)
      (let ((inhibit-read-only t))
        (dolist (part codex--parts)
          (when (gethash (car part) codex--running-turns)
            (push (cons (car part)
                        (cons (cadr part)
                              (buffer-substring (cddr part) (codex--part-end part))))
                  live)))
        (dolist (part codex--parts) (set-marker (cddr part) nil))
        (setq codex--parts nil)
        (erase-buffer)
        (insert markdown)
        (dolist (turn turns)
          (goto-char (point-min))
          (forward-line (plist-get turn :line))
          (setq codex--parts
                (append codex--parts
                        (list (cons (plist-get turn :turnId)
                                    (cons thread (copy-marker (point) t)))))))
        ;; The running turns' live text in place of what the history held; those of this
        ;; thread that started after it was read at the end.
        (dolist (text (reverse live))
          (let ((part (assoc (car text) codex--parts))
                (start nil))
            (cond
             (part
              (setq start (marker-position (cddr part)))
              (delete-region start (codex--part-end part))
              (goto-char start))
             ((equal (cadr text) thread)
              (goto-char (point-max))
              (setq start (point))
              (setq part (cons (car text) (cons thread (copy-marker start t))))
              (setq codex--parts (append codex--parts (list part)))))
            (when part
              (insert (cddr text))
              (set-marker (cddr part) start))))
        (goto-char (point-max))))))

(defun codex--load-transcript (&optional thread-id quiet)
  "Show THREAD-ID's transcript (else the workspace's thread) in *codex*.
QUIET: no error when there is none.  Return the thread id."
  (condition-case err
      (let ((result (codex--command "codex.transcript"
                                    (if thread-id (list :threadId thread-id)
                                      (codex--uri-argument)))))
        (codex--show-transcript result)
        (plist-get result :threadId))
    (jsonrpc-error
     (unless quiet
       (user-error "Codex: no history to show: %s"
                   (or (alist-get 'jsonrpc-error-message (cddr err)) (format "%S" err)))))))

(defun codex-transcript ()
  "Show the *codex* buffer, with the workspace thread's history if it is empty."
  (interactive)
  (let ((empty (null codex--parts)))
    (display-buffer (codex--transcript-buffer))
    (when (and empty (called-interactively-p 'any))
      (codex--load-transcript nil))))

(defun codex--event (_params)
  "Ignore a `codex/event': *codex* is the transcript codex-lsp renders.")

(defun codex--turn-completed (params)
  "The turn PARAMS name ended: say so when it failed, and run the hook."
  (let* ((turn (plist-get params :turnId))
         (status (plist-get params :status))
         (err (plist-get params :error))
         (why (cond ((stringp err) err)
                    ((and (consp err) (plist-get err :message)))
                    (err (format "%S" err)))))
    (remhash turn codex--running-turns)
    (when (equal status "failed")
      (message "Codex: the turn failed%s" (if why (concat ": " why) "")))
    (setq codex-last-turn params)
    (run-hook-with-args 'codex-turn-completed-functions params)))

;;; Status

(defun codex--set-status (text)
  "Set `codex-status' to TEXT and update the mode lines."
  (setq codex-status text)
  (force-mode-line-update t))

(defun codex--progress (params)
  "Keep `codex-status' from codex-lsp's turn progress PARAMS."
  (let ((token (plist-get params :token))
        (value (plist-get params :value)))
    (when (and (stringp token) (string-prefix-p "codex-lsp/turn/" token))
      (let ((text (or (plist-get value :message) (plist-get value :title) "")))
        (codex--set-status (concat "Codex: " text))))))

;;; Diagnostics

(defun codex--publish-diagnostics (params)
  "Keep codex-lsp's diagnostics of PARAMS for their buffer's Flymake backend."
  (let* ((path (codex--uri-to-path (plist-get params :uri)))
         (diagnostics (plist-get params :diagnostics)))
    (when path
      (if (seq-empty-p diagnostics)
          (remhash path codex--diagnostics)
        (puthash path diagnostics codex--diagnostics))
      (when-let ((buffer (find-buffer-visiting path)))
        (with-current-buffer buffer
          (when codex-mode
            (unless (or flymake-mode (seq-empty-p diagnostics)) (flymake-mode 1))
            (codex--report-diagnostics)))))))

(defun codex--flymake-type (severity)
  "Return the Flymake type of the LSP SEVERITY."
  (pcase severity (1 :error) (2 :warning) (_ :note)))

(defun codex--buffer-diagnostics ()
  "This buffer's codex-lsp diagnostics as Flymake diagnostics."
  (when buffer-file-name
    (mapcar (lambda (d)
              (let* ((range (plist-get d :range))
                     (beg (codex--lsp-to-pos (plist-get range :start)))
                     (end (codex--lsp-to-pos (plist-get range :end))))
                (when (= beg end)
                  (setq end (min (point-max) (1+ beg))))
                (flymake-make-diagnostic
                 (current-buffer) beg end (codex--flymake-type (plist-get d :severity))
                 (format "codex%s: %s"
                         (if-let ((code (plist-get d :code))) (format " [%s]" code) "")
                         (plist-get d :message))
                 (list :codex d))))
            (append (gethash (expand-file-name buffer-file-name) codex--diagnostics) nil))))

(defun codex--report-diagnostics ()
  "Report the buffer's codex-lsp diagnostics to Flymake."
  (when codex--flymake-report
    (funcall codex--flymake-report (codex--buffer-diagnostics)
             :region (cons (point-min) (point-max)))))

(defun codex-flymake-backend (report-fn &rest _)
  "Flymake backend: report codex-lsp's diagnostics to REPORT-FN.
They are review findings and conflicts."
  (setq codex--flymake-report report-fn)
  (funcall report-fn (codex--buffer-diagnostics)))

(defun codex--lsp-diagnostics-in (beg end)
  "The Flymake diagnostics between BEG and END as LSP diagnostics.
Those of every backend: your language server's too."
  (vconcat
   (mapcar (lambda (d)
             (or (plist-get (flymake-diagnostic-data d) :codex)
                 (list :range (list :start (codex--pos-to-lsp (flymake-diagnostic-beg d))
                                    :end (codex--pos-to-lsp (flymake-diagnostic-end d)))
                       :severity (pcase (flymake-diagnostic-type d)
                                   ((or :error 'eglot-error) 1)
                                   ((or :warning 'eglot-warning) 2)
                                   (_ 3))
                       :message (flymake-diagnostic-text d))))
           (and (bound-and-true-p flymake-mode) (flymake-diagnostics beg end)))))

;;; Commands

(defun codex--command (command &optional argument)
  "Run codex-lsp COMMAND with ARGUMENT (a plist) and return its result."
  (codex--flush-all)
  (jsonrpc-request (codex--server) :workspace/executeCommand
                   (list :command command
                         :arguments (vector (or argument (make-hash-table))))))

(defun codex--buffer-uri ()
  "Return the URI of the current buffer when `codex-mode' syncs it."
  (and codex-mode codex--uri))

(defun codex--before-turn ()
  "Open *codex* before an ask or a review, with the thread's history if empty."
  (unless codex--parts
    ;; Quietly: a new folder has no thread yet.
    (codex--load-transcript nil t))
  (when codex-show-transcript (codex-transcript)))

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
        (setq argument (plist-put argument :range
                                  (list :start (codex--pos-to-lsp beg)
                                        :end (codex--pos-to-lsp end))))))
    (let ((started nil))
      (codex--before-turn)
      (setq started (codex--command "codex.ask" argument))
      (setq codex-thread-id (plist-get started :threadId))
      (codex--set-status "Codex: thinking")
      started)))

(defun codex-code-actions (beg end)
  "Pick one of codex-lsp's code actions between BEG and END and run it.
Interactively, the region or this line.  Diagnostics there, of any
Flymake backend (your language server's too), go along: \"Codex:
Fix: …\" is offered for each."
  (interactive
   (if (use-region-p)
       (list (region-beginning) (region-end))
     (list (line-beginning-position) (line-end-position))))
  (unless (codex--buffer-uri) (user-error "Codex: codex-mode is off in this buffer"))
  (codex--flush)
  (let* ((actions (append (jsonrpc-request
                           (codex--server) :textDocument/codeAction
                           (list :textDocument (list :uri codex--uri)
                                 :range (list :start (codex--pos-to-lsp beg)
                                              :end (codex--pos-to-lsp end))
                                 :context (list :diagnostics (codex--lsp-diagnostics-in beg end))))
                          nil))
         (titles (mapcar (lambda (a) (plist-get a :title)) actions)))
    (unless actions (user-error "Codex: no code actions here"))
    (let* ((title (completing-read "Codex action: " titles nil t))
           (action (cl-find title actions :key (lambda (a) (plist-get a :title)) :test #'equal))
           (command (if (stringp (plist-get action :command))
                        action
                      (plist-get action :command))))
      (when command
        (codex--command (plist-get command :command)
                        (let ((args (plist-get command :arguments)))
                          (and args (> (length args) 0) (aref args 0))))))))

(defun codex-interrupt ()
  "Interrupt every running Codex turn."
  (interactive)
  (let* ((result (codex--command "codex.interrupt"))
         (n (length (plist-get result :interrupted))))
    (message (if (zerop n) "Codex: no turn is running" "Codex: interrupted"))
    result))

(defun codex-steer (prompt)
  "Add PROMPT to the running turn."
  (interactive (list (read-string "Steer Codex: ")))
  (codex--command "codex.steer" (list :prompt prompt)))

(defun codex--uri-argument ()
  "Return a command argument naming the current buffer's URI, or nil."
  (if (codex--buffer-uri) (list :uri (codex--buffer-uri)) nil))

(defun codex-new-thread ()
  "Start a new Codex thread for this workspace."
  (interactive)
  (let ((result (codex--command "codex.newThread" (codex--uri-argument))))
    (setq codex-thread-id (plist-get result :threadId))
    ;; *codex* shows the new thread: nothing yet.
    (codex--show-transcript (list :threadId codex-thread-id :markdown "" :turns []))
    (message "Codex: new thread %s" codex-thread-id)
    result))

(defun codex-resume ()
  "Pick one of this workspace's threads and make it the workspace's thread."
  (interactive)
  (let* ((listed (codex--command "codex.listThreads" (codex--uri-argument)))
         (threads (append (or (plist-get listed :data) (plist-get listed :threads)) nil))
         (choices (mapcar (lambda (thread)
                            (cons (format "%s  %s" (plist-get thread :id)
                                          (string-replace "\n" " " (or (plist-get thread :preview) "")))
                                  (plist-get thread :id)))
                          threads)))
    (unless choices (user-error "Codex: no threads for this workspace yet"))
    (let ((id (cdr (assoc (completing-read "Resume Codex thread: " choices nil t) choices))))
      (codex--command "codex.resumeThread" (list :threadId id))
      (codex--load-transcript id t)
      (setq codex-thread-id id)
      (message "Codex: resumed %s" id))))

(defun codex-history (&optional thread-id)
  "Show the conversation of a Codex thread in *codex*, as codex-lsp renders it.
THREAD-ID, else the thread of the last ask, else the workspace's thread:
after Emacs restarts, this is where the earlier conversation is."
  (interactive)
  (let ((id (codex--load-transcript (or thread-id codex-thread-id))))
    (setq codex-thread-id id)
    (display-buffer (codex--transcript-buffer))
    id))

(defun codex-review (&optional instructions)
  "Ask Codex to review the uncommitted work of the workspace.
With a prefix argument, read INSTRUCTIONS and review by them instead.
When the review ends its findings are Flymake diagnostics (source
codex): `flymake-show-project-diagnostics' lists them, and
`codex-code-actions' on one offers \"Codex: Fix this finding\" and
\"Codex: Dismiss\"."
  (interactive (list (when current-prefix-arg (read-string "Review instructions: "))))
  (let ((argument (codex--uri-argument)))
    (when (and instructions (not (string-empty-p instructions)))
      (setq argument (plist-put argument :target (list :instructions instructions))))
    (let ((started nil))
      (codex--before-turn)
      (setq started (codex--command "codex.review" argument))
      (setq codex-thread-id (plist-get started :threadId))
      (codex--set-status "Codex: reviewing")
      started)))

(defun codex-clear-review ()
  "Remove every Codex review finding."
  (interactive)
  (let ((result (codex--command "codex.clearReview")))
    (message "Codex: cleared %s review finding(s)" (plist-get result :cleared))
    result))

;;; Keep or undo the agent's changes

(defun codex--change-lines (result)
  "The lines of *codex-changes* for a `codex.listChanges' RESULT.
One per hunk, newest turn first: \"FILE:LINE: turn N: +A -R (STATUS) PROMPT\",
the line where the agent left it."
  (let (lines)
    (seq-doseq (turn (plist-get result :turns))
      (seq-doseq (file (plist-get turn :files))
        (let ((path (or (and (plist-get file :uri) (codex--uri-to-path (plist-get file :uri)))
                        (plist-get file :path))))
          (seq-doseq (hunk (plist-get file :hunks))
            (let ((status (plist-get hunk :status)))
              (push (format "%s:%d: turn %d: +%d −%d%s %S"
                            path
                            (1+ (or (seq-first (plist-get hunk :afterLines)) 0))
                            (or (plist-get turn :turn) 0)
                            (or (plist-get hunk :added) 0)
                            (or (plist-get hunk :removed) 0)
                            (if (equal status "pending") "" (format " (%s)" status))
                            (or (plist-get turn :prompt) ""))
                    lines))))))
    (nreverse lines)))

(defun codex-changes ()
  "Show in *codex-changes* every change of the agent codex-lsp records.
Each line is a hunk (RET or a mouse click visits it, `next-error' walks
them); on its line `codex-code-actions' offers \"Codex: Revert this
change\", \"Codex: Keep this change\" and \"Codex: Undo this turn\"."
  (interactive)
  (let* ((result (codex--command "codex.listChanges"))
         (lines (codex--change-lines result))
         (root (or (codex--project-root) default-directory)))
    (with-current-buffer (get-buffer-create "*codex-changes*")
      (let ((inhibit-read-only t))
        (erase-buffer)
        (setq default-directory root)
        (insert "Codex changes (newest turn first)\n\n")
        (dolist (line lines) (insert line "\n"))
        (unless lines (insert "No changes recorded.\n")))
      (compilation-mode)
      (goto-char (point-min))
      (display-buffer (current-buffer)))
    result))

;; The pending hunks of each file, from `codex/changes': drawn as overlays (one per line,
;; property `codex-change' with the hunk's id) with a fringe or margin bar.
(defvar codex--changes (make-hash-table :test #'equal)
  "File name -> the pending hunks (plists) of the last `codex/changes' for it.")

(defvar-local codex--margin-widened nil
  "Whether `codex--draw-changes' widened the left margin for its bars.")

(define-fringe-bitmap 'codex-change-bar [24 24 24 24 24 24 24 24] nil nil '(center t))

(defun codex--on-changes (params)
  "Store the file's pending hunks of PARAMS and redraw its buffer.
PARAMS: those of the notification `codex/changes'."
  (when-let ((path (codex--uri-to-path (plist-get params :uri))))
    (let ((pending (seq-filter (lambda (h) (equal (plist-get h :status) "pending"))
                               (plist-get params :hunks))))
      (if pending
          (puthash path pending codex--changes)
        (remhash path codex--changes))
      (when-let ((buffer (find-buffer-visiting path)))
        (with-current-buffer buffer
          (when codex-mode (codex--draw-changes)))))))

(defun codex--change-indicator-kind ()
  "Return `fringe', `margin' or nil: where to draw the bar of a changed line."
  (if (eq codex-change-indicator 'auto)
      (if (display-graphic-p) 'fringe 'margin)
    codex-change-indicator))

(defun codex--change-indicator ()
  "The string put before a changed line: a fringe bitmap or a margin bar."
  (pcase (codex--change-indicator-kind)
    ('fringe (propertize " " 'display '(left-fringe codex-change-bar codex-change-indicator-face)))
    ('margin (propertize " " 'display `((margin left-margin)
                                        ,(propertize "▎" 'face 'codex-change-indicator-face))))))

(defun codex--set-margin (width)
  "Set the left margin of this buffer and the windows showing it to WIDTH."
  (setq left-margin-width width)
  (dolist (window (get-buffer-window-list nil nil t))
    (set-window-margins window width (cdr (window-margins window)))))

(defun codex--draw-changes ()
  "Redraw this buffer's overlays of the agent's pending hunks."
  (save-excursion
    (save-restriction
      (widen)
      (remove-overlays nil nil 'codex-change t)
      (let ((indicator (and buffer-file-name (codex--change-indicator)))
            (hunks (and buffer-file-name
                        (gethash (expand-file-name buffer-file-name) codex--changes))))
        (dolist (hunk hunks)
          (let* ((range (plist-get hunk :range))
                 (first (plist-get (plist-get range :start) :line))
                 (last (plist-get (plist-get range :end) :line))
                 (deleted (<= last first)))
            ;; Lines only deleted: the mark goes on the line after them.
            (dotimes (i (if deleted 1 (- last first)))
              (goto-char (point-min))
              (when (zerop (forward-line (+ first i)))
                (let ((ov (make-overlay (point) (line-beginning-position 2) nil t nil)))
                  (overlay-put ov 'codex-change t)
                  (overlay-put ov 'codex-change-id (plist-get hunk :id))
                  (overlay-put ov 'evaporate t)
                  (when indicator (overlay-put ov 'before-string indicator))
                  (when (and codex-change-highlight (not deleted))
                    (overlay-put ov 'face codex-change-highlight)))))))
        (let ((margin (and hunks (eq (codex--change-indicator-kind) 'margin))))
          (cond ((and margin (not (and left-margin-width (> left-margin-width 0))))
                 (setq codex--margin-widened t)
                 (codex--set-margin 1))
                ((and (not margin) codex--margin-widened)
                 (setq codex--margin-widened nil)
                 (codex--set-margin 0))))))))

(defun codex--changes-in (beg end)
  "The ids of the pending hunks with a line between BEG and END."
  (let (ids)
    (dolist (ov (overlays-in (save-excursion (goto-char beg) (line-beginning-position))
                             (save-excursion (goto-char end) (line-beginning-position 2))))
      (when-let ((id (overlay-get ov 'codex-change-id)))
        (unless (member id ids) (push id ids))))
    (nreverse ids)))

(defun codex--on-changes-at-point (command verb)
  "Run COMMAND (codex.keepChange or codex.revertChange) on the hunks at point.
With an active region, on every hunk it meets.  VERB says what in messages."
  (let* ((beg (if (use-region-p) (region-beginning) (point)))
         (end (if (use-region-p) (max beg (1- (region-end))) (point)))
         (ids (codex--changes-in beg end))
         conflicts)
    (unless ids (user-error "Codex: no pending change here"))
    (dolist (id ids)
      (let ((result (codex--command command (list :id id))))
        (setq conflicts (+ (or conflicts 0) (length (plist-get result :conflicts))))))
    (message "Codex: %s %d change(s)%s" verb (length ids)
             (if (zerop conflicts) ""
               ", one left as it is (your edits overlap)"))
    ids))

(defun codex-keep-change ()
  "Keep the agent's change at point (with an active region: every one in it).
Its mark goes; the text stays the agent's (`codex-undo-turn' still undoes it)."
  (interactive)
  (codex--on-changes-at-point "codex.keepChange" "kept"))

(defun codex-revert-change ()
  "Revert the agent's change at point (with an active region: every one in it).
Its lines go back to the text before the turn, your other edits kept."
  (interactive)
  (codex--on-changes-at-point "codex.revertChange" "reverted"))

(defun codex-undo-turn (&optional turn-id)
  "Undo a Codex turn: every change it made, keeping your later edits.
TURN-ID, else the newest turn with changes left.  Open buffers change
by one edit (one `undo' step); a file where your edits overlap the
turn's is left as it is and reported."
  (interactive)
  (let* ((result (codex--command "codex.undoTurn" (and turn-id (list :turnId turn-id))))
         (conflicts (length (plist-get result :conflicts))))
    (message "Codex: undid %d file(s) of the turn%s"
             (length (plist-get result :reverted))
             (if (zerop conflicts) ""
               (format ", %d left as they are (your edits overlap)" conflicts)))
    result))

(defun codex-login (method)
  "Log in to Codex with METHOD: chatgpt, deviceCode or apiKey."
  (interactive (list (completing-read "Log in with: " '("chatgpt" "deviceCode" "apiKey") nil t)))
  (codex--command "codex.login"
                  (if (equal method "apiKey")
                      (list :method "apiKey" :apiKey (read-passwd "OpenAI API key: "))
                    (list :method method))))

(defun codex-install-runtime ()
  "Have codex-lsp install the Codex runtime it is tested with into its cache.
The download shows as progress; a message says where it went."
  (interactive)
  (codex--command "codex.installRuntime")
  (message "Codex: installing the runtime…"))

(defun codex-logout ()
  "Log out of Codex."
  (interactive)
  (codex--command "codex.logout"))

(defun codex-set-model (model &optional effort)
  "Set the model (MODEL) and effort (EFFORT) of the next Codex turn.
They stay this workspace's until the next choice.
Interactively, pick them with `completing-read' from what the
app-server offers."
  (interactive
   (let* ((models (seq-remove (lambda (m) (eq (plist-get m :hidden) t))
                              (plist-get (codex--command "codex.listModels") :models)))
          (model (completing-read "Codex model: "
                                  (mapcar (lambda (m) (plist-get m :id)) models) nil t))
          (chosen (seq-find (lambda (m) (equal (plist-get m :id) model)) models))
          (efforts (mapcar (lambda (e) (plist-get e :reasoningEffort))
                           (plist-get chosen :supportedReasoningEfforts)))
          (effort (and (not (seq-empty-p efforts))
                       (completing-read (format "Reasoning effort for %s (empty: its default): " model)
                                        efforts nil t))))
     (list model (and effort (not (string-empty-p effort)) effort))))
  (let ((result (codex--command "codex.setModel"
                                (append (list :model model) (and effort (list :effort effort))))))
    (message "Codex: model %s%s from the next turn" (plist-get result :model)
             (if (stringp (plist-get result :effort))
                 (concat ", effort " (plist-get result :effort)) ""))
    result))

(defun codex-status-report ()
  "Show the status of codex-lsp: its app-server, threads and settings."
  (interactive)
  (let ((status (codex--command "codex.status")))
    (with-current-buffer (get-buffer-create "*codex-status*")
      (erase-buffer)
      (insert (json-encode status))
      (ignore-errors (json-pretty-print-buffer))
      (display-buffer (current-buffer)))))

(provide 'codex)
;;; codex.el ends here
