//! lvm2's config syntax, as its metadata texts use it: `name { ... }`
//! sections, `key = value` settings, values that are integers, strings
//! (with `\"` and `\\` escapes) or arrays of them, and `#` comments. Parsed
//! into a tree that keeps every item in order, so a read-modify-write keeps
//! what rlvm does not model; emitted in the layout lvm2 writes to a
//! metadata area.

use std::fmt::Write as _;

use thiserror::Error;

/// A value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A floating-point number (lvm.conf allows them; metadata does not use them).
    Float(f64),
    /// A string.
    Str(String),
    /// An array of values.
    Array(Vec<Value>),
}

/// One item of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `key = value`.
    Setting(String, Value),
    /// `name { items }`.
    Section(String, Vec<Item>),
}

/// A syntax error, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("metadata text line {line} column {column}: {message}")]
pub struct SyntaxError {
    /// Line (1-based).
    pub line: usize,
    /// Column (1-based).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
    line_start: usize,
    depth: usize,
}

/// Sections deeper than this are refused rather than risking the stack.
const MAX_DEPTH: usize = 64;

impl<'a> Parser<'a> {
    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            line: self.line,
            column: self.at - self.line_start + 1,
            message: message.into(),
        }
    }

    fn skip_blank(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                b'#' => {
                    while self.bytes.get(self.at).is_some_and(|&b| b != b'\n') {
                        self.at += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_blank();
        self.bytes.get(self.at).copied()
    }

    fn identifier(&mut self) -> Result<String, SyntaxError> {
        let start = self.at;
        while self.bytes.get(self.at).is_some_and(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/')
        }) {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error("expected a name"));
        }
        Ok(String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
    }

    fn items(&mut self, closing: bool) -> Result<Vec<Item>, SyntaxError> {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None if closing => return Err(self.error("section is not closed with '}'")),
                None => return Ok(items),
                Some(b'}') if closing => {
                    self.at += 1;
                    return Ok(items);
                }
                Some(b'}') => return Err(self.error("unexpected '}'")),
                Some(_) => {
                    let name = self.identifier()?;
                    match self.peek() {
                        Some(b'{') => {
                            self.at += 1;
                            self.depth += 1;
                            if self.depth > MAX_DEPTH {
                                return Err(self.error("sections nested too deeply"));
                            }
                            let inner = self.items(true)?;
                            self.depth -= 1;
                            items.push(Item::Section(name, inner));
                        }
                        Some(b'=') => {
                            self.at += 1;
                            let value = self.value(true)?;
                            items.push(Item::Setting(name, value));
                        }
                        _ => {
                            return Err(self.error(format!("expected '=' or '{{' after \"{name}\"")))
                        }
                    }
                }
            }
        }
    }

    fn value(&mut self, array_allowed: bool) -> Result<Value, SyntaxError> {
        match self.peek() {
            Some(b'"') => self.string().map(Value::Str),
            Some(b'[') if array_allowed => {
                self.at += 1;
                let mut values = Vec::new();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Value::Array(values));
                }
                loop {
                    values.push(self.value(false)?);
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Value::Array(values));
                        }
                        _ => return Err(self.error("expected ',' or ']' in array")),
                    }
                }
            }
            Some(b) if b == b'-' || b.is_ascii_digit() => self.number(),
            _ => Err(self.error("expected a value")),
        }
    }

    fn number(&mut self) -> Result<Value, SyntaxError> {
        let start = self.at;
        while self
            .bytes
            .get(self.at)
            .is_some_and(|&b| b.is_ascii_digit() || matches!(b, b'-' | b'.'))
        {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).unwrap_or("");
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Value::Int(n));
        }
        text.parse::<f64>()
            .map(Value::Float)
            .map_err(|_| self.error(format!("\"{text}\" is not a number")))
    }

    fn string(&mut self) -> Result<String, SyntaxError> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.bytes.get(self.at) {
                None => return Err(self.error("string is not closed")),
                Some(b'"') => {
                    self.at += 1;
                    return String::from_utf8(out).map_err(|_| self.error("string is not UTF-8"));
                }
                Some(b'\\') => {
                    match self.bytes.get(self.at + 1) {
                        Some(&escaped) => out.push(escaped),
                        None => return Err(self.error("string is not closed")),
                    }
                    self.at += 2;
                }
                Some(b'\n') => {
                    out.push(b'\n');
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                Some(&b) => {
                    out.push(b);
                    self.at += 1;
                }
            }
        }
    }
}

