//! Filters on `/Users` (RFC 7644 §3.4.2.2) run as SQL on both stores: one table of filters
//! and the users each must find over a fixture of eight, values with SQL metacharacters
//! matched literally, and malformed or oversized filters refused as `invalidFilter`
//! quickly (A33, A34).

use super::support::{
    ENTERPRISE, SEARCH_REQUEST, Scim, TESSERA, expect_error, put_attribute_schema, sorted, user,
    user_names,
};
use crate::harness::TestServer;
use crate::http_suite;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const ALICE: &str = "alice";
const BOB: &str = "Bob";
const CAROL: &str = "carol";
const DAVE: &str = "dave.smith";
const EVE: &str = "eve_admin";
const FRANK: &str = "frank%50";
const GRACE: &str = "grace\\it";
const HEIDI: &str = "heidi";
const EVERYONE: [&str; 8] = [ALICE, BOB, CAROL, DAVE, EVE, FRANK, GRACE, HEIDI];

/// Eight users, created in this order through SCIM. Returns `meta.created` of the fourth.
async fn fixture(scim: &Scim) -> String {
    put_attribute_schema(
        &scim.server,
        json!([
            {"name": "loyaltyTier", "type": "enum", "enum_values": ["gold", "silver"]},
            {"name": "points", "type": "number"},
            {"name": "newsletter", "type": "boolean"},
            {"name": "preferences", "type": "json"}
        ]),
    )
    .await;
    let people = [
        user(
            ALICE,
            json!({
                "externalId": "EXT-A", "displayName": "Alice Archer", "title": "Engineer",
                "name": {"givenName": "Alice", "familyName": "Archer"},
                "emails": [{"value": "alice@example.com", "type": "work", "primary": true},
                           {"value": "alice@home.org", "type": "home"}],
                "phoneNumbers": [{"value": "+441234567890", "type": "mobile"}],
                ENTERPRISE: {"employeeNumber": "1001", "department": "R&D"},
                TESSERA: {"loyaltyTier": "gold", "points": 150, "newsletter": true}
            }),
        ),
        user(
            BOB,
            json!({
                "externalId": "ext-b", "displayName": "Bob Baker", "title": "Manager",
                "emails": [{"value": "bob@example.com", "type": "work", "primary": true}],
                ENTERPRISE: {"employeeNumber": "1002", "department": "Sales"},
                TESSERA: {"loyaltyTier": "silver", "points": 40, "newsletter": false}
            }),
        ),
        user(
            CAROL,
            json!({
                "externalId": "EXT-C", "displayName": "Carol Cruz", "title": "engineer",
                "nickName": "Caz", "active": false,
                "emails": [{"value": "carol@example.org", "type": "work", "primary": true}],
                ENTERPRISE: {"department": "R&D"},
                TESSERA: {"points": 99.5}
            }),
        ),
        user(
            DAVE,
            json!({
                "displayName": "Dave Smith",
                "emails": [{"value": "dave@example.com", "type": "home", "primary": true},
                           {"value": "dave@work.test", "type": "work"}],
                TESSERA: {"loyaltyTier": "gold"}
            }),
        ),
        user(
            EVE,
            json!({
                "displayName": "Eve", "title": "Engineer",
                "emails": [{"value": "eve@evil.test", "type": "work", "primary": true}]
            }),
        ),
        user(
            FRANK,
            json!({"displayName": "Frank", "emails": [{"value": "frank@example.net"}]}),
        ),
        user(GRACE, json!({"displayName": "Grace ' OR 1=1 --"})),
        user(
            HEIDI,
            json!({
                "externalId": "EXT-H", "displayName": "Heidi Ørsted",
                "emails": [{"value": "heidi@example.com", "type": "work", "primary": true}],
                ENTERPRISE: {"employeeNumber": "1008"},
                TESSERA: {"loyaltyTier": "silver"}
            }),
        ),
    ];
    let mut fourth_created = String::new();
    for (index, person) in people.iter().enumerate() {
        let created = scim.create_user(person).await;
        if index == 3 {
            fourth_created = created["meta"]["created"].as_str().unwrap().to_owned();
        }
    }
    fourth_created
}

fn all_but(excluded: &[&str]) -> Vec<&'static str> {
    EVERYONE
        .into_iter()
        .filter(|name| !excluded.contains(name))
        .collect()
}

