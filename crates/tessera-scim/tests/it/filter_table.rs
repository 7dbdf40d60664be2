//! A table of filter strings: valid ones with their canonical printed form (and the AST
//! where precedence matters), invalid ones with their `invalidFilter` detail, snapshotted so
//! that changes to error wording are reviewed.

use tessera_scim::{AttrPath, CompValue, CompareOp, Filter, ScimType};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// (input, canonical form).
const VALID: &[(&str, &str)] = &[
    // RFC 7644 §3.4.2.2 examples.
    (r#"userName Eq "john""#, r#"userName eq "john""#),
    (r#"Username eq "john""#, r#"Username eq "john""#),
    (r#"userName eq "bjensen""#, r#"userName eq "bjensen""#),
    (
        r#"name.familyName co "O'Malley""#,
        r#"name.familyName co "O'Malley""#,
    ),
    (r#"userName sw "J""#, r#"userName sw "J""#),
    (
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    ),
    ("title pr", "title pr"),
    (
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    ),
    (
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
    ),
    (
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    ),
    (
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    ),
    (
        r#"title pr and userType eq "Employee""#,
        r#"title pr and userType eq "Employee""#,
    ),
    (
        r#"title pr or userType eq "Intern""#,
        r#"title pr or userType eq "Intern""#,
    ),
    (
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    ),
    (
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    ),
    (
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    ),
    (
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails.type eq "work""#,
    ),
    (
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    ),
    (
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ),
    // Case, whitespace, keywords.
    (r#"USERNAME EQ "x""#, r#"USERNAME eq "x""#),
    ("a pr AND b pr Or c pr", "a pr and b pr or c pr"),
    ("a pr or b pr and c pr", "a pr or b pr and c pr"),
    ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
    ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
    ("(a pr and b pr) and c pr", "a pr and b pr and c pr"),
    ("((a pr))", "a pr"),
    ("not(a pr)", "not (a pr)"),
    (
        "NOT (a pr) and not (not (b pr))",
        "not (a pr) and not (not (b pr))",
    ),
    ("  userName   eq\t\"x\"\n", r#"userName eq "x""#),
    (
        r#"emails[type eq "work"]and(title pr)"#,
        r#"emails[type eq "work"] and title pr"#,
    ),
    // An attribute may be called like a keyword where no keyword can stand.
    (r#"not eq "x""#, r#"not eq "x""#),
    ("and pr or or pr", "and pr or or pr"),
    // Values.
    ("loginCount gt 10", "loginCount gt 10"),
    ("x eq -1.5e3", "x eq -1500.0"),
    ("x eq 0", "x eq 0"),
    ("x ge 12.50", "x ge 12.5"),
    ("x lt 18446744073709551615", "x lt 18446744073709551615"),
    ("active eq TRUE", "active eq true"),
    ("active ne False", "active ne false"),
    ("x eq null", "x eq null"),
    (
        r#"displayName eq "Ba\"bs\\ \u00e9\n\/""#,
        r#"displayName eq "Ba\"bs\\ é\n/""#,
    ),
    (
        r#"displayName co "Jürgen 🎉""#,
        r#"displayName co "Jürgen 🎉""#,
    ),
    (r#"x eq "(not) [and] or""#, r#"x eq "(not) [and] or""#),
    (r#"x eq """#, r#"x eq """#),
    // Schema URNs, sub-attributes, references.
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
    ),
    (
        "urn:acme:params:custom:1.0:User:loyalty_tier ge 3",
        "urn:acme:params:custom:1.0:User:loyalty_tier ge 3",
    ),
    ("members.$ref pr", "members.$ref pr"),
    // Value filters.
    (
        r#"emails[not (type eq "work")]"#,
        r#"emails[not (type eq "work")]"#,
    ),
    (
        r#"emails[(type eq "work" or type eq "home") and primary eq true]"#,
        r#"emails[(type eq "work" or type eq "home") and primary eq true]"#,
    ),
    (
        r#"urn:ietf:params:scim:schemas:extension:tessera:2.0:User:emailPurposes[purposes eq "marketing"]"#,
        r#"urn:ietf:params:scim:schemas:extension:tessera:2.0:User:emailPurposes[purposes eq "marketing"]"#,
    ),
];

/// Invalid filters; their details are snapshotted below.
const INVALID: &[&str] = &[
    "",
    "   ",
    "userName",
    "userName eq",
    "userName eq bjensen",
    r#"userName xx "a""#,
    r#"userName eq "a"#,
    r#"userName eq "a\x""#,
    "userName eq 'a'",
    "(userName pr",
    "userName pr)",
    "userName pr and",
    "userName pr userName pr",
    "not userName pr",
    "not (a pr",
    r#"emails[type eq "work""#,
    r#"emails[type eq "work"].value eq "x""#,
    r#"emails[emails.type eq "work"]"#,
    r#"emails[urn:x:y:type eq "work"]"#,
    "emails[type[value pr]]",
    "name.familyName[x pr]",
    "a.b.c pr",
    "1abc pr",
    "ab$c pr",
    "http://x:y pr",
    "urn::x pr",
    "userName co 12",
    "userName sw true",
    "active gt true",
    "x lt null",
    "x eq 01",
    "x eq 1e999",
    "x eq +1",
    "x eq nul",
    "[a pr]",
    r#""a" eq "b""#,
    "()",
    "a pr or or b pr",
    "x eq \"\u{1}\"",
];

#[test]
fn valid_filters_print_canonically_and_round_trip() {
    for (input, canonical) in VALID {
        let filter = Filter::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(filter.to_string(), *canonical, "{input}");
        assert_eq!(Filter::parse(canonical).unwrap(), filter, "{canonical}");
    }
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let present = |name: &str| Filter::Present(AttrPath::new(name));
    assert_eq!(
        Filter::parse("a pr or b pr and not (c pr)").unwrap(),
        Filter::or(
            present("a"),
            Filter::and(present("b"), Filter::negate(present("c")))
        )
    );
    assert_eq!(
        Filter::parse("a pr and b pr and c pr").unwrap(),
        Filter::and(Filter::and(present("a"), present("b")), present("c"))
    );
    assert_eq!(
        Filter::parse("a pr or b pr or c pr").unwrap(),
        Filter::or(Filter::or(present("a"), present("b")), present("c"))
    );
}

#[test]
fn builds_the_typed_ast() {
    let filter = Filter::parse(&format!(
        r#"{ENTERPRISE}:manager.value EQ "42" and emails[type eq "work"]"#
    ))
    .unwrap();
    let expected = Filter::and(
        Filter::compare(
            AttrPath::new("manager")
                .with_urn(ENTERPRISE)
                .with_sub("value"),
            CompareOp::Eq,
            CompValue::String("42".into()),
        ),
        Filter::value_path(
            AttrPath::new("emails"),
            Filter::compare(
                AttrPath::new("type"),
                CompareOp::Eq,
                CompValue::String("work".into()),
            ),
        ),
    );
    assert_eq!(filter, expected);
    assert_eq!(filter.term_count(), 2);
    assert_eq!(
        filter.attributes(),
        [
            AttrPath::new("manager")
                .with_urn(ENTERPRISE)
                .with_sub("value"),
            AttrPath::new("emails").with_sub("type")
        ]
    );
    assert_eq!(
        Filter::parse("n eq -7").unwrap(),
        Filter::compare(
            AttrPath::new("n"),
            CompareOp::Eq,
            CompValue::Number((-7).into())
        )
    );
}

#[test]
fn invalid_filters_are_invalid_filter_errors() {
    let mut report = String::new();
    for input in INVALID {
        let error = Filter::parse(input).expect_err(input);
        assert_eq!(
            (error.status, error.scim_type),
            (400, Some(ScimType::InvalidFilter)),
            "{input}"
        );
        report.push_str(&format!("{input:?}\n    {}\n", error.detail));
    }
    insta::assert_snapshot!("invalid_filters", report);
}

#[test]
fn limits_are_enforced_quickly_and_without_deep_recursion() {
    let at_depth = |depth: usize| format!("{}a pr{}", "(".repeat(depth), ")".repeat(depth));
    assert!(Filter::parse(&at_depth(16)).is_ok());
    assert!(
        Filter::parse(&at_depth(17))
            .unwrap_err()
            .detail
            .contains("deeper than 16 levels")
    );
    let nots = format!("{}a pr{}", "not (".repeat(17), ")".repeat(17));
    assert!(
        Filter::parse(&nots)
            .unwrap_err()
            .detail
            .contains("deeper than 16 levels")
    );

    let terms = |count: usize| vec!["a pr"; count].join(" and ");
    assert!(Filter::parse(&terms(64)).is_ok());
    assert!(
        Filter::parse(&terms(65))
            .unwrap_err()
            .detail
            .contains("more than 64 attribute expressions")
    );

    // A34: 100 KB, thousands of terms, deep nesting — refused before parsing, by length.
    let huge = terms(20_000);
    assert!(
        Filter::parse(&huge)
            .unwrap_err()
            .detail
            .contains("longer than 4096 bytes")
    );
    let started = std::time::Instant::now();
    let deep = at_depth(50_000);
    let roomy = tessera_scim::Limits {
        max_length: usize::MAX,
        ..tessera_scim::Limits::DEFAULT
    };
    assert!(
        Filter::parse_with(&deep, &roomy)
            .unwrap_err()
            .detail
            .contains("deeper than 16 levels")
    );
    assert!(
        Filter::parse_with(&huge, &roomy)
            .unwrap_err()
            .detail
            .contains("more than 64")
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
