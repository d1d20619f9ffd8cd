//! Configuration in lvm.conf's syntax: `section { key = value }` and
//! `section/key = value`, `#` comments, integers and quoted strings. rlvm
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
}

/// Settings by `section/key` path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    values: BTreeMap<String, ConfigValue>,
}

/// Text that is not lvm.conf syntax.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A syntax error.
    #[error("{source_name}: line {line}: {message}")]
    Syntax {
        /// The file or `--config`.
        source_name: String,
        /// Line number (1-based).
        line: usize,
        /// What is wrong.
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
}

fn tokenize(text: &str, source_name: &str) -> Result<Vec<(Token, usize)>, ConfigError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let err = |line, message: &str| ConfigError::Syntax {
        source_name: source_name.to_string(),
        line,
        message: message.to_string(),
    };
    while let Some(&c) = chars.peek() {
        match c {
            '\n' => {
                line += 1;
                chars.next();
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => {
                while chars.peek().is_some_and(|&c| c != '\n') {
                    chars.next();
                }
            }
            '{' => {
                chars.next();
                tokens.push((Token::Open, line));
            }
            '}' => {
                chars.next();
                tokens.push((Token::Close, line));
            }
            '=' => {
                chars.next();
                tokens.push((Token::Equals, line));
            }
            '"' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err(err(line, "unterminated string")),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped) => value.push(escaped),
                            None => return Err(err(line, "unterminated string")),
                        },
                        Some('\n') => {
                            line += 1;
                            value.push('\n');
                        }
                        Some(other) => value.push(other),
                    }
                }
                tokens.push((Token::Str(value), line));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '{' | '}' | '=' | '"' | '#') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push((Token::Word(word), line));
            }
        }
    }
    Ok(tokens)
}

impl Config {
    /// Parse `text` on top of the current settings (later settings win).
    pub fn merge_text(&mut self, text: &str, source_name: &str) -> Result<(), ConfigError> {
        let tokens = tokenize(text, source_name)?;
        let err = |line, message: String| ConfigError::Syntax {
            source_name: source_name.to_string(),
            line,
            message,
        };
        let mut path: Vec<String> = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let (token, line) = &tokens[i];
            match token {
                Token::Close => {
                    if path.pop().is_none() {
                        return Err(err(*line, "unexpected '}'".into()));
                    }
                    i += 1;
                }
                Token::Word(name) => match tokens.get(i + 1) {
                    Some((Token::Open, _)) => {
                        path.push(name.clone());
                        i += 2;
                    }
                    Some((Token::Equals, _)) => {
                        let value = match tokens.get(i + 2) {
                            Some((Token::Str(s), _)) => ConfigValue::Str(s.clone()),
                            Some((Token::Word(w), _)) => match w.parse::<i64>() {
                                Ok(n) => ConfigValue::Int(n),
                                Err(_) => {
                                    return Err(err(
                                        *line,
                                        format!(
                                            "value of {name} is not a number or a quoted string"
                                        ),
                                    ))
                                }
                            },
                            _ => return Err(err(*line, format!("{name} has no value"))),
                        };
                        let mut key = path.join("/");
                        if !key.is_empty() {
                            key.push('/');
                        }
                        key.push_str(name);
                        self.values.insert(key, value);
                        i += 3;
                    }
                    _ => return Err(err(*line, format!("expected '=' or '{{' after {name}"))),
                },
                _ => return Err(err(*line, "expected a name".into())),
            }
        }
        if !path.is_empty() {
            return Err(err(
                tokens.last().map_or(1, |t| t.1),
                format!("section {} is not closed", path.join("/")),
            ));
        }
        Ok(())
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

    /// rlvm's configuration: the file (`$RLVM_CONFIG` or `/etc/rlvm/lvm.conf`), then each `--config` string.
    pub fn load(overrides: &[String]) -> Result<Self, ConfigError> {
        let mut config = Config::default();
        let file = std::env::var_os("RLVM_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/rlvm/lvm.conf"));
        config.merge_file(&file)?;
        for text in overrides {
            config.merge_text(text, "--config")?;
        }
        Ok(config)
    }

    /// An integer setting (`activation/snapshot_autoextend_threshold`).
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.values.get(key)? {
            ConfigValue::Int(n) => Some(*n),
            ConfigValue::Str(_) => None,
        }
    }

    /// A string setting.
    pub fn string(&self, key: &str) -> Option<&str> {
        match self.values.get(key)? {
            ConfigValue::Str(s) => Some(s),
            ConfigValue::Int(_) => None,
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
    fn errors_name_the_source_and_line() {
        let mut config = Config::default();
        assert_eq!(
            config
                .merge_text("a {\n b = \n}", "x.conf")
                .unwrap_err()
                .to_string(),
            "x.conf: line 2: b has no value"
        );
        assert!(config.merge_text("a {", "x").is_err());
        assert!(config.merge_text("}", "x").is_err());
        assert!(config.merge_text("a = \"open", "x").is_err());
        assert!(config.merge_text("a = 7x", "x").is_err());
    }
}
