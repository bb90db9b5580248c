//! The context the user chooses for a prompt: `@path` / `@path#L10-20` mentions of
//! workspace files (sent as text context) and images (`codex.ask {images}`, sent as
//! `localImage` inputs).
//!
//! The grammar of a mention: `@` at the start of the prompt or after whitespace, outside
//! fenced code blocks and inline code spans, then everything up to the next whitespace
//! (trailing `.,;:!?)]}'"` dropped), optionally ending in `#L10` or `#L10-20` (1-based,
//! inclusive). So `a@b.com` and a `@decorator` in code are text. A word that names no file
//! is text too (`@here`), unless it is plainly meant as a path (it holds a `/` or a line
//! range): then the ask is refused, saying why, rather than sent without the file.
//!
//! Which files: a relative path is read against the ask's workspace folder, then the other
//! folders; an absolute path only if it lies inside one of them. Paths are resolved with
//! symlinks followed before that check, so `@/etc/passwd`, `@../../etc/passwd` and a link
//! inside the workspace pointing out of it are all refused; nothing outside the workspace
//! folders is read. An open buffer's text (unsaved edits included) wins over the file on
//! disk. The attached text is bounded per ask by the budget unsaved buffers use.

use std::path::{Path, PathBuf};

use crate::bridge::activity::display_path;
use crate::bridge::edits::documents::{normalize_path, UNSAVED_CONTEXT_BUDGET};

/// A file is not read at all beyond this size, even for a line range.
const MENTION_FILE_LIMIT: u64 = 16 * 1024 * 1024;
/// An image is not sent beyond this size (the Responses API takes a few MB per image).
const IMAGE_LIMIT: u64 = 20 * 1024 * 1024;

/// One `@` mention as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    /// What followed the `@` (without trailing punctuation), as the user wrote it.
    pub written: String,
    /// The path part.
    pub path: String,
    /// `#L10-20`: the 1-based inclusive lines; `Err` for a malformed range.
    pub lines: Option<Result<(u32, u32), String>>,
}

impl Mention {
    /// Whether the user plainly meant a path (so a missing file is an error, not text).
    fn looks_like_path(&self) -> bool {
        self.lines.is_some() || self.path.contains('/') || self.path.contains('\\')
    }
}

/// The mentions in `prompt`, in order (see the module docs for the grammar).
pub fn mentions_in(prompt: &str) -> Vec<Mention> {
    let mut found = Vec::new();
    let mut in_fence = false;
    for line in prompt.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let mut in_code = false;
        let mut previous: Option<char> = None;
        let mut chars = line.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c == '`' {
                in_code = !in_code;
            } else if c == '@' && !in_code && previous.is_none_or(char::is_whitespace) {
                let rest = &line[at + 1..];
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let token = rest[..end].trim_end_matches(|c: char| ".,;:!?)]}'\"`".contains(c));
                if let Some(mention) = parse_token(token) {
                    found.push(mention);
                }
                // The token is consumed; its characters are no mention starts.
                while chars.peek().is_some_and(|(i, _)| *i <= at + end) {
                    chars.next();
                }
                previous = Some('x');
                continue;
            }
            previous = Some(c);
        }
    }
    found
}

fn parse_token(token: &str) -> Option<Mention> {
    if token.is_empty() {
        return None;
    }
    let (path, lines) = match token.rfind("#L") {
        Some(at) => (&token[..at], Some(parse_lines(&token[at + 2..]))),
        None => (token, None),
    };
    if path.is_empty() {
        return None;
    }
    Some(Mention {
        written: token.to_string(),
        path: path.to_string(),
        lines,
    })
}

/// `10`, `10-20` or `10-L20`.
fn parse_lines(spec: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`#L{spec}` is no line range (write `#L10` or `#L10-20`)");
    let (start, end) = match spec.split_once('-') {
        Some((start, end)) => (start, end.strip_prefix('L').unwrap_or(end)),
        None => (spec, spec),
    };
    let start: u32 = start.parse().map_err(|_| bad())?;
    let end: u32 = end.parse().map_err(|_| bad())?;
    if start == 0 || end < start {
        return Err(bad());
    }
    Ok((start, end))
}

/// A mention resolved to a workspace file and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedText {
    /// As the transcript shows it: the path relative to the folder, and the lines.
    pub label: String,
    /// The additional-context key (one per file and range).
    pub key: String,
    /// What goes to the model.
    pub value: String,
}