async fn filters_find_exactly_the_matching_users(server: TestServer) {
    let scim = Scim::new(&server).await;
    let fourth_created = fixture(&scim).await;
    let table: Vec<(String, Vec<&str>)> = vec![
        // eq, and case-insensitivity of userName
        (r#"userName eq "alice""#.into(), vec![ALICE]),
        (r#"userName eq "ALICE""#.into(), vec![ALICE]),
        (r#"USERNAME eq "bob""#.into(), vec![BOB]),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "heidi""#.into(), vec![HEIDI]),
        // externalId is case-exact
        (r#"externalId eq "EXT-A""#.into(), vec![ALICE]),
        (r#"externalId eq "ext-a""#.into(), vec![]),
        (r#"externalId eq "EXT-B""#.into(), vec![]),
        (r#"externalId sw "EXT""#.into(), vec![ALICE, CAROL, HEIDI]),
        (r#"externalId co "ext""#.into(), vec![BOB]),
        (r#"externalId ne "EXT-A""#.into(), all_but(&[ALICE])),
        // ne, co, sw, ew
        (r#"userName ne "alice""#.into(), all_but(&[ALICE])),
        (r#"userName co "A""#.into(), vec![ALICE, CAROL, DAVE, EVE, FRANK, GRACE]),
        (r#"userName sw "d""#.into(), vec![DAVE]),
        (r#"userName ew "H""#.into(), vec![DAVE]),
        (r#"displayName co "er""#.into(), vec![ALICE, BOB]),
        // gt, ge, lt, le on text (ignoring case)
        (r#"userName gt "dave""#.into(), vec![DAVE, EVE, FRANK, GRACE, HEIDI]),
        (r#"userName ge "heidi""#.into(), vec![HEIDI]),
        (r#"userName lt "bob""#.into(), vec![ALICE]),
        (r#"userName le "BOB""#.into(), vec![ALICE, BOB]),
        // pr and not
        (r#"title pr"#.into(), vec![ALICE, BOB, CAROL, EVE]),
        (r#"not (title pr)"#.into(), vec![DAVE, FRANK, GRACE, HEIDI]),
        (r#"title eq null"#.into(), vec![DAVE, FRANK, GRACE, HEIDI]),
        (r#"externalId pr"#.into(), vec![ALICE, BOB, CAROL, HEIDI]),
        (r#"nickName pr"#.into(), vec![CAROL]),
        (r#"title eq "ENGINEER""#.into(), vec![ALICE, CAROL, EVE]),
        (r#"title ne "engineer""#.into(), vec![BOB, DAVE, FRANK, GRACE, HEIDI]),
        // booleans
        (r#"active eq false"#.into(), vec![CAROL]),
        (r#"active eq true"#.into(), all_but(&[CAROL])),
        (r#"active ne true"#.into(), vec![CAROL]),
        // and, or, precedence, parentheses
        (r#"title eq "Engineer" and active eq true"#.into(), vec![ALICE, EVE]),
        (r#"title eq "Manager" or userName eq "heidi""#.into(), vec![BOB, HEIDI]),
        (r#"userName eq "carol" or userName eq "bob" and active eq true"#.into(), vec![BOB, CAROL]),
        (r#"(userName eq "carol" or userName eq "bob") and active eq true"#.into(), vec![BOB]),
        (r#"userName eq "bob" and active eq true or userName eq "carol""#.into(), vec![BOB, CAROL]),
        (r#"not (userName eq "alice" or userName eq "bob")"#.into(), all_but(&[ALICE, BOB])),
        (r#"not (userName eq "alice") and not (userName eq "bob")"#.into(), all_but(&[ALICE, BOB])),
        (r#"((((userName eq "alice"))))"#.into(), vec![ALICE]),
        (r#"userName eq "alice" and (title eq "Manager" or (externalId eq "EXT-A" and active eq true))"#.into(), vec![ALICE]),
        // multi-valued attributes and value filters
        (r#"emails co "example.com""#.into(), vec![ALICE, BOB, DAVE, HEIDI]),
        (r#"emails.value ew ".org""#.into(), vec![ALICE, CAROL]),
        (r#"emails.type eq "home""#.into(), vec![ALICE, DAVE]),
        (r#"emails[type eq "WORK"]"#.into(), vec![ALICE, BOB, CAROL, DAVE, EVE, HEIDI]),
        (r#"emails.type eq "Work""#.into(), vec![ALICE, BOB, CAROL, DAVE, EVE, HEIDI]),
        (r#"emails[type eq "work" and primary eq false]"#.into(), vec![DAVE]),
        (r#"emails[type eq "work" and value co "@example.com"]"#.into(), vec![ALICE, BOB, HEIDI]),
        (r#"emails.type eq "work" and emails.value co "@example.com""#.into(), vec![ALICE, BOB, DAVE, HEIDI]),
        (r#"emails[type eq "home" or value ew ".test"]"#.into(), vec![ALICE, DAVE, EVE]),
        (r#"emails[not (type eq "work")]"#.into(), vec![ALICE, DAVE, FRANK]),
        (r#"emails[primary eq true and value sw "heidi"]"#.into(), vec![HEIDI]),
        (r#"emails pr"#.into(), all_but(&[GRACE])),
        (r#"emails.value eq "ALICE@EXAMPLE.COM""#.into(), vec![ALICE]),
        (r#"phoneNumbers[type eq "mobile"]"#.into(), vec![ALICE]),
        (r#"name.familyName eq "archer""#.into(), vec![ALICE]),
        (r#"name pr"#.into(), vec![ALICE]),
        // meta
        (format!(r#"meta.created gt "{fourth_created}""#), vec![EVE, FRANK, GRACE, HEIDI]),
        (format!(r#"meta.created le "{fourth_created}""#), vec![ALICE, BOB, CAROL, DAVE]),
        (format!(r#"meta.created ge "{fourth_created}""#), vec![DAVE, EVE, FRANK, GRACE, HEIDI]),
        (r#"meta.created gt "2000-01-01T00:00:00Z""#.into(), EVERYONE.to_vec()),
        (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#.into(), vec![]),
        (r#"meta.resourceType eq "User""#.into(), EVERYONE.to_vec()),
        // the enterprise extension by full URN
        (format!(r#"{ENTERPRISE}:department eq "r&d""#), vec![ALICE, CAROL]),
        (format!(r#"{ENTERPRISE}:employeeNumber pr"#), vec![ALICE, BOB, HEIDI]),
        (format!(r#"{ENTERPRISE}:employeeNumber gt "1001""#), vec![BOB, HEIDI]),
        (r#"employeeNumber eq "1002""#.into(), vec![BOB]),
        // custom attributes, by URN and by name
        (format!(r#"{TESSERA}:loyaltyTier eq "gold""#), vec![ALICE, DAVE]),
        (r#"loyaltyTier eq "silver""#.into(), vec![BOB, HEIDI]),
        (r#"loyaltyTier pr"#.into(), vec![ALICE, BOB, DAVE, HEIDI]),
        (r#"points gt 50"#.into(), vec![ALICE, CAROL]),
        (r#"points le 40"#.into(), vec![BOB]),
        (r#"points ge 99.5"#.into(), vec![ALICE, CAROL]),
        (r#"points eq 150"#.into(), vec![ALICE]),
        (r#"points ne 150"#.into(), all_but(&[ALICE])),
        (r#"points eq "150""#.into(), vec![]),
        (r#"newsletter eq true"#.into(), vec![ALICE]),
        (r#"newsletter eq false"#.into(), vec![BOB]),
        (r#"newsletter ne true"#.into(), all_but(&[ALICE])),
        (r#"newsletter pr"#.into(), vec![ALICE, BOB]),
        (format!(r#"{TESSERA}:newsletter eq true and loyaltyTier eq "gold""#), vec![ALICE]),
        // folding beyond ASCII, as the domain folds
        (r#"displayName eq "HEIDI ØRSTED""#.into(), vec![HEIDI]),
        (r#"displayName co "ørsted""#.into(), vec![HEIDI]),
        (r#"displayName sw "heidi ø""#.into(), vec![HEIDI]),
        (r#"displayName ew "ØRSTED""#.into(), vec![HEIDI]),
        // SQL metacharacters are matched literally
        (r#"userName co "%""#.into(), vec![FRANK]),
        (r#"userName co "_""#.into(), vec![EVE]),
        (r#"userName co "\\""#.into(), vec![GRACE]),
        (r#"userName sw "frank%""#.into(), vec![FRANK]),
        (r#"userName ew "%50""#.into(), vec![FRANK]),
        (r#"userName sw "_""#.into(), vec![]),
        (r#"userName eq "%""#.into(), vec![]),
        (r#"userName eq "grace\\it""#.into(), vec![GRACE]),
        (r#"displayName eq "Grace ' OR 1=1 --""#.into(), vec![GRACE]),
        (r#"displayName co "' OR 1=1 --""#.into(), vec![GRACE]),
        (r#"userName eq "' OR 1=1 --""#.into(), vec![]),
        (r#"userName eq "x' OR '1'='1""#.into(), vec![]),
        (r#"userName eq "x\"; DROP TABLE users; --""#.into(), vec![]),
        (r#"displayName co "%' --""#.into(), vec![]),
    ];
    let mut failures = Vec::new();
    for (filter, expected) in &table {
        let answer = scim
            .query("/Users", &[("filter", filter.as_str()), ("count", "200")])
            .await;
        if answer.status != 200 {
            failures.push(format!(
                "{filter}: status {} {}",
                answer.status, answer.body
            ));
            continue;
        }
        let mut found = user_names(&answer.body);
        found.sort();
        if found != sorted(expected) {
            failures.push(format!("{filter}: expected {expected:?}, found {found:?}"));
        }
        if answer.body["totalResults"] != json!(expected.len()) {
            failures.push(format!(
                "{filter}: totalResults {} for {} users",
                answer.body["totalResults"],
                expected.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // the fixture survived every filter
    assert_eq!(scim.user_names("userName pr").await, sorted(&EVERYONE));
}

async fn filters_on_last_modified_and_groups(server: TestServer) {
    let scim = Scim::new(&server).await;
    let fourth_created = fixture(&scim).await;
    let heidi = scim
        .query("/Users", &[("filter", "userName eq \"heidi\"")])
        .await
        .expect(200);
    let heidi = &heidi.body["Resources"][0];
    let heidi_created = heidi["meta"]["created"].as_str().unwrap().to_owned();
    let alice = scim
        .query("/Users", &[("filter", "userName eq \"alice\"")])
        .await
        .expect(200)
        .body["Resources"][0]
        .clone();
    let alice_id = alice["id"].as_str().unwrap().to_owned();
    let patched = scim
        .patch(
            &format!("/Users/{alice_id}"),
            json!([{"op": "add", "path": "nickName", "value": "Al"}]),
        )
        .await
        .expect(200);
    assert_ne!(
        patched.body["meta"]["lastModified"],
        alice["meta"]["lastModified"]
    );
    assert_eq!(
        scim.user_names(&format!("meta.lastModified gt \"{heidi_created}\""))
            .await,
        [ALICE]
    );
    assert_eq!(
        scim.user_names(&format!(
            "meta.lastModified gt \"{heidi_created}\" and meta.created le \"{fourth_created}\""
        ))
        .await,
        [ALICE]
    );

    // membership
    let bob_id = scim
        .query("/Users", &[("filter", "userName eq \"Bob\"")])
        .await
        .expect(200)
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let crew = scim
        .post(
            "/Groups",
            &super::support::group("Night Crew", &[alice_id.as_str(), bob_id.as_str()]),
        )
        .await
        .expect(201)
        .body;
    let crew_id = crew["id"].as_str().unwrap();
    assert_eq!(
        scim.user_names(&format!("groups eq \"{crew_id}\"")).await,
        sorted(&[ALICE, BOB])
    );
    assert_eq!(
        scim.user_names(&format!("groups[value eq \"{crew_id}\"]"))
            .await,
        sorted(&[ALICE, BOB])
    );
    assert_eq!(
        scim.user_names("groups.display eq \"night crew\"").await,
        sorted(&[ALICE, BOB])
    );
    assert_eq!(
        scim.user_names(&format!("not (groups eq \"{crew_id}\")"))
            .await
            .len(),
        6
    );
}

async fn invalid_filters_are_refused_quickly(server: TestServer) {
    let scim = Scim::new(&server).await;
    fixture(&scim).await;
    let deep = format!("{}userName pr{}", "(".repeat(17), ")".repeat(17));
    let deep_not = format!("{}userName pr{}", "not (".repeat(40), ")".repeat(40));
    let deep_brackets = format!("emails[{}type pr{}]", "(".repeat(30), ")".repeat(30));
    let many_terms = vec!["userName eq \"x\""; 65].join(" or ");
    let long = format!("userName eq \"{}\"", "a".repeat(4097));
    // a URI stays under 64 KiB, so the query string carries ~40 KB; .search carries more
    let large = vec!["userName eq \"abcdefghij\""; 1500].join(" or ");
    let mut invalid: Vec<String> = [
        "",
        "userName",
        "userName eq",
        "userName eq alice",
        "userName xx \"alice\"",
        "userName eq \"alice",
        "(userName eq \"alice\"",
        "userName eq \"alice\")",
        "userName eq \"alice\" and",
        "and userName eq \"alice\"",
        "userName eq \"a\" or or userName eq \"b\"",
        "not userName eq \"alice\"",
        "emails[type eq \"work\"",
        "emails[type eq \"work\"]]",
        "emails[emails[type pr]]",
        "nosuch eq \"x\"",
        "urn:bogus:Thing:attr eq \"x\"",
        "name.nosuch eq \"x\"",
        "password eq \"secret\"",
        "preferences pr",
        "userName gt true",
        "active gt false",
        "meta.created gt \"yesterday\"",
        "meta.created sw \"2024\"",
        "title lt null",
        "displayName[value eq \"x\"]",
        "userName eq \"\\x\"",
        "userName eq 'alice'",
        "userName eq \"alice\" \u{0}",
    ]
    .iter()
    .map(|filter| (*filter).to_owned())
    .collect();
    invalid.extend([deep, deep_not, deep_brackets, many_terms, long, large]);
    for filter in &invalid {
        let started = Instant::now();
        let answer = scim.query("/Users", &[("filter", filter.as_str())]).await;
        let elapsed = started.elapsed();
        let shown: String = filter.chars().take(80).collect();
        assert_eq!(answer.status, 400, "{shown}: {}", answer.body);
        let answer = expect_error(answer, 400, Some("invalidFilter"));
        assert!(
            elapsed < Duration::from_secs(2),
            "{shown}: took {elapsed:?}"
        );
        // details name positions and attributes, never the value
        let detail = answer.body["detail"].as_str().unwrap();
        assert!(!detail.contains("secret"), "{detail}");
    }
    // A34 through .search: 100 KB, thousands of terms, deep nesting
    let huge = vec!["userName eq \"abcdefghij\""; 4000].join(" or ");
    let unbalanced = "(".repeat(100_000);
    let deep_valid = format!("{}userName pr{}", "(".repeat(50_000), ")".repeat(50_000));
    let deep_not = format!(
        "{}userName pr{}",
        "not (".repeat(20_000),
        ")".repeat(20_000)
    );
    for filter in ["userName eq", &huge, &unbalanced, &deep_valid, &deep_not] {
        let started = Instant::now();
        let search = scim
            .post(
                "/Users/.search",
                &json!({"schemas": [SEARCH_REQUEST], "filter": filter}),
            )
            .await;
        let elapsed = started.elapsed();
        let shown: String = filter.chars().take(40).collect();
        assert_eq!(search.status, 400, "{shown}: {}", search.body);
        expect_error(search, 400, Some("invalidFilter"));
        assert!(
            elapsed < Duration::from_secs(2),
            "{shown}: took {elapsed:?}"
        );
    }
    for filter in ["displayName eq", "members pr", "nosuch eq \"x\""] {
        let answer = scim.query("/Groups", &[("filter", filter)]).await;
        expect_error(answer, 400, Some("invalidFilter"));
    }
    // the longest filter allowed still works
    let padded = format!("userName eq \"{}\"", "a".repeat(4096 - 14));
    assert_eq!(padded.len(), 4096);
    let answer = scim.query("/Users", &[("filter", padded.as_str())]).await;
    assert_eq!(answer.expect(200).body["totalResults"], 0);
    let allowed_terms = vec!["userName eq \"alice\""; 64].join(" or ");
    assert_eq!(scim.user_names(&allowed_terms).await, [ALICE]);
}

/// A filter's values reach the store as parameters, whatever they hold: the users table
/// survives and other rows do not leak.
async fn filter_values_never_become_sql(server: TestServer) {
    let scim = Scim::new(&server).await;
    fixture(&scim).await;
    for value in [
        "'; DROP TABLE users; --",
        "\\'; DELETE FROM users; --",
        "' OR ''='",
        "%' OR username_key LIKE '%",
        "\u{2019} OR 1=1",
        "$1",
        "?",
        "\\",
        "%%",
        "__",
    ] {
        let escaped = Value::String(value.to_owned()).to_string();
        for op in ["eq", "co", "sw", "ew", "gt"] {
            let filter = format!("displayName {op} {escaped} and userName eq \"nobody\"");
            let answer = scim.query("/Users", &[("filter", filter.as_str())]).await;
            assert_eq!(answer.status, 200, "{filter}: {}", answer.body);
            assert_eq!(answer.body["totalResults"], 0, "{filter}");
            let filter = format!("{TESSERA}:loyaltyTier {op} {escaped}");
            let answer = scim.query("/Users", &[("filter", filter.as_str())]).await;
            assert_eq!(answer.status, 200, "{filter}: {}", answer.body);
        }
    }
    assert_eq!(scim.user_names("userName pr").await, sorted(&EVERYONE));
}

http_suite!(
    filters_find_exactly_the_matching_users,
    filters_on_last_modified_and_groups,
    invalid_filters_are_refused_quickly,
    filter_values_never_become_sql,
);
