;;; lint.el --- package-lint, checkdoc and byte-compile on codex.el  -*- lexical-binding: t; -*-

;; emacs --batch -Q -l tests/editors/emacs/lint.el PACKAGE-LINT-DIR FILE...
;;
;; Runs what a package archive (MELPA, NonGNU ELPA) runs on a submission: package-lint (Debian's
;; elpa-package-lint, installed by scripts/install-editors.sh), checkdoc, and a byte-compile
;; with warnings as errors (into a temporary folder: no .elc beside the sources).  Prints each
;; finding as FILE:LINE:COL: TEXT and exits 1 when there is any.

(require 'package)
(require 'checkdoc)
(require 'bytecomp)

(let ((dir (pop command-line-args-left)))
  (add-to-list 'load-path dir))
(require 'package-lint)

;; The test runs offline, so package-lint sees no archive: GNU ELPA's jsonrpc is entered as
;; Emacs 30 ships it (1.0.25), which is also on GNU ELPA.
(setq package-archive-contents
      (list (list 'jsonrpc (package-desc-create :name 'jsonrpc :version '(1 0 25)
                                                :archive "gnu"))))

(defun lint--ignored-p (text)
  "Whether TEXT is a finding of package-lint 0.16 that is out of date.
Released in 2022, it takes any Emacs from 28 on for unreleased; Emacs 29.1 was released
in 2023."
  (string= text "This makes the package uninstallable in all released Emacs versions."))

(defvar lint--findings 0)

(defun lint--report (file line col text)
  "Print finding TEXT at FILE LINE COL and count it."
  (setq lint--findings (1+ lint--findings))
  (princ (format "%s:%s:%s: %s\n" file line col text) #'external-debugging-output))

(dolist (file command-line-args-left)
  (with-temp-buffer
    (insert-file-contents file)
    (setq buffer-file-name (expand-file-name file))
    (emacs-lisp-mode)
    (pcase-dolist (`(,line ,col ,_type ,text) (package-lint-buffer))
      (unless (lint--ignored-p text)
        (lint--report file line col (concat "package-lint: " text))))
    ;; checkdoc: every style finding, collected instead of shown.
    (cl-letf (((symbol-function 'checkdoc-create-error)
               (lambda (text start _end &optional _unfixable)
                 (let ((pos (or start (point))))
                   (save-excursion
                     (goto-char pos)
                     (lint--report file (line-number-at-pos) (current-column)
                                   (concat "checkdoc: " text))))
                 nil)))
      (let ((checkdoc-autofix-flag 'never)
            (checkdoc-diagnostic-buffer " *lint-checkdoc*"))
        (checkdoc-current-buffer t)))
    (setq buffer-file-name nil))
  ;; Byte-compile with warnings as errors, into a temporary folder.
  (let* ((out (make-temp-file "codex-lint" t))
         (byte-compile-dest-file-function
          (lambda (src) (expand-file-name (concat (file-name-base src) ".elc") out)))
         (byte-compile-error-on-warn t)
         (byte-compile-log-warning-function
          (lambda (string &optional position _fill _level)
            (lint--report file 0 0 (format "byte-compile (at character %s): %s"
                                           (or position "?") string)))))
    (unless (byte-compile-file file)
      (lint--report file 0 0 "byte-compile: failed"))
    (delete-directory out t)))

(kill-emacs (if (zerop lint--findings) 0 1))

;;; lint.el ends here