/// Parse a metadata text (or any lvm2 config text).
pub fn parse(text: &str) -> Result<Vec<Item>, SyntaxError> {
    Parser {
        bytes: text.as_bytes(),
        at: 0,
        line: 1,
        line_start: 0,
        depth: 0,
    }
    .items(false)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f}");
        }
        Value::Str(s) => {
            let _ = write!(out, "\"{}\"", escape(s));
        }
        Value::Array(values) => {
            out.push('[');
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, v);
            }
            out.push(']');
        }
    }
}

/// Emit items the way lvm2 writes a metadata area: no indentation, a blank
/// line before each subsection, stripe lists one pair per line.
pub fn emit(items: &[Item]) -> String {
    let mut out = String::new();
    emit_into(&mut out, items);
    out
}

fn emit_into(out: &mut String, items: &[Item]) {
    for item in items {
        match item {
            Item::Setting(key, Value::Array(values)) if key == "stripes" => {
                let _ = writeln!(out, "{key} = [");
                for pair in values.chunks(2) {
                    let mut line = String::new();
                    for (i, v) in pair.iter().enumerate() {
                        if i > 0 {
                            line.push_str(", ");
                        }
                        write_value(&mut line, v);
                    }
                    let _ = writeln!(out, "{line}");
                }
                out.push_str("]\n");
            }
            Item::Setting(key, value) => {
                let _ = write!(out, "{key} = ");
                write_value(out, value);
                out.push('\n');
            }
            Item::Section(name, inner) => {
                if !out.is_empty() && !out.ends_with("{\n") && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                let _ = writeln!(out, "{name} {{");
                emit_into(out, inner);
                out.push_str("}\n");
            }
        }
    }
}

/// Look up a setting among `items`.
pub fn get<'a>(items: &'a [Item], key: &str) -> Option<&'a Value> {
    items.iter().find_map(|item| match item {
        Item::Setting(k, v) if k == key => Some(v),
        _ => None,
    })
}

/// Look up a subsection among `items`.
pub fn section<'a>(items: &'a [Item], name: &str) -> Option<&'a [Item]> {
    items.iter().find_map(|item| match item {
        Item::Section(n, inner) if n == name => Some(inner.as_slice()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LVM2_TEXT: &str = "vg1 {\nid = \"cdUyfh-EHpq-z0Jw-LCkt-L9yQ-Sav9-kjcVSK\"\nseqno = 2\nstatus = [\"RESIZEABLE\", \"READ\", \"WRITE\"]\nflags = []\n\nlogical_volumes {\n\nlv0 {\nsegment1 {\nstripes = [\n\"pv0\", 0\n]\n}\n}\n}\n}\n# Generated by LVM2\ncontents = \"Text Format Volume Group\"\nversion = 1\ncreation_host = \"vm\"\t# Linux vm\n";

    #[test]
    fn parses_and_emits_lvm2_text() {
        let items = parse(LVM2_TEXT).unwrap();
        let vg = section(&items, "vg1").unwrap();
        assert_eq!(get(vg, "seqno"), Some(&Value::Int(2)));
        assert_eq!(get(vg, "flags"), Some(&Value::Array(vec![])));
        assert_eq!(get(&items, "creation_host"), Some(&Value::Str("vm".into())));
        let lv0 = section(section(vg, "logical_volumes").unwrap(), "lv0").unwrap();
        let stripes = get(section(lv0, "segment1").unwrap(), "stripes").unwrap();
        assert_eq!(
            stripes,
            &Value::Array(vec![Value::Str("pv0".into()), Value::Int(0)])
        );
        // Emitting and parsing again gives the same tree.
        assert_eq!(parse(&emit(&items)).unwrap(), items);
    }

    #[test]
    fn escapes_round_trip() {
        let items = vec![Item::Setting(
            "description".into(),
            Value::Str("a \"quoted\" \\ path".into()),
        )];
        let text = emit(&items);
        assert_eq!(text, "description = \"a \\\"quoted\\\" \\\\ path\"\n");
        assert_eq!(parse(&text).unwrap(), items);
    }

    #[test]
    fn errors_give_line_and_column() {
        let err = parse("vg {\nseqno = \n}").unwrap_err();
        assert_eq!((err.line, err.column), (3, 1));
        assert!(parse("vg {").is_err());
        assert!(parse("}").is_err());
        assert!(parse("a = \"x").is_err());
        assert!(parse("a = [1, 2").is_err());
        assert!(parse("a = [[1]]").is_err());
        assert!(parse("a b").is_err());
        assert!(parse(&"a {".repeat(100)).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = parse(&text);
        }
    }
}