/// Resolves the mentions of `prompt`: the files they attach, or the one clear reason the
/// ask is refused. `folders` are the workspace folders (canonical), the ask's own first;
/// `open_text` gives an open buffer's text by its canonical path.
pub fn attach_mentions(
    prompt: &str,
    folders: &[PathBuf],
    open_text: impl Fn(&Path) -> Option<String>,
) -> Result<Vec<AttachedText>, String> {
    let mut attached: Vec<AttachedText> = Vec::new();
    let mut used = 0;
    for mention in mentions_in(prompt) {
        let Some(path) = resolve(&mention, folders)? else {
            continue;
        };
        let lines = match &mention.lines {
            Some(Ok(lines)) => Some(*lines),
            Some(Err(e)) => return Err(format!("`@{}`: {e}", mention.written)),
            None => None,
        };
        let folder = folders.iter().find(|f| path.starts_with(f));
        let shown = display_path(&path.display().to_string(), folder.map(PathBuf::as_path));
        let label = match lines {
            Some((a, b)) if a == b => format!("{shown}#L{a}"),
            Some((a, b)) => format!("{shown}#L{a}-{b}"),
            None => shown.clone(),
        };
        let key = format!("codex-lsp:mention:{}", label_key(&path, lines));
        if attached.iter().any(|a| a.key == key) {
            continue;
        }
        let (text, unsaved) = match open_text(&path) {
            Some(text) => (text, true),
            None => (read_text(&mention, &path)?, false),
        };
        let (text, what) = match lines {
            None => (text, format!("File {shown}")),
            Some((start, end)) => {
                let (text, end) = line_range(&text, start, end)
                    .map_err(|e| format!("`@{}`: {e}", mention.written))?;
                (text, format!("File {shown}, lines {start}-{end}"))
            }
        };
        used += text.len();
        if used > UNSAVED_CONTEXT_BUDGET {
            return Err(format!(
                "`@{}`: the attached text would exceed {} KiB for one ask; mention a line range instead (`@{shown}#L1-200`)",
                mention.written,
                UNSAVED_CONTEXT_BUDGET / 1024
            ));
        }
        let source = if unsaved {
            "the editor's buffer, unsaved edits included"
        } else {
            "the file on disk"
        };
        attached.push(AttachedText {
            label,
            key,
            value: format!(
                "{what} (attached by the user as @{}; from {source}):\n{text}",
                mention.written
            ),
        });
    }
    Ok(attached)
}

fn label_key(path: &Path, lines: Option<(u32, u32)>) -> String {
    match lines {
        Some((a, b)) => format!("{}#L{a}-{b}", path.display()),
        None => path.display().to_string(),
    }
}

/// The workspace file a mention names: `None` when it is text (names no file and does not
/// look like a path), an error when it names something that cannot be attached.
fn resolve(mention: &Mention, folders: &[PathBuf]) -> Result<Option<PathBuf>, String> {
    let written = Path::new(&mention.path);
    let candidates: Vec<PathBuf> = if written.is_absolute() {
        vec![written.to_path_buf()]
    } else {
        folders.iter().map(|f| f.join(written)).collect()
    };
    let mut outside = false;
    for candidate in candidates {
        let Ok(real) = candidate.canonicalize() else {
            continue;
        };
        if !folders.iter().any(|f| real.starts_with(f)) {
            outside = true;
            continue;
        }
        if real.is_dir() {
            return Err(format!(
                "`@{}` is a folder; mention files (`@{}/name`)",
                mention.written,
                mention.path.trim_end_matches('/')
            ));
        }
        return Ok(Some(normalize_path(&real)));
    }
    if outside || (written.is_absolute() && !folders.iter().any(|f| written.starts_with(f))) {
        return Err(format!(
            "`@{}` is outside the workspace folders; only files inside them can be attached",
            mention.written
        ));
    }
    if written.is_absolute() || mention.looks_like_path() {
        return Err(format!(
            "`@{}`: no such file in the workspace folders",
            mention.written
        ));
    }
    Ok(None)
}

fn read_text(mention: &Mention, path: &Path) -> Result<String, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("`@{}`: {e}", mention.written))?
        .len();
    if size > MENTION_FILE_LIMIT {
        return Err(format!(
            "`@{}` is {} MiB; files over {} MiB are not attached",
            mention.written,
            size / (1024 * 1024),
            MENTION_FILE_LIMIT / (1024 * 1024)
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("`@{}`: {e}", mention.written))?;
    String::from_utf8(bytes).map_err(|_| {
        format!(
            "`@{}` is not a text file (not UTF-8); images go in `codex.ask`'s `images`",
            mention.written
        )
    })
}

/// Lines `start..=end` (1-based) of `text` and the last line taken (`end` cut at the end).
fn line_range(text: &str, start: u32, end: u32) -> Result<(String, u32), String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let count = lines.len() as u32;
    if start > count {
        return Err(format!(
            "the file has {count} lines; line {start} is past its end"
        ));
    }
    let end = end.min(count);
    Ok((lines[start as usize - 1..end as usize].concat(), end))
}

