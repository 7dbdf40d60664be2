//! Properties of the parsers: they never panic, on arbitrary strings or on soups of the
//! grammar's own tokens, and printing then parsing gives back the same AST.

use proptest::collection::vec;
use proptest::prelude::*;
use tessera_scim::{AttrPath, AttributeSelection, CompValue, CompareOp, Filter, Limits, PatchPath};

/// Limits wide enough for any generated AST; recursion stays bounded by `max_depth`.
const ROOMY: Limits = Limits {
    max_length: 1 << 20,
    max_depth: 64,
    max_terms: 4096,
    max_operations: 100,
};

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9_-]{0,6}"
}

fn urn() -> impl Strategy<Value = String> {
    "[uU][rR][nN]:[a-z0-9]{1,4}(:[a-zA-Z0-9._-]{1,5}){0,3}"
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    (
        proptest::option::of(urn()),
        name(),
        proptest::option::of(name()),
    )
        .prop_map(|(urn, name, sub)| AttrPath { urn, name, sub })
}

fn number() -> impl Strategy<Value = serde_json::Number> {
    prop_oneof![
        any::<i64>().prop_map(serde_json::Number::from),
        any::<u64>().prop_map(serde_json::Number::from),
        any::<f64>().prop_filter_map("finite", serde_json::Number::from_f64),
    ]
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        number().prop_map(CompValue::Number),
        any::<String>().prop_map(CompValue::String),
    ]
}

/// An attribute expression the grammar allows: substring operators take strings, ordering
/// operators strings or numbers.
fn leaf(attr: BoxedStrategy<AttrPath>) -> impl Strategy<Value = Filter> {
    let compare = (
        attr.clone(),
        proptest::sample::select(CompareOp::ALL.to_vec()),
        comp_value(),
    )
        .prop_map(|(attr, op, value)| {
            let value = match value {
                CompValue::String(_) => value,
                other if op.is_substring() => CompValue::String(other.to_string()),
                CompValue::Number(_) => value,
                _ if op.is_ordering() => CompValue::Number(0.into()),
                other => other,
            };
            Filter::compare(attr, op, value)
        });
    prop_oneof![attr.prop_map(Filter::Present), compare]
}

fn combine(inner: BoxedStrategy<Filter>) -> impl Strategy<Value = Filter> {
    prop_oneof![
        (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::and(a, b)),
        (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::or(a, b)),
        inner.prop_map(Filter::negate),
    ]
}

/// A filter inside `[…]`: bare sub-attribute names, no nested value paths.
fn value_filter() -> impl Strategy<Value = Filter> {
    leaf(name().prop_map(AttrPath::new).boxed())
        .prop_recursive(3, 12, 2, |inner| combine(inner.boxed()))
}

fn filter() -> impl Strategy<Value = Filter> {
    let value_path =
        (proptest::option::of(urn()), name(), value_filter()).prop_map(|(urn, name, filter)| {
            Filter::value_path(
                AttrPath {
                    urn,
                    name,
                    sub: None,
                },
                filter,
            )
        });
    prop_oneof![3 => leaf(attr_path().boxed()), 1 => value_path]
        .prop_recursive(4, 32, 2, |inner| combine(inner.boxed()))
}

fn patch_path() -> impl Strategy<Value = PatchPath> {
    prop_oneof![
        attr_path().prop_map(|attr| PatchPath { attr, filter: None }),
        (
            proptest::option::of(urn()),
            name(),
            proptest::option::of(name()),
            value_filter()
        )
            .prop_map(|(urn, name, sub, filter)| PatchPath {
                attr: AttrPath { urn, name, sub },
                filter: Some(filter)
            }),
    ]
}

/// Pieces of the grammar, well-formed or not.
fn token() -> impl Strategy<Value = String> {
    let fixed = proptest::sample::select(vec![
        "(",
        ")",
        "[",
        "]",
        "not",
        "NOT",
        "and",
        "or",
        "Or",
        "pr",
        "eq",
        "ne",
        "co",
        "sw",
        "ew",
        "gt",
        "ge",
        "lt",
        "le",
        "true",
        "FALSE",
        "null",
        "\"work\"",
        "\"\\u00e9\\\"\"",
        "\"",
        "\\",
        "\"\\",
        "12",
        "-1.5e3",
        "1e999",
        "01",
        "userName",
        "name.familyName",
        "emails",
        ".value",
        "type",
        "a.b.c",
        "$ref",
        ":",
        ".",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "urn:",
        "urn:x:",
        "\u{0}",
        "é",
        "\t",
    ]);
    prop_oneof![4 => fixed.prop_map(str::to_owned), 1 => "[ -~]{0,3}"]
}

fn soup() -> impl Strategy<Value = String> {
    vec(
        (token(), proptest::sample::select(vec!["", " ", "  "])),
        0..40,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(token, space)| format!("{token}{space}"))
            .collect()
    })
}

/// A valid filter's text with a few characters deleted or grammar characters inserted:
/// inputs near the grammar, where parser bugs hide.
fn mutated() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        proptest::option::of(proptest::sample::select(vec![
            '(', ')', '[', ']', '"', '\\', ' ', '.', ':', '$', '-', 'e', '0',
        ])),
    );
    (filter(), vec(edit, 1..4)).prop_map(|(filter, edits)| {
        let mut chars: Vec<char> = filter.to_string().chars().collect();
        for (index, insert) in edits {
            let at = index.index(chars.len() + 1);
            match insert {
                Some(c) => chars.insert(at, c),
                None if at < chars.len() => {
                    chars.remove(at);
                }
                None => {}
            }
        }
        chars.into_iter().collect()
    })
}

/// Every parser on the same text: none may panic; a parsed filter or path round-trips.
fn parse_everything(text: &str) -> Result<(), TestCaseError> {
    if let Ok(filter) = Filter::parse(text) {
        let printed = filter.to_string();
        prop_assert_eq!(
            Filter::parse_with(&printed, &ROOMY),
            Ok(filter),
            "{}",
            printed
        );
    }
    if let Ok(path) = PatchPath::parse(text) {
        let printed = path.to_string();
        prop_assert_eq!(
            PatchPath::parse_with(&printed, &ROOMY),
            Ok(path),
            "{}",
            printed
        );
    }
    let _ = AttributeSelection::parse(Some(text), Some(text), &Limits::DEFAULT);
    let _ = AttrPath::parse(text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic_on_arbitrary_strings(text in any::<String>()) {
        parse_everything(&text)?;
    }

    #[test]
    fn parsers_never_panic_on_token_soups(text in soup()) {
        parse_everything(&text)?;
    }

    #[test]
    fn parsers_never_panic_on_mutated_filters(text in mutated()) {
        parse_everything(&text)?;
    }

    #[test]
    fn printed_filters_parse_back_to_the_same_ast(filter in filter()) {
        let printed = filter.to_string();
        prop_assert_eq!(Filter::parse_with(&printed, &ROOMY), Ok(filter), "{}", printed);
    }

    #[test]
    fn printed_patch_paths_parse_back(path in patch_path()) {
        let printed = path.to_string();
        prop_assert_eq!(PatchPath::parse_with(&printed, &ROOMY), Ok(path), "{}", printed);
    }
}
