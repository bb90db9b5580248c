//! Charts for docs/benchmarks.md, written as plain SVG from the bench's own numbers (no
//! plotting dependency): latency CDFs and cost-vs-size curves.
#![allow(dead_code)]

use std::fmt::Write;

const W: f64 = 640.0;
const H: f64 = 360.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 48.0;
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
];

/// One named line: its points (x, y).
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// The empirical CDF of `samples` (any unit) as a series: x the value, y the fraction ≤ x.
pub fn cdf(name: &str, samples: &[f64]) -> Series {
    let mut sorted = samples.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = sorted.len();
    // At most ~400 points (evenly spaced ranks, the last one always): the shape, not a
    // file of every sample.
    let step = n.div_ceil(400).max(1);
    let points = sorted
        .iter()
        .enumerate()
        .filter(|(i, _)| i % step == step - 1 || i + 1 == n)
        .map(|(i, &x)| (x, (i + 1) as f64 / n as f64))
        .collect();
    Series {
        name: name.to_string(),
        points,
    }
}

/// Axis scale: linear, or log10 (for latencies spanning decades).
#[derive(Clone, Copy, PartialEq)]
pub enum Scale {
    Linear,
    Log,
}

fn nice_ticks(lo: f64, hi: f64, scale: Scale) -> Vec<f64> {
    match scale {
        Scale::Log => {
            let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
            (a..=b).map(|e| 10f64.powi(e)).collect()
        }
        Scale::Linear => {
            let span = (hi - lo).max(1e-12);
            let raw = span / 5.0;
            let mag = 10f64.powf(raw.log10().floor());
            let step = [1.0, 2.0, 2.5, 5.0, 10.0]
                .iter()
                .map(|m| m * mag)
                .find(|s| span / s <= 6.0)
                .unwrap_or(10.0 * mag);
            // From below `lo` to the first tick at or above `hi`: no point off the chart.
            let mut out = vec![(lo / step).floor() * step];
            while *out.last().unwrap() < hi - step * 1e-9 {
                out.push(out.last().unwrap() + step);
            }
            out
        }
    }
}

fn label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').to_string()
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A line chart of `series`; `x_scale` log for latencies. Returns the SVG text.
pub fn chart(
    title: &str,
    x_label: &str,
    y_label: &str,
    x_scale: Scale,
    series: &[Series],
) -> String {
    let all = series.iter().flat_map(|s| s.points.iter());
    let pos = |v: f64| v > 0.0 || x_scale == Scale::Linear;
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 0f64);
    for &(x, y) in all {
        if pos(x) {
            x0 = x0.min(x);
            x1 = x1.max(x);
        }
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1) = (1.0, 10.0);
    }
    if x_scale == Scale::Linear {
        x0 = x0.min(0.0);
    }
    let x_ticks = nice_ticks(x0, x1, x_scale);
    let (x0, x1) = (x_ticks[0], *x_ticks.last().unwrap());
    let y_ticks = nice_ticks(0.0, if y1 > 0.0 { y1 } else { 1.0 }, Scale::Linear);
    let y1 = *y_ticks.last().unwrap();
    let fx = |x: f64| {
        let t = match x_scale {
            Scale::Linear => (x - x0) / (x1 - x0),
            Scale::Log => (x.max(x0).log10() - x0.log10()) / (x1.log10() - x0.log10()),
        };
        LEFT + t * (W - LEFT - RIGHT)
    };
    let fy = |y: f64| H - BOTTOM - y / y1 * (H - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="11">
<rect width="{W}" height="{H}" fill="#fff"/>
<text x="{}" y="18" text-anchor="middle" font-size="13" font-weight="bold">{}</text>
"##,
        W / 2.0,
        escape(title)
    );
    for &t in &x_ticks {
        let x = fx(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 14.0,
            label(t)
        );
    }
    for &t in &y_ticks {
        let y = fy(t);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 4.0,
            y + 4.0,
            label(t)
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text transform="translate(14 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"##,
        (LEFT + W - RIGHT) / 2.0,
        H - 10.0,
        escape(x_label),
        (TOP + H - BOTTOM) / 2.0,
        escape(y_label)
    );
    for (i, one) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<String> = one
            .points
            .iter()
            .filter(|(x, _)| pos(*x))
            .map(|&(x, y)| format!("{:.1},{:.1}", fx(x), fy(y)))
            .collect();
        let _ = writeln!(
            s,
            r##"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"##,
            points.join(" ")
        );
        if one.points.len() <= 12 {
            for p in &points {
                let (x, y) = p.split_once(',').unwrap();
                let _ = writeln!(s, r##"<circle cx="{x}" cy="{y}" r="3" fill="{colour}"/>"##);
            }
        }
        let ly = TOP + 6.0 + 15.0 * i as f64;
        let _ = writeln!(
            s,
            r##"<rect x="{:.1}" y="{:.1}" width="12" height="3" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text>"##,
            LEFT + 10.0,
            ly,
            LEFT + 26.0,
            ly + 4.0,
            escape(&one.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Writes `svg` as `name` into `$CODEX_LSP_BENCH_SVG` (scripts/bench.sh sets it to
/// docs/benchmarks/), if set.
pub fn save(name: &str, svg: &str) {
    if let Some(dir) = std::env::var_os("CODEX_LSP_BENCH_SVG") {
        let dir = std::path::PathBuf::from(dir);
        let _ = std::fs::create_dir_all(&dir);
        std::fs::write(dir.join(name), svg).expect("write the chart");
        println!("(chart: {name})");
    }
}
