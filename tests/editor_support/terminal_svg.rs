//! A terminal screen (what `tmux capture-pane -e -p` prints: text with SGR escapes) drawn as
//! an SVG picture: a monospace grid with the 16, 256 and truecolor foregrounds and
//! backgrounds, bold, italic, underline, reverse and an optional cursor cell. Small on
//! purpose: enough for the editors' screens the tests photograph for the docs.

use std::fmt::Write as _;

/// The terminal's default colors (a dark theme) and the cell's size in pixels.
const DEFAULT_FG: Rgb = Rgb(0xd4, 0xd4, 0xd4);
const DEFAULT_BG: Rgb = Rgb(0x1e, 0x1e, 0x1e);
const CELL_WIDTH: f32 = 8.4;
const CELL_HEIGHT: f32 = 17.0;
const FONT_SIZE: f32 = 14.0;
const MARGIN: f32 = 8.0;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// A color as the SGR set it: the terminal's default, a palette index, or truecolor.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Color {
    #[default]
    Default,
    Indexed(u8),
    Rgb(Rgb),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Style {
    pub fg: Color,
    pub bg: Color,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub reverse: bool,
    pub strike: bool,
}

impl Style {
    /// The colors drawn, reverse applied.
    pub fn colors(&self) -> (Rgb, Rgb) {
        let fg = resolve(self.fg, DEFAULT_FG);
        let bg = resolve(self.bg, DEFAULT_BG);
        if self.reverse {
            (bg, fg)
        } else {
            (fg, bg)
        }
    }
}

/// One cell of the grid; a wide character's second cell is `None`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Cell {
    pub ch: Option<char>,
    pub style: Style,
}

impl Default for Cell {
    fn default() -> Cell {
        Cell {
            ch: Some(' '),
            style: Style::default(),
        }
    }
}

/// The screen as a `width`×`height` grid of cells.
pub struct Grid {
    pub width: usize,
    pub height: usize,
    pub rows: Vec<Vec<Cell>>,
}

