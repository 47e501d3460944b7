//! Attention heatmaps as standalone SVG (what `picoformer attention` writes): one cell
//! per (query, key) pair, darker for more attention, rows and columns labelled with
//! their tokens.

use std::fmt::Write;

/// A `[rows, columns]` matrix of attention probabilities with its labels.
pub struct Heatmap<'a> {
    /// Title line above the grid.
    pub title: &'a str,
    /// Row-major values in `0..=1`; `rows * columns` of them.
    pub values: &'a [f32],
    /// One label per row (the queries).
    pub row_labels: &'a [String],
    /// One label per column (the keys).
    pub column_labels: &'a [String],
    /// Axis captions: (rows, columns).
    pub axes: (&'a str, &'a str),
}

const CELL: usize = 22;
const ROW_LABEL_WIDTH: usize = 64;
const TOP: usize = 96;
/// Width of one character of the 13-px monospace font, rounded up.
const CHAR_WIDTH: usize = 9;

/// XML-escapes `text` for SVG text content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// White (0) to dark blue (1), as `#rrggbb`.
fn colour(value: f32) -> String {
    let v = if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mix = |from: f32, to: f32| (from + (to - from) * v).round() as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        mix(255.0, 8.0),
        mix(255.0, 48.0),
        mix(255.0, 107.0)
    )
}

impl Heatmap<'_> {
    /// The SVG document. Fails if the value count is not `rows * columns`.
    pub fn to_svg(&self) -> anyhow::Result<String> {
        let (rows, columns) = (self.row_labels.len(), self.column_labels.len());
        anyhow::ensure!(
            self.values.len() == rows * columns,
            "heatmap of {rows} x {columns} cells given {} values",
            self.values.len()
        );
        let text_width = [self.title, self.axes.0, self.axes.1]
            .iter()
            .map(|t| t.chars().count() + 12)
            .max()
            .unwrap_or(0)
            * CHAR_WIDTH;
        let width = (ROW_LABEL_WIDTH + columns * CELL + 24).max(text_width);
        let height = TOP + rows * CELL + 40;
        let mut svg = String::new();
        // Writing into a String cannot fail, so the fmt results are ignored throughout.
        let _ = writeln!(
            svg,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, monospace" font-size="13">"##
        );
        let _ = writeln!(
            svg,
            r##"<rect width="{width}" height="{height}" fill="white"/><text x="8" y="20" font-size="14">{}</text>"##,
            escape(self.title)
        );
        let _ = writeln!(
            svg,
            r##"<text x="8" y="44" fill="#555">rows ↓: {}</text><text x="8" y="62" fill="#555">columns →: {}</text>"##,
            escape(self.axes.0),
            escape(self.axes.1),
        );
        for (c, label) in self.column_labels.iter().enumerate() {
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" text-anchor="middle">{}</text>"##,
                ROW_LABEL_WIDTH + c * CELL + CELL / 2,
                TOP - 8,
                escape(label)
            );
        }
        for (r, label) in self.row_labels.iter().enumerate() {
            let y = TOP + r * CELL;
            let _ = writeln!(
                svg,
                r##"<text x="{}" y="{}" text-anchor="end">{}</text>"##,
                ROW_LABEL_WIDTH - 6,
                y + CELL / 2 + 5,
                escape(label)
            );
            for c in 0..columns {
                let value = self.values.get(r * columns + c).copied().unwrap_or(0.0);
                let _ = writeln!(
                    svg,
                    r##"<rect x="{}" y="{y}" width="{CELL}" height="{CELL}" fill="{}" stroke="#e4e4e4"><title>{} → {}: {value:.3}</title></rect>"##,
                    ROW_LABEL_WIDTH + c * CELL,
                    colour(value),
                    escape(label),
                    escape(self.column_labels.get(c).map(String::as_str).unwrap_or(""))
                );
            }
        }
        let _ = writeln!(
            svg,
            r##"<text x="8" y="{}" fill="#555">cell: attention probability, white 0 … dark 1</text>"##,
            TOP + rows * CELL + 26
        );
        svg.push_str("</svg>\n");
        Ok(svg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_run_from_white_to_dark_blue() {
        assert_eq!(colour(0.0), "#ffffff");
        assert_eq!(colour(1.0), "#08306b");
        assert_eq!(colour(f32::NAN), "#ffffff");
    }

    #[test]
    fn labels_are_escaped_and_every_cell_is_drawn() {
        let labels = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let map = Heatmap {
            title: "a <b> & 'c'",
            values: &[0.25, 0.75, 1.0, 0.0],
            row_labels: &labels(&["<bos>", "1"]),
            column_labels: &labels(&["&", "\""]),
            axes: ("target", "source"),
        };
        let svg = map.to_svg().unwrap();
        assert!(svg.contains("a &lt;b&gt; &amp; &apos;c&apos;"));
        assert!(svg.contains("&lt;bos&gt;") && svg.contains("&quot;"));
        assert_eq!(svg.matches("<rect x=").count(), 4);
        let short = Heatmap {
            values: &[0.5],
            ..map
        };
        assert!(short.to_svg().is_err());
    }
}