/// An image to send as a `localImage` input: its absolute path, checked to be an image.
/// Relative paths are read against `folder`.
pub fn check_image(written: &str, folder: Option<&Path>) -> Result<PathBuf, String> {
    let path = Path::new(written);
    let path = match folder {
        Some(folder) if path.is_relative() => folder.join(path),
        _ => path.to_path_buf(),
    };
    if path.is_relative() {
        return Err(format!(
            "image `{written}`: a relative path needs a workspace folder; give an absolute path"
        ));
    }
    let meta = std::fs::metadata(&path).map_err(|e| format!("image `{written}`: {e}"))?;
    if !meta.is_file() {
        return Err(format!("image `{written}` is not a file"));
    }
    if meta.len() > IMAGE_LIMIT {
        return Err(format!(
            "image `{written}` is {} MiB; images over {} MiB are not sent",
            meta.len() / (1024 * 1024),
            IMAGE_LIMIT / (1024 * 1024)
        ));
    }
    let mut head = [0u8; 16];
    let n = {
        use std::io::Read;
        let mut file = std::fs::File::open(&path).map_err(|e| format!("image `{written}`: {e}"))?;
        file.read(&mut head)
            .map_err(|e| format!("image `{written}`: {e}"))?
    };
    if image_kind(&head[..n]).is_none() {
        return Err(format!(
            "image `{written}` is not a PNG, JPEG, GIF or WebP image; attach text files with `@path` in the prompt"
        ));
    }
    Ok(path)
}

/// The image format of a file's first bytes, for the formats the Responses API takes.
fn image_kind(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if head.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(prompt: &str) -> Vec<String> {
        mentions_in(prompt).into_iter().map(|m| m.written).collect()
    }

    #[test]
    fn grammar() {
        assert_eq!(
            written("@a.rs and @src/b.rs#L3-4."),
            ["a.rs", "src/b.rs#L3-4"]
        );
        assert_eq!(written("mail me at me@example.com"), Vec::<String>::new());
        assert_eq!(written("see `@decorator` here"), Vec::<String>::new());
        assert_eq!(
            written("```py\n@decorator\ndef f(): pass\n```\nthen @x.py"),
            ["x.py"]
        );
        assert_eq!(written("(@a.rs) @ alone @b.rs,"), ["b.rs"]);
        let m = &mentions_in("@a.rs#L7")[0];
        assert_eq!(
            (m.path.as_str(), m.lines.clone()),
            ("a.rs", Some(Ok((7, 7))))
        );
        assert_eq!(mentions_in("@a.rs#L2-L9")[0].lines, Some(Ok((2, 9))));
        assert!(matches!(mentions_in("@a.rs#L9-2")[0].lines, Some(Err(_))));
    }

    #[test]
    fn resolving_stays_inside_the_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let ws = root.join("ws");
        std::fs::create_dir_all(ws.join("src")).unwrap();
        std::fs::write(ws.join("src/a.rs"), "one\ntwo\nthree\n").unwrap();
        std::fs::write(root.join("secret"), "s").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("secret"), ws.join("link")).unwrap();
        let folders = vec![ws.clone()];
        let none = |_: &Path| None;

        let got = attach_mentions("look at @src/a.rs#L2-9", &folders, none).unwrap();
        assert_eq!(got[0].label, "src/a.rs#L2-9");
        assert!(
            got[0].value.ends_with(":\ntwo\nthree\n"),
            "{}",
            got[0].value
        );
        assert!(got[0].value.starts_with("File src/a.rs, lines 2-3"));

        let open = |p: &Path| p.ends_with("src/a.rs").then(|| "unsaved\n".to_string());
        let got = attach_mentions("@src/a.rs", &folders, open).unwrap();
        assert!(got[0].value.ends_with("unsaved\n"));

        for refused in [
            "@/etc/passwd",
            "@../secret",
            &format!("@{}", root.join("secret").display()),
            "@src/missing.rs",
            "@src",
            "@src/a.rs#L9",
        ] {
            let e = attach_mentions(refused, &folders, none).unwrap_err();
            assert!(
                e.contains(refused.trim_start_matches('@')),
                "{refused}: {e}"
            );
        }
        #[cfg(unix)]
        assert!(attach_mentions("@link", &folders, none)
            .unwrap_err()
            .contains("outside"));
        // Words that name no file are text.
        assert!(attach_mentions("@here @Override", &folders, none)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn images_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.png"), b"\x89PNG\r\n\x1a\nrest").unwrap();
        std::fs::write(dir.path().join("t.png"), b"not an image").unwrap();
        assert!(check_image("p.png", Some(dir.path())).is_ok());
        assert!(check_image("t.png", Some(dir.path()))
            .unwrap_err()
            .contains("not a PNG"));
        assert!(check_image("gone.png", Some(dir.path())).is_err());
    }
}