impl Grid {
    /// Parses `capture` (lines of text with SGR escapes; other escapes are skipped) into a
    /// grid of the pane's size; what does not fit is cut.
    pub fn parse(capture: &str, width: usize, height: usize) -> Grid {
        let mut rows = vec![vec![Cell::default(); width]; height];
        // The SGR state carries over from line to line, as in the terminal.
        let mut style = Style::default();
        for (y, line) in capture.split('\n').take(height).enumerate() {
            let mut x = 0;
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                if c == '\x1b' {
                    match chars.next() {
                        Some('[') => {
                            let mut params = String::new();
                            let mut last = None;
                            for c in chars.by_ref() {
                                if ('\x40'..='\x7e').contains(&c) {
                                    last = Some(c);
                                    break;
                                }
                                params.push(c);
                            }
                            if last == Some('m') {
                                apply_sgr(&mut style, &params);
                            }
                        }
                        // OSC (a hyperlink, a title): up to BEL or ESC \.
                        Some(']') => {
                            while let Some(c) = chars.next() {
                                if c == '\x07' {
                                    break;
                                }
                                if c == '\x1b' {
                                    chars.next();
                                    break;
                                }
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                if c.is_control() {
                    continue;
                }
                let w = char_width(c);
                if x + w > width {
                    continue;
                }
                rows[y][x] = Cell { ch: Some(c), style };
                if w == 2 {
                    rows[y][x + 1] = Cell { ch: None, style };
                }
                x += w;
            }
        }
        Grid {
            width,
            height,
            rows,
        }
    }

    /// The SVG picture of the grid, with the cell at `cursor` (column, row) drawn reversed.
    pub fn to_svg(&self, title: &str, cursor: Option<(usize, usize)>) -> String {
        let w = self.width as f32 * CELL_WIDTH + 2.0 * MARGIN;
        let h = self.height as f32 * CELL_HEIGHT + 2.0 * MARGIN;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace" font-size="{FONT_SIZE}">"#
        );
        let _ = writeln!(svg, "<title>{}</title>", escape(title));
        let _ = writeln!(
            svg,
            r#"<rect width="100%" height="100%" rx="6" fill="{}"/>"#,
            DEFAULT_BG.hex()
        );
        for (y, row) in self.rows.iter().enumerate() {
            let cells: Vec<Cell> = row
                .iter()
                .enumerate()
                .map(|(x, cell)| {
                    let mut cell = *cell;
                    if cursor == Some((x, y)) {
                        cell.style.reverse = !cell.style.reverse;
                    }
                    cell
                })
                .collect();
            self.row_svg(&mut svg, y, &cells);
        }
        svg.push_str("</svg>\n");
        svg
    }

    /// One row: a rectangle per run of a background other than the default, then a text
    /// element per run of one style, stretched to its cells so fonts cannot shift the grid.
    fn row_svg(&self, svg: &mut String, y: usize, cells: &[Cell]) {
        let top = MARGIN + y as f32 * CELL_HEIGHT;
        for (start, len, style) in runs(cells, |c| c.style.colors().1) {
            let bg = style.colors().1;
            if bg != DEFAULT_BG {
                let _ = writeln!(
                    svg,
                    r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{CELL_HEIGHT}" fill="{}"/>"#,
                    MARGIN + start as f32 * CELL_WIDTH,
                    len as f32 * CELL_WIDTH,
                    bg.hex()
                );
            }
        }
        let baseline = top + CELL_HEIGHT * 0.78;
        for (start, len, style) in runs(cells, |c| {
            let mut s = c.style;
            // Only what changes how the text looks splits a run.
            s.bg = Color::Default;
            s.fg = Color::Rgb(c.style.colors().0);
            s.reverse = false;
            s
        }) {
            let mut len = len;
            if !style.underline && !style.strike {
                // Blanks at a run's end draw nothing.
                while len > 0 && cells[start + len - 1].ch == Some(' ') {
                    len -= 1;
                }
            }
            if len == 0 {
                continue;
            }
            let text: String = cells[start..start + len]
                .iter()
                .filter_map(|c| c.ch)
                .collect();
            let mut attrs = format!(r#" fill="{}""#, style.colors().0.hex());
            if style.bold {
                attrs.push_str(r#" font-weight="bold""#);
            }
            if style.italic {
                attrs.push_str(r#" font-style="italic""#);
            }
            if style.dim {
                attrs.push_str(r#" opacity="0.6""#);
            }
            match (style.underline, style.strike) {
                (true, true) => attrs.push_str(r#" text-decoration="underline line-through""#),
                (true, false) => attrs.push_str(r#" text-decoration="underline""#),
                (false, true) => attrs.push_str(r#" text-decoration="line-through""#),
                _ => {}
            }
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{baseline:.1}" textLength="{:.1}" lengthAdjust="spacingAndGlyphs" xml:space="preserve"{attrs}>{}</text>"#,
                MARGIN + start as f32 * CELL_WIDTH,
                len as f32 * CELL_WIDTH,
                escape(&text)
            );
        }
    }
}

/// Runs of cells whose `key` is equal: (start, length, the first cell's style).
fn runs<K: PartialEq>(cells: &[Cell], key: impl Fn(&Cell) -> K) -> Vec<(usize, usize, Style)> {
    let mut out: Vec<(usize, usize, Style)> = Vec::new();
    let mut current: Option<K> = None;
    for (x, cell) in cells.iter().enumerate() {
        let k = key(cell);
        match (&current, out.last_mut()) {
            (Some(c), Some(last)) if *c == k => last.1 += 1,
            _ => {
                out.push((x, 1, cell.style));
                current = Some(k);
            }
        }
    }
    out
}

/// Applies one SGR sequence's parameters (`1;38;5;208`, `38:2::10:20:30`) to `style`.
pub fn apply_sgr(style: &mut Style, params: &str) {
    if params.is_empty() {
        *style = Style::default();
        return;
    }
    // A parameter with colons carries its own subparameters (ITU T.416 form).
    let mut list: Vec<Vec<u32>> = params
        .split(';')
        .map(|p| p.split(':').map(|n| n.parse().unwrap_or(0)).collect())
        .collect();
    list.reverse();
    while let Some(param) = list.pop() {
        let code = param[0];
        match code {
            0 => *style = Style::default(),
            1 => style.bold = true,
            2 => style.dim = true,
            3 => style.italic = true,
            4 => style.underline = param.get(1).is_none_or(|&k| k != 0),
            7 => style.reverse = true,
            9 => style.strike = true,
            21 => style.underline = true,
            22 => (style.bold, style.dim) = (false, false),
            23 => style.italic = false,
            24 => style.underline = false,
            27 => style.reverse = false,
            29 => style.strike = false,
            30..=37 => style.fg = Color::Indexed((code - 30) as u8),
            39 => style.fg = Color::Default,
            40..=47 => style.bg = Color::Indexed((code - 40) as u8),
            49 => style.bg = Color::Default,
            90..=97 => style.fg = Color::Indexed((code - 90 + 8) as u8),
            100..=107 => style.bg = Color::Indexed((code - 100 + 8) as u8),
            38 | 48 => {
                let color = if param.len() > 1 {
                    extended_color(&param[1..], true)
                } else {
                    let mut rest = Vec::new();
                    while let Some(p) = list.last() {
                        let want = match rest.first() {
                            None => 1,
                            Some(5) => 2,
                            Some(2) => 4,
                            Some(_) => 1,
                        };
                        if rest.len() >= want {
                            break;
                        }
                        rest.push(p[0]);
                        list.pop();
                    }
                    extended_color(&rest, false)
                };
                if let Some(color) = color {
                    if code == 38 {
                        style.fg = color;
                    } else {
                        style.bg = color;
                    }
                }
            }
            _ => {}
        }
    }
}

/// `5;N` or `2;R;G;B` (with colons, `2` may be followed by a color space id first).
fn extended_color(rest: &[u32], colons: bool) -> Option<Color> {
    let byte = |n: &u32| u8::try_from(*n).ok();
    match rest.first()? {
        5 => Some(Color::Indexed(byte(rest.get(1)?)?)),
        2 => {
            let rgb = if colons && rest.len() >= 5 {
                &rest[2..5]
            } else {
                rest.get(1..4)?
            };
            Some(Color::Rgb(Rgb(
                byte(&rgb[0])?,
                byte(&rgb[1])?,
                byte(&rgb[2])?,
            )))
        }
        _ => None,
    }
}

/// The xterm palette: 16 named colors, the 6×6×6 cube, 24 grays.
pub fn palette(index: u8) -> Rgb {
    const BASE: [Rgb; 16] = [
        Rgb(0x00, 0x00, 0x00),
        Rgb(0xcd, 0x31, 0x31),
        Rgb(0x0d, 0xbc, 0x79),
        Rgb(0xe5, 0xe5, 0x10),
        Rgb(0x24, 0x72, 0xc8),
        Rgb(0xbc, 0x3f, 0xbc),
        Rgb(0x11, 0xa8, 0xcd),
        Rgb(0xe5, 0xe5, 0xe5),
        Rgb(0x66, 0x66, 0x66),
        Rgb(0xf1, 0x4c, 0x4c),
        Rgb(0x23, 0xd1, 0x8b),
        Rgb(0xf5, 0xf5, 0x43),
        Rgb(0x3b, 0x8e, 0xea),
        Rgb(0xd6, 0x70, 0xd6),
        Rgb(0x29, 0xb8, 0xdb),
        Rgb(0xff, 0xff, 0xff),
    ];
    match index {
        0..=15 => BASE[index as usize],
        16..=231 => {
            let i = index - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            Rgb(level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        _ => {
            let v = 8 + (index - 232) * 10;
            Rgb(v, v, v)
        }
    }
}

fn resolve(color: Color, default: Rgb) -> Rgb {
    match color {
        Color::Default => default,
        Color::Indexed(i) => palette(i),
        Color::Rgb(rgb) => rgb,
    }
}

/// Cells a character takes: 2 for the wide East Asian ranges and emoji, else 1.
fn char_width(c: char) -> usize {
    match c as u32 {
        0x1100..=0x115f
        | 0x2e80..=0x303e
        | 0x3041..=0x33ff
        | 0x3400..=0x4dbf
        | 0x4e00..=0x9fff
        | 0xa000..=0xa4cf
        | 0xac00..=0xd7a3
        | 0xf900..=0xfaff
        | 0xfe30..=0xfe4f
        | 0xff00..=0xff60
        | 0xffe0..=0xffe6
        | 0x1f300..=0x1f64f
        | 0x1f900..=0x1f9ff
        | 0x20000..=0x3fffd => 2,
        _ => 1,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Red on the default, a 256-color background, truecolor reversed, bold and underline:
    /// each cell gets the colors and attributes its escapes gave it, reverse swaps them, and
    /// a reset returns to the defaults.
    #[test]
    fn sgr_colors_and_reverse_land_on_the_right_cells() {
        let capture = "\x1b[31mR\x1b[48;5;21mB\x1b[0m \x1b[1;4;38;2;10;20;30;7mT\x1b[m.\n\
                       \x1b[38:2::200:100:50;97;44mxy\x1b[39;49m_";
        let grid = Grid::parse(capture, 6, 2);
        let at = |x: usize, y: usize| grid.rows[y][x];
        assert_eq!(at(0, 0).ch, Some('R'));
        assert_eq!(at(0, 0).style.colors(), (palette(1), DEFAULT_BG));
        assert_eq!(palette(1), Rgb(0xcd, 0x31, 0x31));
        // 21 in the cube: 0,0,5 → pure blue.
        assert_eq!(at(1, 0).style.colors(), (palette(1), Rgb(0, 0, 0xff)));
        assert_eq!(at(2, 0).style, Style::default());
        let t = at(3, 0).style;
        assert!(t.bold && t.underline && t.reverse, "{t:?}");
        // Reverse: the truecolor foreground becomes the background.
        assert_eq!(t.colors(), (DEFAULT_BG, Rgb(10, 20, 30)));
        assert_eq!(at(4, 0).style, Style::default(), "`ESC[m` resets");
        // Colon form, then a bright foreground overriding it and a named background.
        assert_eq!(at(0, 1).style.colors(), (palette(15), palette(4)));
        assert_eq!(at(2, 1).style.colors(), (DEFAULT_FG, DEFAULT_BG));
        assert_eq!(at(5, 0), Cell::default(), "blank past the line's end");

        let svg = grid.to_svg("test", Some((5, 1)));
        // The reversed cell's background is the truecolor, its text the default background.
        assert!(svg.contains(r##"fill="#0a141e"/>"##), "{svg}");
        assert!(
            svg.contains(r##"fill="#1e1e1e" font-weight="bold" text-decoration="underline">T<"##),
            "{svg}"
        );
        assert!(svg.contains(r##"fill="#cd3131">RB<"##), "{svg}");
        // The cursor cell is drawn reversed: a block of the default foreground.
        assert!(
            svg.contains(r##"x="50.0" y="25.0" width="8.4" height="17" fill="#d4d4d4"/>"##),
            "{svg}"
        );
    }

    #[test]
    fn text_is_escaped_and_wide_characters_take_two_cells() {
        let grid = Grid::parse("<a & b>\n漢x", 8, 2);
        let svg = grid.to_svg("t", None);
        assert!(svg.contains(">&lt;a &amp; b&gt;<"), "{svg}");
        assert_eq!(grid.rows[1][0].ch, Some('漢'));
        assert_eq!(grid.rows[1][1].ch, None);
        assert_eq!(grid.rows[1][2].ch, Some('x'));
    }
}
