//! Plain-text tables for people.

use serde_json::Value;
use std::fmt::Write;

/// The text of a JSON value in a cell: strings bare, lists joined, absent values as `-`.
pub fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.is_empty() => "-".to_owned(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| cell(Some(item)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

/// Renders `rows` under `headers`, each column as wide as its widest cell.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, text) in widths.iter_mut().zip(row) {
            *width = (*width).max(text.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_uppercase()).collect(), &mut out);
    for row in rows {
        line(row.clone(), &mut out);
    }
    out
}

/// A list answer (`{"items": [...]}`) as a table of `columns` (JSON field names).
pub fn list(value: &Value, columns: &[&str]) -> String {
    let rows: Vec<Vec<String>> = value
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|item| columns.iter().map(|c| cell(item.get(*c))).collect())
                .collect()
        })
        .unwrap_or_default();
    let mut out = render(columns, &rows);
    if let Some(cursor) = value.get("next_cursor").and_then(Value::as_str) {
        let _ = writeln!(out, "(more: --cursor {cursor})");
    }
    out
}

/// One object as `field  value` lines.
pub fn object(value: &Value) -> String {
    let rows: Vec<Vec<String>> = value
        .as_object()
        .map(|fields| {
            fields
                .iter()
                .map(|(name, value)| {
                    let text = match value {
                        Value::Object(_) | Value::Array(_)
                            if !value
                                .as_array()
                                .is_some_and(|a| a.iter().all(Value::is_string)) =>
                        {
                            value.to_string()
                        }
                        _ => cell(Some(value)),
                    };
                    vec![name.clone(), text]
                })
                .collect()
        })
        .unwrap_or_default();
    render(&["field", "value"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tables_align_columns() {
        let value = json!({"items": [{"id": "1", "email": "a@example.com", "status": "light"}, {"id": "22", "status": "active"}], "next_cursor": "c"});
        let text = list(&value, &["id", "email", "status"]);
        assert_eq!(
            text,
            "ID  EMAIL          STATUS\n1   a@example.com  light\n22  -              active\n(more: --cursor c)\n"
        );
    }
}
