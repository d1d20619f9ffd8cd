//! Rendering a report in lvm2's three shapes: aligned columns (drawn with
//! comfy-table, laid out as lvm2 lays them out), `--separator` lines, and
//! lvm2's JSON (every value a string, lvm2's indentation).

use std::borrow::Borrow;
use std::fmt::Write as _;

use comfy_table::{presets, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width};
use serde_json::Value;

use super::percent::{format_percent, Percent};
use super::units::{format_size, Units};

/// How a field's values look and align.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text, left-aligned.
    Text,
    /// A count, right-aligned.
    Number,
    /// A size in sectors, right-aligned, printed in the report's units.
    Size,
    /// A percentage, left-aligned (as lvm2 2.03 prints Data%, Snap%, Cpy%Sync).
    Percent,
    /// A flag: a word when set, blank when not, `unknown` when unknowable; right-aligned.
    Binary,
    /// A comma-separated list (tags), left-aligned.
    List,
    /// A time, left-aligned.
    Time,
}

impl FieldKind {
    /// Whether values are right-aligned, as lvm2 aligns numbers, sizes and flags.
    pub fn right_aligned(self) -> bool {
        matches!(
            self,
            FieldKind::Number | FieldKind::Size | FieldKind::Binary
        )
    }
}

/// The output shapes of `--reportformat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Columns (lvm2's `basic`).
    #[default]
    Basic,
    /// lvm2's JSON, every value a string.
    Json,
    /// JSON with numbers as numbers (lvm2's `json_std`).
    JsonStd,
}

/// One value in a report row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text as is.
    Text(String),
    /// A count.
    Number(i64),
    /// A size in 512-byte sectors.
    Size(u64),
    /// A percentage (`PERCENT_INVALID` prints empty).
    Percent(Percent),
    /// A flag: set, clear or unknown (`None`), and the word it prints when set.
    Flag(Option<bool>, &'static str),
    /// Nothing to show.
    Empty,
}

/// A field definition: lvm2's id, heading, minimum width and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Field id as `-o` and JSON name it (`lv_name`).
    pub id: &'static str,
    /// Heading (`LV`).
    pub heading: &'static str,
    /// Minimum width lvm2 gives the column.
    pub width: usize,
    /// Value kind.
    pub kind: FieldKind,
}

/// Output options shared by every report command.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// `--units`.
    pub units: Units,
    /// Without `--nosuffix`.
    pub suffix: bool,
    /// Without `--noheadings`.
    pub headings: bool,
    /// `--separator`: unaligned fields joined by it.
    pub separator: Option<String>,
    /// `--reportformat json` (kept for callers that only need JSON or not).
    pub json: bool,
    /// `--reportformat`.
    pub format: Format,
    /// `--binary`: flags as 1, 0 and -1.
    pub binary: bool,
    /// `--rows`: one line per field.
    pub rows: bool,
    /// `--nameprefixes`: `LVM2_FIELD='value'`.
    pub nameprefixes: bool,
    /// `--unquoted`: no quotes around `--nameprefixes` values.
    pub unquoted: bool,
    /// `--aligned`: pad columns even with `--separator`.
    pub aligned: bool,
    /// `report/buffered=0`: rows unsorted, each printed as it comes with
    /// column widths from its own values (the headings from the first row's).
    pub unbuffered: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            units: Units::default(),
            suffix: true,
            headings: true,
            separator: None,
            json: false,
            format: Format::Basic,
            binary: false,
            rows: false,
            nameprefixes: false,
            unquoted: false,
            aligned: false,
            unbuffered: false,
        }
    }
}

/// Text of one cell under `options`.
pub fn cell_text(cell: &Cell, options: &ReportOptions) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        Cell::Number(n) => n.to_string(),
        Cell::Size(sectors) => format_size(*sectors, options.units, options.suffix),
        Cell::Percent(p) => format_percent(*p),
        Cell::Flag(state, word) => flag_text(*state, word, options.binary).to_string(),
        Cell::Empty => String::new(),
    }
}

