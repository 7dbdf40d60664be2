//! The table of filter cases (ADR 0008): one fixture, each filter with the usernames it must
//! find, on both backends. The semantics are those of `tessera_scim::filter::eval`.

use crate::conformance;
use crate::filter_fixture::fixture;
use crate::fixtures::{core, tenant};
use std::collections::BTreeSet;
use std::sync::Arc;
use tessera_core::store::Store;
use tessera_core::user_filter::{
    AddressField, CompareOp, Condition, ElementFilter, EmailField, EnterpriseField, FilterValue,
    PhoneField, Test, UserField, UserFilter, UserSort,
};
use time::format_description::well_known::Rfc3339;

use CompareOp::{Co, Eq, Ew, Ge, Gt, Le, Lt, Ne, Sw};
use FilterValue::{Bool, Number, Text, Timestamp};

fn text(value: &str) -> FilterValue {
    Text(value.to_owned())
}

fn on(field: UserField, op: CompareOp, value: FilterValue) -> UserFilter {
    UserFilter::condition(field, op, value)
}

fn exact(field: UserField, op: CompareOp, value: FilterValue) -> UserFilter {
    UserFilter::Condition(Condition::compare(field, op, value).exact())
}

fn pr(field: UserField) -> UserFilter {
    UserFilter::present(field)
}

fn not(inner: UserFilter) -> UserFilter {
    UserFilter::negate(inner)
}

fn el<F>(field: F, op: CompareOp, value: FilterValue) -> ElementFilter<F> {
    ElementFilter::condition(field, op, value)
}

fn attribute(name: &str) -> UserField {
    UserField::Attribute(name.to_owned())
}

fn scim_id() -> UserField {
    UserField::ExternalId {
        source: "scim".into(),
    }
}

