//! A self-contained SVG chart of a run's timeline: per-second p50 and p99 latency of VALID jobs
//! (top) and VALID jobs per second (bottom), the service in solid lines, node dashed.
//!
//! Hand-written SVG keeps the tool free of a charting dependency; the chart opens in any
//! browser and stays readable in a diff.

use std::fmt::Write as _;

use crate::report::Report;
use crate::stats::{SecondStats, Summary};

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 600.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 30.0;
const LATENCY_TOP: f64 = 60.0;
const LATENCY_HEIGHT: f64 = 260.0;
const THROUGHPUT_TOP: f64 = 375.0;
const THROUGHPUT_HEIGHT: f64 = 150.0;

const P50_COLOR: &str = "#1f77b4";
const P99_COLOR: &str = "#d62728";
const THROUGHPUT_COLOR: &str = "#2ca02c";
/// Points get markers only when there are few enough to tell apart.
const MARKER_LIMIT: usize = 120;

/// The chart of `report` as an SVG document.
pub fn render(report: &Report) -> String {
    let runs: Vec<&Summary> = report.summaries().collect();
    let seconds = runs
        .iter()
        .map(|r| r.timeline.len())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let max_latency_ms = runs
        .iter()
        .flat_map(|r| r.timeline.iter())
        .filter_map(|s| s.p99_us)
        .max()
        .unwrap_or(0) as f64
        / 1000.0;
    let max_throughput = runs
        .iter()
        .flat_map(|r| r.timeline.iter())
        .map(|s| s.valid)
        .max()
        .unwrap_or(0) as f64;
    let x_axis = Axis::new(seconds);
    let latency_axis = Axis::new(max_latency_ms);
    let throughput_axis = Axis::new(max_throughput);
    let plot_width = WIDTH - LEFT - RIGHT;
    let x = |second: f64| LEFT + second / x_axis.top * plot_width;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r#"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let s = &report.settings;
    let title = format!(
        "notary-loadtest: mix {}, concurrency {}{}",
        s.mix,
        s.concurrency,
        s.url
            .as_deref()
            .map(|u| format!(", {u}"))
            .unwrap_or_default()
    );
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="28" font-size="16" font-weight="bold">{}</text>"#,
        escape(&title)
    );

    panel(
        &mut svg,
        "latency of VALID jobs per second (ms): p50, p99",
        LATENCY_TOP,
        LATENCY_HEIGHT,
        &x_axis,
        &latency_axis,
    );
    panel(
        &mut svg,
        "VALID jobs per second",
        THROUGHPUT_TOP,
        THROUGHPUT_HEIGHT,
        &x_axis,
        &throughput_axis,
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">seconds since the phase started</text>"#,
        LEFT + plot_width / 2.0,
        THROUGHPUT_TOP + THROUGHPUT_HEIGHT + 36.0
    );

    if runs.iter().all(|r| r.timeline.is_empty()) {
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#888">no jobs finished</text>"##,
            LEFT + plot_width / 2.0,
            LATENCY_TOP + LATENCY_HEIGHT / 2.0
        );
    }

    for run in &runs {
        let dash = if run.target == "service" {
            ""
        } else {
            r#" stroke-dasharray="6 4""#
        };
        let latency_y =
            |ms: f64| LATENCY_TOP + LATENCY_HEIGHT - ms / latency_axis.top * LATENCY_HEIGHT;
        let throughput_y = |n: f64| {
            THROUGHPUT_TOP + THROUGHPUT_HEIGHT - n / throughput_axis.top * THROUGHPUT_HEIGHT
        };
        for series in Series::ALL {
            let (name, color) = (series.name(), series.color());
            let point = |s: &SecondStats| {
                let y = match series {
                    Series::P50 => latency_y(s.p50_us? as f64 / 1000.0),
                    Series::P99 => latency_y(s.p99_us? as f64 / 1000.0),
                    Series::Throughput => throughput_y(s.valid as f64),
                };
                Some((x(s.second as f64 + 0.5), y))
            };
            let _ = writeln!(
                svg,
                r#"<g class="series" data-target="{}" data-series="{name}" stroke="{color}" fill="{color}">"#,
                escape(&run.target)
            );
            // A second with no VALID job has no latency: the line breaks there.
            let mut segment: Vec<(f64, f64)> = Vec::new();
            for second in &run.timeline {
                match point(second) {
                    Some(p) => segment.push(p),
                    None => polyline(&mut svg, &std::mem::take(&mut segment), dash),
                }
            }
            polyline(&mut svg, &segment, dash);
            if run.timeline.len() <= MARKER_LIMIT {
                for (px, py) in run.timeline.iter().filter_map(point) {
                    let _ = writeln!(svg, r#"<circle cx="{px:.1}" cy="{py:.1}" r="2.5"/>"#);
                }
            }
            svg.push_str("</g>\n");
        }
    }

    legend(&mut svg, &runs);
    svg.push_str("</svg>\n");
    svg
}