fn flag_text(state: Option<bool>, word: &'static str, binary: bool) -> &'static str {
    match (state, binary) {
        (Some(true), true) => "1",
        (Some(false), true) => "0",
        (None, true) => "-1",
        (Some(true), false) => word,
        (Some(false), false) => "",
        (None, false) => "unknown",
    }
}

/// Render `rows` (each as long as `columns`) as lvm2 would; `name` is the
/// JSON report name (`lv`, `vg`, `pv`).
pub fn render(
    name: &str,
    columns: &[Column],
    rows: &[Vec<Cell>],
    options: &ReportOptions,
) -> String {
    render_rows(name, columns, rows.iter().map(|row| row.iter()), options)
}

/// As [`render`], for rows produced one by one: each cell is turned into
/// text as it comes and never held, so a large report holds one buffer of
/// text rather than a dozen small allocations per row.
pub fn render_rows<I, R, C>(
    name: &str,
    columns: &[Column],
    rows: I,
    options: &ReportOptions,
) -> String
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: Borrow<Cell>,
{
    let mut texts = Texts::new(columns.len());
    for row in rows {
        texts.push_row(row, options);
    }
    if options.json || options.format != Format::Basic {
        return render_json(name, columns, &texts, options.format == Format::JsonStd);
    }
    // lvm2 prints no headings over no rows.
    if texts.rows() == 0 {
        return String::new();
    }
    if options.rows {
        return render_transposed(columns, &texts, options);
    }
    if options.nameprefixes {
        return render_prefixed(columns, &texts, options);
    }
    if let (Some(separator), true) = (&options.separator, options.aligned) {
        if texts.rows() == 0 {
            return String::new();
        }
        return render_padded(columns, &texts, options.headings, separator);
    }
    if let Some(separator) = &options.separator {
        let mut out = String::new();
        if options.headings {
            let headings: Vec<&str> = columns.iter().map(|c| c.heading).collect();
            out.push_str(&format!("  {}\n", headings.join(separator)));
        }
        for row in 0..texts.rows() {
            out.push_str("  ");
            for (index, text) in texts.row(row).enumerate() {
                if index > 0 {
                    out.push_str(separator);
                }
                out.push_str(text);
            }
            out.push('\n');
        }
        return out;
    }
    render_aligned(columns, &texts, options.headings)
}

/// `--rows`: each field on a line, its heading first.
fn render_transposed(columns: &[Column], texts: &Texts, options: &ReportOptions) -> String {
    let separator = options.separator.as_deref().unwrap_or(" ");
    let mut out = String::new();
    for (index, column) in columns.iter().enumerate() {
        out.push_str("  ");
        let mut first = true;
        if options.headings {
            out.push_str(column.heading);
            first = false;
        }
        for row in 0..texts.rows() {
            if !first {
                out.push_str(separator);
            }
            first = false;
            out.push_str(texts.get(row, index));
        }
        out.push('\n');
    }
    out
}

/// `--nameprefixes`: `LVM2_ID='value'` per field.
fn render_prefixed(columns: &[Column], texts: &Texts, options: &ReportOptions) -> String {
    let separator = options.separator.as_deref().unwrap_or(" ");
    let mut out = String::new();
    // Aligned (report/aligned in the configuration), values keep their column's padding.
    let widths = column_widths(columns, texts, options.headings);
    if options.headings {
        let headings: Vec<String> = columns
            .iter()
            .zip(&widths)
            .map(|(c, &width)| match options.aligned {
                true => format!("{:<width$}", c.heading),
                false => c.heading.to_string(),
            })
            .collect();
        out.push_str(&format!("  {}\n", headings.join(separator)));
    }
    let quote = if options.unquoted { "" } else { "'" };
    for row in 0..texts.rows() {
        let fields: Vec<String> = columns
            .iter()
            .zip(texts.row(row))
            .zip(&widths)
            .map(|((c, text), &width)| {
                let text = match (options.aligned, c.kind.right_aligned()) {
                    (false, _) => text.to_string(),
                    (true, true) => format!("{text:>width$}"),
                    (true, false) => format!("{text:<width$}"),
                };
                format!("LVM2_{}={quote}{text}{quote}", c.id.to_uppercase())
            })
            .collect();
        out.push_str(&format!("  {}\n", fields.join(separator)));
    }
    out
}

/// `--aligned --separator S`: padded columns joined by `S`.
fn render_padded(columns: &[Column], texts: &Texts, headings: bool, separator: &str) -> String {
    let widths = column_widths(columns, texts, headings);
    let mut out = String::new();
    let pad = |text: &str, width: usize, right: bool| {
        let fill = " ".repeat(width.saturating_sub(text.chars().count()));
        if right {
            format!("{fill}{text}")
        } else {
            format!("{text}{fill}")
        }
    };
    if headings {
        let cells: Vec<String> = columns
            .iter()
            .zip(&widths)
            .map(|(c, &w)| pad(c.heading, w, false))
            .collect();
        out.push_str(&format!("  {}\n", cells.join(separator)));
    }
    for row in 0..texts.rows() {
        let cells: Vec<String> = texts
            .row(row)
            .zip(columns)
            .zip(&widths)
            .map(|((text, c), &w)| pad(text, w, c.kind.right_aligned()))
            .collect();
        out.push_str(&format!("  {}\n", cells.join(separator)));
    }
    out
}

/// The text of every cell of a report, row by row, in one buffer.
struct Texts {
    buffer: String,
    /// Where each cell's text ends in `buffer` (it starts where the previous one ends).
    ends: Vec<usize>,
    columns: usize,
}

impl Texts {
    fn new(columns: usize) -> Self {
        Self {
            buffer: String::new(),
            ends: Vec::new(),
            columns,
        }
    }

    /// Append a row's cells, as many as there are columns (missing ones empty).
    fn push_row<C: Borrow<Cell>>(
        &mut self,
        row: impl IntoIterator<Item = C>,
        options: &ReportOptions,
    ) {
        let mut cells = row.into_iter();
        for _ in 0..self.columns {
            if let Some(cell) = cells.next() {
                match cell.borrow() {
                    Cell::Text(text) => self.buffer.push_str(text),
                    Cell::Number(n) => {
                        let _ = write!(self.buffer, "{n}");
                    }
                    Cell::Empty => {}
                    Cell::Flag(state, word) => {
                        self.buffer
                            .push_str(flag_text(*state, word, options.binary))
                    }
                    other => self.buffer.push_str(&cell_text(other, options)),
                }
            }
            self.ends.push(self.buffer.len());
        }
    }

    fn rows(&self) -> usize {
        self.ends.len().checked_div(self.columns).unwrap_or(0)
    }

    fn get(&self, row: usize, column: usize) -> &str {
        let index = row * self.columns + column;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.buffer[start..self.ends[index]]
    }

    fn row(&self, row: usize) -> impl Iterator<Item = &str> {
        (0..self.columns).map(move |column| self.get(row, column))
    }
}

/// The width of each column: its widest value, heading or lvm2 minimum.
/// lvm2 counts the heading even when it does not print it.
fn column_widths(columns: &[Column], texts: &Texts, _headings: bool) -> Vec<usize> {
    columns
        .iter()
        .enumerate()
        .map(|(index, column)| {
            (0..texts.rows())
                .map(|row| texts.get(row, index).chars().count())
                .chain([column.width, column.heading.len()])
                .max()
                .unwrap_or(0)
        })
        .collect()
}

fn render_aligned(columns: &[Column], texts: &Texts, headings: bool) -> String {
    let widths = column_widths(columns, texts, headings);
    // Printable ASCII is one column per byte and never wraps: lay it out
    // here, as comfy-table would, without its per-cell cost (a thousand
    // rows took it milliseconds). Anything else goes through comfy-table.
    let plain = |text: &str| text.bytes().all(|b| (b' '..=b'~').contains(&b));
    let simple = !columns.is_empty()
        && widths.iter().all(|&w| w + 2 <= usize::from(u16::MAX))
        && columns.iter().all(|c| plain(c.heading))
        && plain(&texts.buffer);
    if !simple {
        return render_with_comfy(columns, texts, headings, &widths);
    }
    let line_len: usize = widths.iter().map(|w| w + 1).sum::<usize>() + 2;
    let mut out = String::with_capacity(line_len * (texts.rows() + 1));
    let mut line = |cells: &mut dyn Iterator<Item = (&str, bool)>| {
        for (index, ((text, right), width)) in cells.zip(&widths).enumerate() {
            out.push_str(if index == 0 { "  " } else { " " });
            // comfy-table gives an empty column one blank character.
            let pad = (*width).max(1) - text.len();
            if right {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(text);
            } else {
                out.push_str(text);
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    if headings {
        // lvm2 left-aligns every heading, whatever the alignment of the values below.
        line(&mut columns.iter().map(|c| (c.heading, false)));
    }
    for row in 0..texts.rows() {
        line(
            &mut texts
                .row(row)
                .zip(columns)
                .map(|(text, c)| (text, c.kind.right_aligned())),
        );
    }
    out
}

fn render_with_comfy(
    columns: &[Column],
    texts: &Texts,
    headings: bool,
    widths: &[usize],
) -> String {
    let mut table = Table::new();
    table
        .load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if headings {
        // lvm2 left-aligns every heading, whatever the alignment of the values below.
        table.set_header(
            columns
                .iter()
                .map(|c| comfy_table::Cell::new(c.heading).set_alignment(CellAlignment::Left)),
        );
    }
    for row in 0..texts.rows() {
        table.add_row(texts.row(row));
    }
    for (index, (column, &widest)) in columns.iter().zip(widths).enumerate() {
        if let Some(table_column) = table.column_mut(index) {
            // lvm2 starts each line with two spaces and separates columns with one.
            table_column.set_padding((if index == 0 { 2 } else { 1 }, 0));
            table_column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(
                (widest + if index == 0 { 2 } else { 1 }) as u16,
            )));
            table_column.set_cell_alignment(if column.kind.right_aligned() {
                CellAlignment::Right
            } else {
                CellAlignment::Left
            });
        }
    }
    let mut out = String::new();
    for line in table.lines() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn render_json(name: &str, columns: &[Column], texts: &Texts, std: bool) -> String {
    let mut out = String::from("  {\n      \"report\": [\n          {\n");
    out.push_str(&format!(
        "              {}: [\n",
        Value::String(name.into())
    ));
    for index in 0..texts.rows() {
        let fields: Vec<String> = columns
            .iter()
            .zip(texts.row(index))
            .map(|(column, text)| {
                let value = match (std, column.kind) {
                    (true, FieldKind::Number) if text.parse::<i64>().is_ok() => text.to_string(),
                    (true, FieldKind::Number | FieldKind::Size | FieldKind::Percent)
                        if text.is_empty() =>
                    {
                        "null".to_string()
                    }
                    _ => Value::String(text.to_string()).to_string(),
                };
                format!("{}:{value}", Value::String(column.id.into()))
            })
            .collect();
        let comma = if index + 1 < texts.rows() { "," } else { "" };
        out.push_str(&format!(
            "                  {{{}}}{comma}\n",
            fields.join(", ")
        ));
    }
    out.push_str("              ]\n          }\n      ]\n  }\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lvs_columns() -> Vec<Column> {
        let c = |id, heading, width, kind| Column {
            id,
            heading,
            width,
            kind,
        };
        vec![
            c("lv_name", "LV", 4, FieldKind::Text),
            c("vg_name", "VG", 0, FieldKind::Text),
            c("lv_attr", "Attr", 0, FieldKind::Text),
            c("lv_size", "LSize", 0, FieldKind::Size),
            c("pool_lv", "Pool", 0, FieldKind::Text),
            c("origin", "Origin", 0, FieldKind::Text),
            c("data_percent", "Data%", 6, FieldKind::Percent),
            c("metadata_percent", "Meta%", 6, FieldKind::Percent),
            c("move_pv", "Move", 0, FieldKind::Text),
            c("mirror_log", "Log", 0, FieldKind::Text),
            c("copy_percent", "Cpy%Sync", 0, FieldKind::Percent),
            c("convert_lv", "Convert", 0, FieldKind::Text),
        ]
    }

    fn lv0() -> Vec<Cell> {
        vec![
            Cell::Text("lv0".into()),
            Cell::Text("mevg".into()),
            Cell::Text("-wi-XX----".into()),
            Cell::Size(16384),
            Cell::Empty,
            Cell::Empty,
            Cell::Percent(-1),
            Cell::Percent(-1),
            Cell::Empty,
            Cell::Empty,
            Cell::Percent(-1),
            Cell::Empty,
        ]
    }

    // Captured from lvm2 2.03.16 (`lvs --driverloaded n mevg`).
    #[test]
    fn aligned_output_matches_lvs() {
        let out = render("lv", &lvs_columns(), &[lv0()], &ReportOptions::default());
        assert_eq!(
            out,
            "  LV   VG   Attr       LSize Pool Origin Data%  Meta%  Move Log Cpy%Sync Convert\n  lv0  mevg -wi-XX---- 8.00m                                                    \n"
        );
    }

    // lvs keeps each column as wide as its heading even with --noheadings.
    #[test]
    fn noheadings_keeps_heading_widths() {
        let columns = [
            Column {
                id: "lv_name",
                heading: "LV",
                width: 4,
                kind: FieldKind::Text,
            },
            Column {
                id: "chunk_size",
                heading: "Chunk",
                width: 0,
                kind: FieldKind::Size,
            },
        ];
        let options = ReportOptions {
            headings: false,
            ..Default::default()
        };
        let row = vec![Cell::Text("snap".into()), Cell::Size(8)];
        assert_eq!(render("lv", &columns, &[row], &options), "  snap 4.00k\n");
        let row = vec![Cell::Text("s".into()), Cell::Size(0)];
        assert_eq!(render("lv", &columns, &[row], &options), "  s       0 \n");
        assert_eq!(render("lv", &columns, &[], &options), "");
    }

    #[test]
    fn json_matches_lvs() {
        let options = ReportOptions {
            json: true,
            ..Default::default()
        };
        let out = render("lv", &lvs_columns(), &[lv0()], &options);
        assert_eq!(
            out,
            "  {\n      \"report\": [\n          {\n              \"lv\": [\n                  {\"lv_name\":\"lv0\", \"vg_name\":\"mevg\", \"lv_attr\":\"-wi-XX----\", \"lv_size\":\"8.00m\", \"pool_lv\":\"\", \"origin\":\"\", \"data_percent\":\"\", \"metadata_percent\":\"\", \"move_pv\":\"\", \"mirror_log\":\"\", \"copy_percent\":\"\", \"convert_lv\":\"\"}\n              ]\n          }\n      ]\n  }\n"
        );
        let empty = render("lv", &lvs_columns(), &[], &options);
        assert_eq!(
            empty,
            "  {\n      \"report\": [\n          {\n              \"lv\": [\n              ]\n          }\n      ]\n  }\n"
        );
    }

    #[test]
    fn separator_output_matches_lvs() {
        let columns = &lvs_columns()[..];
        let picked = [columns[0], columns[2], columns[3]];
        let row = vec![
            Cell::Text("lv0".into()),
            Cell::Text("-wi-XX----".into()),
            Cell::Size(16384),
        ];
        let options = ReportOptions {
            units: "b".parse().unwrap(),
            suffix: false,
            separator: Some("|".into()),
            ..Default::default()
        };
        assert_eq!(
            render("lv", &picked, &[row], &options),
            "  LV|Attr|LSize\n  lv0|-wi-XX----|8388608\n"
        );
    }

    proptest::proptest! {
        /// The hand-laid columns are byte for byte what comfy-table lays out.
        #[test]
        fn aligned_layout_is_comfy_tables(
            rows in proptest::collection::vec(
                proptest::collection::vec("[ -~]{0,12}", 4), 0..6),
            headings: bool,
        ) {
            let kinds = [FieldKind::Text, FieldKind::Size, FieldKind::Text, FieldKind::Percent];
            let columns: Vec<Column> = ["LV", "LSize", "", "Data%"]
                .iter()
                .zip(kinds)
                .enumerate()
                .map(|(i, (heading, kind))| Column { id: "x", heading, width: i * 2, kind })
                .collect();
            let mut texts = Texts::new(columns.len());
            for row in &rows {
                texts.push_row(row.iter().map(|t| Cell::Text(t.clone())), &ReportOptions::default());
            }
            let widths = column_widths(&columns, &texts, headings);
            proptest::prop_assert_eq!(
                render_aligned(&columns, &texts, headings),
                render_with_comfy(&columns, &texts, headings, &widths)
            );
        }
    }
}
