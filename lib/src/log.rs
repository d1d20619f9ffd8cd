//! lvm2's message classes, set once per process from the common options
//! (`-q`, `-v`, `-d`): result lines on stdout, warnings and progress lines on
//! stderr, each indented by two spaces as lvm2 prints them. The library
//! speaks through these functions so every command, and the monitor, obeys
//! the same `-q`/`-v` without passing a logger through every call.
//!
//! A failed write (a closed or full stdout) never panics: it is remembered,
//! and the command turns it into a failure once its work is safely done
//! ([`output_failed`]).

use std::cell::RefCell;
use std::fmt::Display;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

static QUIET: AtomicU8 = AtomicU8::new(0);
static VERBOSE: AtomicU8 = AtomicU8::new(0);
static DEBUG: AtomicU8 = AtomicU8::new(0);
static OUTPUT_FAILED: AtomicBool = AtomicBool::new(false);

thread_local! {
    static CAPTURE: RefCell<Option<Vec<Message>>> = const { RefCell::new(None) };
}

/// How much a command says: lvm2's `-q`, `-v` and `-d` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Levels {
    /// `-q` count: 1 drops progress lines, 2 also drops result lines and
    /// answers prompts no; warnings stay (lvm2 2.03 prints them under `-qq`).
    pub quiet: u8,
    /// `-v` count: progress lines at or below it are printed.
    pub verbose: u8,
    /// `-d` count: debug lines at or below it are printed.
    pub debug: u8,
}

/// One message, as [`capture`] hands it to a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A result line (stdout).
    Print(String),
    /// A warning (stderr, `WARNING: ` prefixed).
    Warning(String),
    /// A progress line at a verbosity level (stderr).
    Verbose(u8, String),
}

/// Set the levels for the rest of the process.
pub fn configure(levels: Levels) {
    QUIET.store(levels.quiet, Ordering::Relaxed);
    VERBOSE.store(levels.verbose, Ordering::Relaxed);
    DEBUG.store(levels.debug, Ordering::Relaxed);
}

/// The levels in force.
pub fn levels() -> Levels {
    Levels {
        quiet: QUIET.load(Ordering::Relaxed),
        verbose: VERBOSE.load(Ordering::Relaxed),
        debug: DEBUG.load(Ordering::Relaxed),
    }
}

fn captured(message: Message) -> Option<Message> {
    CAPTURE.with(|c| match c.borrow_mut().as_mut() {
        Some(list) => {
            list.push(message);
            None
        }
        None => Some(message),
    })
}

/// A result line on stdout (`  Logical volume "x" created.`); lvm2 2.03
/// prints these with `-q` and drops them with `-qq`.
pub fn print(line: impl Display) {
    let Some(Message::Print(line)) = captured(Message::Print(line.to_string())) else {
        return;
    };
    if QUIET.load(Ordering::Relaxed) >= 2 {
        return;
    }
    let mut out = std::io::stdout().lock();
    if writeln!(out, "  {line}")
        .and_then(|()| out.flush())
        .is_err()
    {
        OUTPUT_FAILED.store(true, Ordering::Relaxed);
    }
}

/// A warning on stderr (`  WARNING: ...`); lvm2 2.03 keeps its warnings
/// under `-q` and `-qq` alike, so nothing here drops them.
pub fn warning(text: impl Display) {
    let Some(Message::Warning(text)) = captured(Message::Warning(text.to_string())) else {
        return;
    };
    let _ = writeln!(std::io::stderr().lock(), "  WARNING: {text}");
}

/// A progress line on stderr, printed at `-v` count `level` or more (never with `-q`).
pub fn verbose(level: u8, text: impl Display) {
    let Some(Message::Verbose(level, text)) = captured(Message::Verbose(level, text.to_string()))
    else {
        return;
    };
    if QUIET.load(Ordering::Relaxed) == 0 && VERBOSE.load(Ordering::Relaxed) >= level {
        let _ = writeln!(std::io::stderr().lock(), "  {text}");
    }
}

/// Whether a result line could not be written (the command should then fail
/// after its work is done, as lvm2 does on a closed stdout).
pub fn output_failed() -> bool {
    OUTPUT_FAILED.load(Ordering::Relaxed)
}

/// Run `body` with this thread's messages collected instead of printed.
pub fn capture<R>(body: impl FnOnce() -> R) -> (R, Vec<Message>) {
    let outer = CAPTURE.with(|c| c.replace(Some(Vec::new())));
    let result = body();
    let messages = CAPTURE
        .with(|c| c.replace(outer))
        .expect("capture list in place");
    (result, messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_collects_each_class_in_order() {
        let ((), messages) = capture(|| {
            print("Logical volume \"x\" created.");
            warning("Logical volume vg/x not zeroed.");
            verbose(2, "Loading table for vg-x.");
        });
        assert_eq!(
            messages,
            vec![
                Message::Print("Logical volume \"x\" created.".into()),
                Message::Warning("Logical volume vg/x not zeroed.".into()),
                Message::Verbose(2, "Loading table for vg-x.".into()),
            ]
        );
    }

    #[test]
    fn nested_captures_keep_their_own_messages() {
        let ((), outer) = capture(|| {
            warning("outer");
            let ((), inner) = capture(|| warning("inner"));
            assert_eq!(inner, vec![Message::Warning("inner".into())]);
        });
        assert_eq!(outer, vec![Message::Warning("outer".into())]);
    }
}