/// The lines drawn for each run.
#[derive(Clone, Copy)]
enum Series {
    P50,
    P99,
    Throughput,
}

impl Series {
    const ALL: [Series; 3] = [Series::P50, Series::P99, Series::Throughput];

    fn name(self) -> &'static str {
        match self {
            Series::P50 => "p50",
            Series::P99 => "p99",
            Series::Throughput => "valid/s",
        }
    }

    fn color(self) -> &'static str {
        match self {
            Series::P50 => P50_COLOR,
            Series::P99 => P99_COLOR,
            Series::Throughput => THROUGHPUT_COLOR,
        }
    }
}

/// A frame with horizontal grid lines, y labels, x labels and a title.
fn panel(svg: &mut String, title: &str, top: f64, height: f64, x_axis: &Axis, y_axis: &Axis) {
    let width = WIDTH - LEFT - RIGHT;
    let _ = writeln!(
        svg,
        r#"<text x="{LEFT}" y="{}" font-weight="bold">{}</text>"#,
        top - 10.0,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{top}" width="{width}" height="{height}" fill="none" stroke="#444"/>"##
    );
    for value in y_axis.ticks() {
        let y = top + height - value / y_axis.top * height;
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#ddd"/>"##,
            LEFT + width
        );
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 4.0,
            y_axis.label(value)
        );
    }
    for value in x_axis.ticks() {
        let x = LEFT + value / x_axis.top * width;
        let _ = writeln!(
            svg,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{}" stroke="#444"/>"##,
            top + height,
            top + height + 4.0
        );
        let _ = writeln!(
            svg,
            r#"<text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"#,
            top + height + 17.0,
            x_axis.label(value)
        );
    }
}

fn polyline(svg: &mut String, points: &[(f64, f64)], dash: &str) {
    if points.len() < 2 {
        return;
    }
    let coords: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let _ = writeln!(
        svg,
        r#"<polyline points="{}" fill="none" stroke-width="2"{dash}/>"#,
        coords.join(" ")
    );
}

fn legend(svg: &mut String, runs: &[&Summary]) {
    let y = HEIGHT - 18.0;
    let mut x = LEFT;
    for run in runs {
        let dash = if run.target == "service" {
            ""
        } else {
            r#" stroke-dasharray="6 4""#
        };
        for series in Series::ALL {
            let (name, color) = (series.name(), series.color());
            let _ = writeln!(
                svg,
                r#"<line x1="{x}" y1="{}" x2="{}" y2="{}" stroke="{color}" stroke-width="2"{dash}/>"#,
                y - 4.0,
                x + 26.0,
                y - 4.0
            );
            let label = format!("{} {name}", run.target);
            let _ = writeln!(
                svg,
                r#"<text x="{}" y="{y}">{}</text>"#,
                x + 32.0,
                escape(&label)
            );
            x += 40.0 + 7.0 * label.len() as f64;
        }
    }
}

/// A linear axis from 0 to a round number at or above the largest value.
struct Axis {
    top: f64,
    step: f64,
}

impl Axis {
    fn new(max: f64) -> Self {
        let max = if max.is_finite() && max > 0.0 {
            max
        } else {
            1.0
        };
        let rough = max / 5.0;
        let magnitude = 10f64.powf(rough.log10().floor());
        let step = [1.0, 2.0, 5.0, 10.0]
            .into_iter()
            .map(|f| f * magnitude)
            .find(|s| *s >= rough)
            .unwrap_or(10.0 * magnitude);
        Axis {
            top: (max / step).ceil() * step,
            step,
        }
    }

    fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        let n = (self.top / self.step).round() as u64;
        (0..=n).map(move |i| i as f64 * self.step)
    }

    fn label(&self, value: f64) -> String {
        if self.step >= 1.0 {
            format!("{value:.0}")
        } else {
            let decimals = (-self.step.log10().floor()) as usize;
            format!("{value:.decimals$}")
        }
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
    use std::time::Duration;

    use tokio::time::Instant;

    use super::*;
    use crate::config::{Baseline, RunConfig};
    use crate::outcome::{Attempt, Class};
    use crate::stats::{Recorder, StopReason};
    use crate::workload::Mix;

    /// Checks that every tag is closed in order and every `&` starts an entity.
    fn assert_well_formed(svg: &str) {
        let mut open: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let text = &rest[..start];
            for (i, _) in text.match_indices('&') {
                let entity = &text[i..];
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;"]
                        .iter()
                        .any(|e| entity.starts_with(e)),
                    "bare & in {text:?}"
                );
            }
            let end = rest[start..].find('>').expect("unclosed tag") + start;
            let tag = &rest[start + 1..end];
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if let Some(closing) = tag.strip_prefix('/') {
                assert_eq!(
                    open.pop().as_deref(),
                    Some(closing.trim()),
                    "mismatched </{closing}>"
                );
            } else if !tag.ends_with('/') {
                open.push(name);
            }
            assert_eq!(
                tag.matches('"').count() % 2,
                0,
                "unbalanced quotes in <{tag}>"
            );
            rest = &rest[end + 1..];
        }
        assert!(open.is_empty(), "unclosed: {open:?}");
        assert!(rest.trim().is_empty());
    }

    fn summary(target: &str, seconds: u64) -> Summary {
        let origin = Instant::now();
        let mut rec = Recorder::new(origin);
        for s in 0..seconds {
            for i in 0..10 {
                rec.record(
                    &Attempt::valid(),
                    Duration::from_millis(5 + i * s),
                    origin + Duration::from_millis(s * 1000 + 10),
                );
            }
        }
        rec.record(
            &Attempt::error(Class::Http(503), "a <tag> & more"),
            Duration::from_millis(1),
            origin,
        );
        rec.summarize(target, Duration::from_secs(seconds), StopReason::Duration)
    }

    #[test]
    fn chart_has_both_runs_all_series_and_is_well_formed() {
        let mut config = RunConfig::new(Some("http://127.0.0.1:1/?a&b".into()), Mix::Mixed, 4, 10);
        config.baseline = Some(Baseline::Node);
        let mut report = Report::new(&config);
        report.service = Some(summary("service", 5));
        report.node = Some(summary("node", 3));
        let svg = render(&report);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_well_formed(&svg);
        assert_eq!(svg.matches("<polyline").count(), 6, "3 series x 2 runs");
        assert_eq!(
            svg.matches("stroke-dasharray").count(),
            3 + 3,
            "node lines and legend"
        );
        for series in ["p50", "p99", "valid/s"] {
            for target in ["service", "node"] {
                assert!(svg.contains(&format!(r#"data-target="{target}" data-series="{series}""#)));
            }
        }
        assert!(svg.contains("&amp;b"), "the URL in the title is escaped");
        assert!(svg.contains("<text"));
    }

    #[test]
    fn an_empty_run_still_draws_a_chart() {
        let mut report = Report::new(&RunConfig::new(None, Mix::Hello, 1, 1));
        report.node = Some(Recorder::new(Instant::now()).summarize(
            "node",
            Duration::ZERO,
            StopReason::Interrupt,
        ));
        let svg = render(&report);
        assert_well_formed(&svg);
        assert!(svg.contains("no jobs finished"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn axes_end_on_round_numbers() {
        let a = Axis::new(37.0);
        assert_eq!((a.step, a.top), (10.0, 40.0));
        let b = Axis::new(0.42);
        assert!((b.top - 0.5).abs() < 1e-9);
        assert_eq!(b.label(0.1), "0.1");
        assert_eq!(Axis::new(0.0).top, 1.0);
    }
}
