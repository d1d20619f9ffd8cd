//! `-S/--select`: lvm2's selection syntax for the common fields —
//! `FIELD OP VALUE` with `=`, `!=`, `<`, `<=`, `>`, `>=`, `=~` and `!~`
//! (regular expressions), combined with `&&`/`,`, `||`/`#`, `!`
//! and parentheses; sizes take lvm2's units (MiB when bare), lists (tags)
//! match when they hold every value given (`{a,b}` or one word).

use super::catalog::FieldSpec;
use super::render::{Cell, FieldKind};

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NoMatch,
}

/// A parsed `-S` expression.
#[derive(Debug, Clone)]
pub enum Selection {
    /// Both.
    And(Box<Selection>, Box<Selection>),
    /// Either.
    Or(Box<Selection>, Box<Selection>),
    /// Not.
    Not(Box<Selection>),
    /// One field compared with a value.
    Test {
        /// The field.
        field: &'static FieldSpec,
        /// How.
        op: OpBox,
        /// The value as written.
        value: Vec<String>,
        /// A compiled regular expression for `=~` and `!~`.
        regex: Option<regex::Regex>,
    },
}

/// The comparison of a [`Selection::Test`] (opaque).
#[derive(Debug, Clone, Copy)]
pub struct OpBox(Op);

struct Parser<'a, 'f> {
    text: &'a str,
    at: usize,
    resolve: &'f dyn Fn(&str) -> Option<&'static FieldSpec>,
}

