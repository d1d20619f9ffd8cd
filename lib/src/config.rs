//! Configuration in lvm.conf's syntax: `section { key = value }` and
//! `section/key = value`, `#` comments, integers, strings (quoted or bare
//! words) and arrays. rlvm
//! reads `/etc/rlvm/lvm.conf` (or `$RLVM_CONFIG`), then every `--config`
//! string on top, as lvm2 does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// An array (`[ "a|x|", "r|.*|" ]`).
    List(Vec<ConfigValue>),
}

/// Settings by `section/key` path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    values: BTreeMap<String, ConfigValue>,
}

/// Text that is not lvm.conf syntax.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A syntax error, worded as lvm2's parser words it.
    #[error("Parse error at byte {byte} (line {line}): {message}")]
    Syntax {
        /// The file or `--config`.
        source_name: String,
        /// Where the offending token starts (1-based; the end of the text counts).
        byte: usize,
        /// Line number (1-based).
        line: usize,
        /// What is wrong (`unexpected token`, `expected a value`).
        message: String,
    },
    /// The file could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    Equals,
    ListOpen,
    ListClose,
    Comma,
    /// The end of the text, where lvm2 reports a missing token.
    End,
}

/// A token with where it starts: its byte (1-based) and line.
type Placed = (Token, usize, usize);

/// The tokens of `text`, ending in [`Token::End`]; an unterminated string
/// ends the text (lvm2 then finds no value).
fn tokenize(text: &str) -> Vec<Placed> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut line = 1;
    while let Some(&(at, c)) = chars.peek() {
        let byte = at + 1;
        let single = match c {
            '{' => Some(Token::Open),
            '}' => Some(Token::Close),
            '=' => Some(Token::Equals),
            '[' => Some(Token::ListOpen),
            ']' => Some(Token::ListClose),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(token) = single {
            chars.next();
            tokens.push((token, byte, line));
            continue;
        }
        match c {
            '\n' => {
                line += 1;
                chars.next();
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => {
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    chars.next();
                }
            }
            '"' => {
                chars.next();
                let start_line = line;
                let mut value = String::new();
                let mut closed = false;
                while let Some((_, c)) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                value.push(escaped);
                            }
                        }
                        '\n' => {
                            line += 1;
                            value.push('\n');
                        }
                        other => value.push(other),
                    }
                }
                if !closed {
                    break;
                }
                tokens.push((Token::Str(value), byte, start_line));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || "{}=[],\"#".contains(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push((Token::Word(word), byte, line));
            }
        }
    }
    tokens.push((Token::End, text.len() + 1, line));
    tokens
}

/// A value token as lvm2 reads it: a number, a quoted string, or a bare word (a string too).
fn scalar(token: &Token) -> Option<ConfigValue> {
    match token {
        Token::Str(s) => Some(ConfigValue::Str(s.clone())),
        Token::Word(w) => Some(
            w.parse::<i64>()
                .map(ConfigValue::Int)
                .unwrap_or_else(|_| ConfigValue::Str(w.clone())),
        ),
        _ => None,
    }
}

impl Config {
    /// Parse `text` on top of the current settings (later settings win).
    pub fn merge_text(&mut self, text: &str, source_name: &str) -> Result<(), ConfigError> {
        let tokens = tokenize(text);
        let err = |placed: &Placed, message: &str| ConfigError::Syntax {
            source_name: source_name.to_string(),
            byte: placed.1,
            line: placed.2,
            message: message.to_string(),
        };
        const UNEXPECTED: &str = "unexpected token";
        const NO_VALUE: &str = "expected a value";
        let mut path: Vec<String> = Vec::new();
        let mut i = 0;
        loop {
            let placed = &tokens[i];
            match &placed.0 {
                Token::End if path.is_empty() => return Ok(()),
                Token::Close if !path.is_empty() => {
                    path.pop();
                    i += 1;
                }
                Token::Word(name) => {
                    let next = &tokens[i + 1];
                    match next.0 {
                        Token::Open => {
                            path.push(name.clone());
                            i += 2;
                            continue;
                        }
                        Token::Equals => {}
                        _ => return Err(err(next, UNEXPECTED)),
                    }
                    let first = &tokens[i + 2];
                    let (value, after) = if first.0 == Token::ListOpen {
                        // An array: values separated by commas.
                        let mut j = i + 3;
                        let mut items = Vec::new();
                        loop {
                            if tokens[j].0 == Token::ListClose && items.is_empty() {
                                break;
                            }
                            items.push(
                                scalar(&tokens[j].0).ok_or_else(|| err(&tokens[j], NO_VALUE))?,
                            );
                            j += 1;
                            match tokens[j].0 {
                                Token::Comma => j += 1,
                                Token::ListClose => break,
                                _ => return Err(err(&tokens[j], UNEXPECTED)),
                            }
                        }
                        (ConfigValue::List(items), j + 1)
                    } else {
                        (scalar(&first.0).ok_or_else(|| err(first, NO_VALUE))?, i + 3)
                    };
                    let mut key = path.join("/");
                    if !key.is_empty() {
                        key.push('/');
                    }
                    key.push_str(name);
                    self.values.insert(key, value);
                    i = after;
                }
                _ => return Err(err(placed, UNEXPECTED)),
            }
        }
    }