async fn filter_table(store: Arc<dyn Store>) {
    let (core, clock) = core(store.clone()).await;
    let (_, auth) = tenant(&core, "acme").await;
    let fixture = fixture(&core, &clock, &auth).await;
    let minute = |n: i64| fixture.start + time::Duration::minutes(n);
    let alice = fixture.users["alice"].id.to_string();
    use UserField::*;

    let cases: Vec<(&str, UserFilter, &[&str])> = vec![
        (
            "username eq, any case",
            on(Username, Eq, text("ALICE")),
            &["alice"],
        ),
        (
            "username eq, case-exact",
            exact(Username, Eq, text("bob")),
            &[],
        ),
        (
            "username eq, case-exact hit",
            exact(Username, Eq, text("Bob")),
            &["Bob"],
        ),
        (
            "username sw",
            on(Username, Sw, text("CAR")),
            &["carol.öberg"],
        ),
        (
            "username co, Unicode folding",
            on(Username, Co, text("Ö")),
            &["carol.öberg"],
        ),
        (
            "username ew",
            on(Username, Ew, text("E")),
            &["alice", "dave", "grace"],
        ),
        (
            "username gt",
            on(Username, Gt, text("e")),
            &["erin", "frank", "grace"],
        ),
        (
            "username le",
            on(Username, Le, text("bob")),
            &["alice", "Bob"],
        ),
        (
            "family name eq, Unicode",
            on(FamilyName, Eq, text("öBERG")),
            &["carol.öberg"],
        ),
        (
            "co: % and _ are literal",
            on(FamilyName, Co, text("%_")),
            &["dave"],
        ),
        ("co: % alone", on(FamilyName, Co, text("%")), &["dave"]),
        (
            "quotes and backslashes",
            on(Nickname, Eq, text("o'brien \\ \"Q\"")),
            &["dave"],
        ),
        ("co backslash", on(Nickname, Co, text("\\")), &["dave"]),
        ("pr", pr(Nickname), &["alice", "dave", "frank"]),
        (
            "not pr",
            not(pr(Nickname)),
            &["Bob", "carol.öberg", "erin", "grace"],
        ),
        (
            "ne matches absent",
            on(Nickname, Ne, text("ALI")),
            &["Bob", "carol.öberg", "dave", "erin", "frank", "grace"],
        ),
        (
            "ne with a value of another type: everyone",
            on(Nickname, Ne, Number(5.0)),
            &[
                "alice",
                "Bob",
                "carol.öberg",
                "dave",
                "erin",
                "frank",
                "grace",
            ],
        ),
        (
            "eq with a value of another type: no one",
            on(Nickname, Eq, Number(5.0)),
            &[],
        ),
        ("case-exact miss", exact(Nickname, Eq, text("mixed")), &[]),
        (
            "case-exact hit",
            exact(Nickname, Eq, text("MiXeD")),
            &["frank"],
        ),
        ("sw with _", on(Title, Sw, text("a_")), &["dave"]),
        ("co _ is literal", on(Title, Co, text("_")), &["dave"]),
        (
            "deleted users never match",
            on(Title, Eq, text("explorer")),
            &["alice"],
        ),
        ("status", on(Status, Eq, text("Disabled")), &["erin"]),
        ("status active", on(Status, Eq, text("active")), &["Bob"]),
        ("wrong type never matches", on(Title, Eq, Number(1.0)), &[]),
        (
            "created gt",
            on(Created, Gt, Timestamp(minute(3))),
            &["dave", "erin", "frank", "grace"],
        ),
        (
            "created le, RFC 3339 text",
            on(Created, Le, Text(minute(2).format(&Rfc3339).unwrap())),
            &["alice", "Bob"],
        ),
        (
            "created lt and ge",
            UserFilter::And(vec![
                on(Created, Ge, Timestamp(minute(2))),
                on(Created, Lt, Timestamp(minute(4))),
            ]),
            &["Bob", "carol.öberg"],
        ),
        (
            "email eq (index)",
            UserFilter::Email(el(EmailField::Value, Eq, text("ALICE@WONDER.LAND"))),
            &["alice"],
        ),
        (
            "email co",
            UserFilter::Email(el(EmailField::Value, Co, text("@example"))),
            &["alice", "carol.öberg", "grace"],
        ),
        (
            "email ew",
            UserFilter::Email(el(EmailField::Value, Ew, text(".EXAMPLE"))),
            &["Bob", "dave", "frank"],
        ),
        (
            "email element: same email",
            UserFilter::Email(ElementFilter::And(vec![
                el(EmailField::Kind, Eq, text("work")),
                el(EmailField::Value, Co, text("wonder")),
            ])),
            &["alice"],
        ),
        (
            "email element: not across emails",
            UserFilter::Email(ElementFilter::And(vec![
                el(EmailField::Kind, Eq, text("home")),
                el(EmailField::Value, Co, text("wonder")),
            ])),
            &[],
        ),
        (
            "email kind, any case",
            UserFilter::Email(el(EmailField::Kind, Eq, text("HOME"))),
            &["alice", "carol.öberg"],
        ),
        (
            "email kind, case-exact",
            UserFilter::Email(ElementFilter::Condition(
                Condition::compare(EmailField::Kind, Eq, text("Home")).exact(),
            )),
            &["carol.öberg"],
        ),
        (
            "email verified",
            UserFilter::Email(el(EmailField::Verified, Eq, Bool(true))),
            &["alice"],
        ),
        (
            "email primary and value",
            UserFilter::Email(ElementFilter::And(vec![
                el(EmailField::Primary, Eq, Bool(true)),
                el(EmailField::Value, Sw, text("bob")),
            ])),
            &["Bob"],
        ),
        (
            "no work email (SCIM emails.type ne)",
            not(UserFilter::Email(el(EmailField::Kind, Eq, text("work")))),
            &["carol.öberg", "dave", "erin", "frank", "grace"],
        ),
        (
            "element with not",
            UserFilter::Email(ElementFilter::And(vec![
                ElementFilter::Not(Box::new(el(EmailField::Primary, Eq, Bool(true)))),
                el(EmailField::Kind, Eq, text("home")),
            ])),
            &["alice"],
        ),
        (
            "phone value",
            UserFilter::Phone(el(PhoneField::Value, Eq, text("+15551234567"))),
            &["Bob"],
        ),
        (
            "phone kind",
            UserFilter::Phone(el(PhoneField::Kind, Eq, text("MOBILE"))),
            &["Bob"],
        ),
        (
            "address locality",
            UserFilter::Address(el(AddressField::Locality, Eq, text("london"))),
            &["alice"],
        ),
        (
            "address element",
            UserFilter::Address(ElementFilter::And(vec![
                el(AddressField::Kind, Eq, text("work")),
                el(AddressField::Country, Eq, text("se")),
            ])),
            &["carol.öberg"],
        ),
        (
            "address primary",
            UserFilter::Address(el(AddressField::Primary, Eq, Bool(true))),
            &["alice"],
        ),
        (
            "enterprise department",
            on(Enterprise(EnterpriseField::Department), Co, text("RABBIT")),
            &["alice"],
        ),
        (
            "enterprise manager",
            on(Enterprise(EnterpriseField::Manager), Eq, text(&alice)),
            &["Bob"],
        ),
        (
            "external id, exact (index)",
            exact(scim_id(), Eq, text("EXT-1")),
            &["alice"],
        ),
        (
            "external id, exact other case",
            exact(scim_id(), Eq, text("ext-1")),
            &["frank"],
        ),
        (
            "external id, any case",
            on(scim_id(), Eq, text("ext-1")),
            &["alice", "frank"],
        ),
        (
            "external id ne",
            exact(scim_id(), Ne, text("EXT-1")),
            &["Bob", "carol.öberg", "dave", "erin", "frank", "grace"],
        ),
        ("external id pr", pr(scim_id()), &["alice", "frank"]),
        (
            "external id of another source",
            exact(
                UserField::ExternalId {
                    source: "crm".into(),
                },
                Eq,
                text("B"),
            ),
            &["Bob"],
        ),
        (
            "attribute eq, any case (profile)",
            on(attribute("country"), Eq, text("gb")),
            &["alice", "grace"],
        ),
        (
            "attribute eq, exact (index)",
            exact(attribute("country"), Eq, text("GB")),
            &["alice"],
        ),
        (
            "attribute sw",
            on(attribute("country"), Sw, text("s")),
            &["carol.öberg"],
        ),
        (
            "number gt",
            on(attribute("score"), Gt, Number(5.0)),
            &["alice", "carol.öberg"],
        ),
        (
            "number eq (index)",
            on(attribute("score"), Eq, Number(5.0)),
            &["Bob"],
        ),
        (
            "number le",
            on(attribute("score"), Le, Number(0.0)),
            &["dave"],
        ),
        (
            "number ne",
            on(attribute("score"), Ne, Number(5.0)),
            &["alice", "carol.öberg", "dave", "erin", "frank", "grace"],
        ),
        (
            "number against text",
            on(attribute("score"), Gt, text("1")),
            &[],
        ),
        (
            "boolean eq",
            on(attribute("vip"), Eq, Bool(false)),
            &["dave"],
        ),
        ("boolean pr", pr(attribute("vip")), &["alice", "dave"]),
        (
            "or binds looser than and",
            UserFilter::Or(vec![
                on(Username, Eq, text("alice")),
                UserFilter::And(vec![
                    on(Username, Eq, text("bob")),
                    on(Title, Eq, text("builder")),
                ]),
            ]),
            &["alice", "Bob"],
        ),
        (
            "parentheses",
            UserFilter::And(vec![
                UserFilter::Or(vec![
                    on(Username, Eq, text("alice")),
                    on(Username, Eq, text("bob")),
                ]),
                on(Title, Eq, text("builder")),
            ]),
            &["Bob"],
        ),
        (
            "not over or",
            not(UserFilter::Or(vec![
                on(Username, Eq, text("alice")),
                on(Status, Eq, text("disabled")),
            ])),
            &["Bob", "carol.öberg", "dave", "frank", "grace"],
        ),
        ("id eq", on(Id, Eq, text(&alice.to_uppercase())), &["alice"]),
        (
            "id eq, case-exact",
            exact(Id, Eq, text(&alice.to_uppercase())),
            &[],
        ),
        // A prefix that reaches into the id's random bits: the first characters are the
        // creation time, which other users of the same millisecond share.
        ("id sw", on(Id, Sw, text(&alice[..30])), &["alice"]),
        (
            "injection attempt",
            on(Username, Eq, text("' OR 1=1 --")),
            &[],
        ),
        ("injection in co", on(Title, Co, text("%' OR '1'='1")), &[]),
        (
            "empty co matches present",
            on(Title, Co, text("")),
            &["alice", "Bob", "dave"],
        ),
        (
            "and of nothing: everyone",
            UserFilter::all(),
            &[
                "alice",
                "Bob",
                "carol.öberg",
                "dave",
                "erin",
                "frank",
                "grace",
            ],
        ),
        ("or of nothing: no one", UserFilter::Or(vec![]), &[]),
        (
            "language",
            on(PreferredLanguage, Eq, text("SV")),
            &["carol.öberg"],
        ),
        (
            "display name",
            on(DisplayName, Sw, text("bob the")),
            &["Bob"],
        ),
        (
            "given name ge",
            on(GivenName, Ge, text("f")),
            &["frank", "grace"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, filter, expected) in &cases {
        let found = core
            .filter_users(&auth, filter, UserSort::default(), 0, 200)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let usernames: BTreeSet<String> = found
            .users
            .iter()
            .map(|u| u.username().unwrap().as_str().to_owned())
            .collect();
        let expected: BTreeSet<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        if usernames != expected || found.total != expected.len() as u64 {
            failures.push(format!(
                "{name}: expected {expected:?}, found {usernames:?} (total {})",
                found.total
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() >= 40);
    let _ = Test::Present;
}

conformance!(filter_table);
