//! `--format json`: the report as DESIGN.md's schema_version 1.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut text = crate::text::escape_json_controls(
        &serde_json::to_string_pretty(report).expect("the report model always serializes"),
    );
    text.push('\n');
    text
}