impl Parser<'_, '_> {
    fn skip_blanks(&mut self) {
        while self.text[self.at..].starts_with(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, words: &[&str]) -> bool {
        self.skip_blanks();
        let rest = &self.text[self.at..];
        for word in words {
            if let Some(after) = rest.strip_prefix(word) {
                let alpha = word.chars().all(|c| c.is_ascii_alphabetic());
                if alpha && after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                self.at += word.len();
                return true;
            }
        }
        false
    }

    fn error(&self) -> String {
        syntax_error(&self.text[self.at.min(self.text.len())..])
    }

    fn or(&mut self) -> Result<Selection, String> {
        let mut left = self.and()?;
        while self.eat(&["||", "#"]) {
            let right = self.and()?;
            left = Selection::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Selection, String> {
        let mut left = self.unary()?;
        while self.eat(&["&&", ","]) {
            let right = self.unary()?;
            left = Selection::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Selection, String> {
        if self.eat(&["!(", "!"]) {
            // `!(` consumed the parenthesis: put it back for the group.
            if self.text[..self.at].ends_with('(') {
                self.at -= 1;
            }
            return Ok(Selection::Not(Box::new(self.unary()?)));
        }
        if self.eat(&["("]) {
            let inner = self.or()?;
            if !self.eat(&[")"]) {
                // lvm2 says this one alone, without its syntax-error lines.
                return Err(format!(
                    "Syntax error: right parenthesis expected at '{}'",
                    &self.text[self.at..]
                ));
            }
            return Ok(inner);
        }
        self.test()
    }

    fn word(&mut self) -> String {
        self.skip_blanks();
        let rest = &self.text[self.at..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.at += end;
        rest[..end].to_string()
    }

    fn value(&mut self) -> Result<Vec<String>, String> {
        self.skip_blanks();
        let rest = &self.text[self.at..];
        if let Some(q) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') {
            let Some(end) = rest[1..].find(q) else {
                return Err(self.error());
            };
            self.at += end + 2;
            return Ok(vec![rest[1..end + 1].to_string()]);
        }
        if let Some(close) = match rest.chars().next() {
            Some('{') => Some('}'),
            Some('[') => Some(']'),
            _ => None,
        } {
            let Some(end) = rest.find(close) else {
                return Err(self.error());
            };
            self.at += end + 1;
            return Ok(rest[1..end]
                .split(',')
                .map(|s| s.trim().trim_matches(['"', '\'']).to_string())
                .filter(|s| !s.is_empty())
                .collect());
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '&' | '|' | ',' | '#'))
            .unwrap_or(rest.len());
        self.at += end;
        Ok(vec![rest[..end].to_string()])
    }

    fn test(&mut self) -> Result<Selection, String> {
        let start = self.at;
        let name = self.word();
        if name.is_empty() {
            return Err(format!("Expecting field name\n  {}", self.error()));
        }
        let Some(field) = (self.resolve)(&name) else {
            // lvm2 first lists every field it could have meant, with its type.
            let fields = super::query::selection_fields_text();
            return Err(format!(
                "{}  Unrecognised selection field: {name}\n  {}",
                fields.trim_start(),
                syntax_error(&self.text[start..])
            ));
        };
        self.skip_blanks();
        let op = [
            ("=~", Op::Match),
            ("!~", Op::NoMatch),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("=", Op::Eq),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .into_iter()
        .find(|(s, _)| self.text[self.at..].starts_with(s));
        let Some((spelled, op)) = op else {
            let rest = &self.text[self.at..];
            let junk = rest.find(char::is_whitespace).unwrap_or(rest.len());
            return Err(format!(
                "{}  Unrecognised comparison operator: {}\n  {}",
                SELECTION_HELP.trim_start(),
                &rest[..junk],
                syntax_error(&self.text[start..])
            ));
        };
        self.at += spelled.len();
        let value = self.value()?;
        let regex = match op {
            Op::Match | Op::NoMatch => Some(
                regex::Regex::new(value.first().map_or("", String::as_str))
                    .map_err(|_| syntax_error(&self.text[start..]))?,
            ),
            _ => None,
        };
        if matches!(field.kind, FieldKind::Size | FieldKind::Number)
            && regex.is_none()
            && value.iter().any(|v| number_of(field.kind, v).is_none())
        {
            return Err(format!(
                "Failed to parse numeric value for selection field {}.\n  {}",
                field.id,
                syntax_error(&self.text[start..])
            ));
        }
        Ok(Selection::Test {
            field,
            op: OpBox(op),
            value,
            regex,
        })
    }
}

/// lvm2's help on the selection syntax, which it prints for a missing operator.
const SELECTION_HELP: &str = include_str!("selection_help.txt");

/// lvm2's two lines for a selection that does not parse from `rest` on.
fn syntax_error(rest: &str) -> String {
    format!("Selection syntax error at '{rest}'.\n  Use 'help' for selection to get more help.")
}

/// A number in a selection: sizes in sectors (bare numbers are MiB), counts as they are.
fn number_of(kind: FieldKind, text: &str) -> Option<f64> {
    if kind == FieldKind::Size {
        let digits_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let number: f64 = text[..digits_end].parse().ok()?;
        let unit = &text[digits_end..];
        let factor = match unit {
            "" | "m" | "M" => 2048.0,
            "s" | "S" => 1.0,
            "b" | "B" => 1.0 / 512.0,
            "k" | "K" => 2.0,
            "g" | "G" => 2048.0 * 1024.0,
            "t" | "T" => 2048.0 * 1024.0 * 1024.0,
            _ => return None,
        };
        return Some(number * factor);
    }
    text.parse().ok()
}

impl Selection {
    /// Parse `text`, resolving field names with `resolve`.
    pub fn parse(
        text: &str,
        resolve: &dyn Fn(&str) -> Option<&'static FieldSpec>,
    ) -> Result<Selection, String> {
        let mut parser = Parser {
            text,
            at: 0,
            resolve,
        };
        let selection = parser.or()?;
        parser.skip_blanks();
        if parser.at < text.len() {
            // A complete condition followed by more than a logical operator (`and`).
            return Err(format!("Expecting logical operator\n  {}", parser.error()));
        }
        Ok(selection)
    }

    /// Whether the row whose field values `get` gives passes.
    pub fn matches(&self, get: &dyn Fn(&FieldSpec) -> Cell) -> bool {
        match self {
            Selection::And(a, b) => a.matches(get) && b.matches(get),
            Selection::Or(a, b) => a.matches(get) || b.matches(get),
            Selection::Not(a) => !a.matches(get),
            Selection::Test {
                field,
                op: OpBox(op),
                value,
                regex,
            } => {
                let cell = get(field);
                let text = match &cell {
                    Cell::Text(t) => t.clone(),
                    Cell::Flag(Some(on), word) => {
                        if *on {
                            (*word).to_string()
                        } else {
                            String::new()
                        }
                    }
                    Cell::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                if let Some(regex) = regex {
                    return regex.is_match(&text) == (*op == Op::Match);
                }
                let ordering = match (&cell, field.kind) {
                    (Cell::Size(s), _) => number_of(FieldKind::Size, &value[0])
                        .and_then(|v| (*s as f64).partial_cmp(&v)),
                    (Cell::Number(n), _) => value[0]
                        .parse::<f64>()
                        .ok()
                        .and_then(|v| (*n as f64).partial_cmp(&v)),
                    // An unset percentage (an inactive snapshot, a plain LV) matches no comparison.
                    (Cell::Percent(p), _) if *p == super::percent::PERCENT_INVALID => None,
                    (Cell::Percent(p), _) => value[0]
                        .trim_end_matches('%')
                        .parse::<f64>()
                        .ok()
                        .and_then(|v| (*p as f64 / 1e6).partial_cmp(&v)),
                    (Cell::Flag(state, _), _) => {
                        // lvm2 compares an unknown flag as -1.
                        let on = state.map_or(-1, i64::from);
                        let want = match value[0].as_str() {
                            "1" => 1,
                            "0" | "" => 0,
                            word => i64::from(!word.is_empty()),
                        };
                        Some(on.cmp(&want))
                    }
                    (_, FieldKind::List) => {
                        let items: Vec<&str> = text.split(',').filter(|s| !s.is_empty()).collect();
                        let holds = value.iter().all(|v| items.contains(&v.as_str()));
                        let equal = if value.iter().all(String::is_empty) {
                            items.is_empty()
                        } else {
                            holds
                        };
                        return match op {
                            Op::Eq => equal,
                            Op::Ne => !equal,
                            _ => false,
                        };
                    }
                    _ => Some(text.as_str().cmp(value[0].as_str())),
                };
                let Some(ordering) = ordering else {
                    return false;
                };
                use std::cmp::Ordering::*;
                match op {
                    Op::Eq => ordering == Equal,
                    Op::Ne => ordering != Equal,
                    Op::Lt => ordering == Less,
                    Op::Le => ordering != Greater,
                    Op::Gt => ordering == Greater,
                    Op::Ge => ordering != Less,
                    Op::Match | Op::NoMatch => false,
                }
            }
        }
    }
}
