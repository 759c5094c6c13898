//! Plain SVG charts for BENCHMARKS.md: horizontal bars and time series.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const COLORS: [&str; 4] = ["#2a6fdb", "#e08a1e", "#3a9a5b", "#b04a9c"];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Horizontal bars, one per `(label, value)`, with `unit` after each value.
pub(super) fn bars(title: &str, bars: &[(String, f64)], unit: &str) -> String {
    let row = 28.0;
    let (left, top) = (230.0, 34.0);
    let height = top + row * bars.len() as f64 + 12.0;
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max).max(1e-9);
    let span = WIDTH - left - 90.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="13">"#
    );
    let _ = write!(
        s,
        r##"<rect width="100%" height="100%" fill="#fff"/><text x="10" y="20" font-weight="bold">{}</text>"##,
        escape(title)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let w = span * value / max;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text><rect x="{left}" y="{}" width="{w:.1}" height="{}" fill="{}"/><text x="{}" y="{}">{value:.1} {}</text>"#,
            left - 8.0,
            y + 17.0,
            escape(label),
            y + 4.0,
            row - 8.0,
            COLORS[i % COLORS.len()],
            left + w + 6.0,
            y + 17.0,
            escape(unit)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Lines of `(x, y)` points sharing axes; `y_max` fixes the top of the y axis.
pub(super) fn lines(
    title: &str,
    series: &[(String, Vec<(f64, f64)>)],
    x_label: &str,
    y_label: &str,
    y_max: Option<f64>,
) -> String {
    let (left, right, top, bottom, height) = (60.0, 20.0, 34.0, 40.0, 300.0);
    let x_max = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q| q.0))
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let y_top = y_max.unwrap_or_else(|| {
        series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.1))
            .fold(0.0_f64, f64::max)
            .max(1e-9)
            * 1.1
    });
    let (pw, ph) = (WIDTH - left - right, height - top - bottom);
    let px = |x: f64| left + pw * x / x_max;
    let py = |y: f64| top + ph * (1.0 - y / y_top);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(
        s,
        r##"<rect width="100%" height="100%" fill="#fff"/><text x="10" y="20" font-weight="bold" font-size="13">{}</text>"##,
        escape(title)
    );
    let _ = write!(
        s,
        r##"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="#444"/><line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="#444"/>"##,
        top + ph,
        left + pw,
        top + ph,
        top + ph
    );
    for i in 0..=4 {
        let y = y_top * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end">{}</text><line x1="{left}" y1="{2}" x2="{}" y2="{2}" stroke="#ddd"/>"##,
            left - 6.0,
            py(y) + 4.0,
            format_tick(y),
            left + pw
        );
        let x = x_max * f64::from(i) / 4.0;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            px(x),
            top + ph + 16.0,
            format_tick(x)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text><text x="14" y="{}" transform="rotate(-90 14 {3})" text-anchor="middle">{}</text>"#,
        left + pw / 2.0,
        height - 6.0,
        escape(x_label),
        top + ph / 2.0,
        escape(y_label)
    );
    for (i, (name, points)) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let path: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/><rect x="{}" y="{}" width="12" height="12" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            path.join(" "),
            left + pw - 170.0,
            top + 6.0 + 18.0 * i as f64,
            left + pw - 152.0,
            top + 16.0 + 18.0 * i as f64,
            escape(name)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn format_tick(v: f64) -> String {
    if v >= 100.0 || v == 0.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_well_formed_svg() {
        let b = bars("t <1>", &[("a".into(), 1.0), ("b".into(), 2.0)], "MB/s");
        assert!(b.starts_with("<svg") && b.trim_end().ends_with("</svg>"));
        assert!(b.contains("t &lt;1&gt;") && b.contains("2.0 MB/s"));
        let l = lines(
            "x",
            &[("s".into(), vec![(0.0, 0.0), (1.0, 0.5)])],
            "s",
            "fill",
            Some(1.0),
        );
        assert!(l.contains("<polyline") && l.contains("points=\"60.0,260.0 620.0,147.0\""));
    }
}