    /// Parse a file on top of the current settings; a missing file is no error.
    pub fn merge_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => self.merge_text(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        }
    }

    /// rlvm's configuration file: `$RLVM_CONFIG` or `/etc/rlvm/lvm.conf`.
    pub fn file() -> PathBuf {
        std::env::var_os("RLVM_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/rlvm/lvm.conf"))
    }

    /// Where the profile `name` lives: `profile/NAME.profile` beside the
    /// configuration file, as lvm2 keeps its profiles beside lvm.conf.
    pub fn profile_file(name: &str) -> PathBuf {
        let file = Self::file();
        file.parent()
            .unwrap_or(Path::new("/"))
            .join("profile")
            .join(format!("{name}.profile"))
    }

    /// rlvm's configuration: the file (`$RLVM_CONFIG` or `/etc/rlvm/lvm.conf`), then each `--config` string.
    pub fn load(overrides: &[String]) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        config.merge_file(&Self::file())?;
        for text in overrides {
            config.merge_text(text, "--config")?;
        }
        Ok(config)
    }

    /// An integer setting (`activation/snapshot_autoextend_threshold`).
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.values.get(key)? {
            ConfigValue::Int(n) => Some(*n),
            ConfigValue::Str(_) | ConfigValue::List(_) => None,
        }
    }

    /// A string setting.
    pub fn string(&self, key: &str) -> Option<&str> {
        match self.values.get(key)? {
            ConfigValue::Str(s) => Some(s),
            ConfigValue::Int(_) | ConfigValue::List(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_paths_and_overrides() {
        let mut config = Config::default();
        config
            .merge_text(
                "# lvm.conf\nactivation {\n\tsnapshot_autoextend_threshold = 70 # percent\n\tsnapshot_autoextend_percent = 20\n\tvolume_list = \"vg\"\n}\n",
                "lvm.conf",
            )
            .unwrap();
        assert_eq!(
            config.int("activation/snapshot_autoextend_threshold"),
            Some(70)
        );
        config
            .merge_text("activation/snapshot_autoextend_threshold=80", "--config")
            .unwrap();
        assert_eq!(
            config.int("activation/snapshot_autoextend_threshold"),
            Some(80)
        );
        assert_eq!(
            config.int("activation/snapshot_autoextend_percent"),
            Some(20)
        );
        assert_eq!(config.string("activation/volume_list"), Some("vg"));
    }

    #[test]
    fn errors_are_worded_as_lvm2_words_them() {
        // The bytes and messages lvm2 2.03.16 printed for these --config strings.
        let cases = [
            ("nosuch", "Parse error at byte 7 (line 1): unexpected token"),
            ("a=", "Parse error at byte 3 (line 1): expected a value"),
            ("a=1 b", "Parse error at byte 6 (line 1): unexpected token"),
            (
                "global{units=\"m\"",
                "Parse error at byte 17 (line 1): unexpected token",
            ),
            ("a=[1,", "Parse error at byte 6 (line 1): expected a value"),
            ("=1", "Parse error at byte 1 (line 1): unexpected token"),
            ("a b=1", "Parse error at byte 3 (line 1): unexpected token"),
            ("a==1", "Parse error at byte 3 (line 1): expected a value"),
            ("a=1}", "Parse error at byte 4 (line 1): unexpected token"),
            ("x{", "Parse error at byte 3 (line 1): unexpected token"),
            ("a=1\nb", "Parse error at byte 6 (line 2): unexpected token"),
            ("a={", "Parse error at byte 3 (line 1): expected a value"),
        ];
        for (text, wanted) in cases {
            let mut config = Config::default();
            let error = config.merge_text(text, "--config").unwrap_err();
            assert_eq!(error.to_string(), wanted, "{text:?}");
        }
    }

    #[test]
    fn bare_words_and_arrays_are_values() {
        let mut config = Config::default();
        config
            .merge_text(
                "global{units=m}\ndevices { filter = [ \"a|x|\", \"r|.*|\" ] }",
                "x",
            )
            .unwrap();
        assert_eq!(config.string("global/units"), Some("m"));
        assert_eq!(config.string("devices/filter"), None);
        assert_eq!(
            config.values.get("devices/filter"),
            Some(&ConfigValue::List(vec![
                ConfigValue::Str("a|x|".into()),
                ConfigValue::Str("r|.*|".into())
            ]))
        );
    }
}
