//! Eight users with varied fields, for the filter cases; the last one is deleted.

use crate::fixtures::{email, person, schema, with_attributes, with_external_id};
use serde_json::json;
use std::collections::BTreeMap;
use tessera_core::Core;
use tessera_core::auth::Authorized;
use tessera_core::clock::{Clock, ManualClock};
use tessera_core::password_hash::PasswordHash;
use tessera_core::phone::ContactNumber;
use tessera_core::service::NewUser;
use tessera_core::user::{Address, Enterprise, User, UserPhone, Username};
use time::OffsetDateTime;

pub struct Fixture {
    /// Users by username.
    pub users: BTreeMap<&'static str, User>,
    /// When the clock started; user `i` (from 1) was created `i` minutes later.
    pub start: OffsetDateTime,
}

fn named(mut new: NewUser, username: &str) -> NewUser {
    new.profile.username = Some(Username::parse(username).unwrap());
    new
}

pub async fn fixture(core: &Core, clock: &ManualClock, auth: &Authorized) -> Fixture {
    core.put_attribute_schema(auth, schema()).await.unwrap();
    let start = clock.now();
    let mut users = BTreeMap::new();
    let add = async |username: &'static str, new: NewUser| {
        clock.advance(time::Duration::minutes(1));
        core.create_user(auth, named(new, username)).await.unwrap()
    };

    let mut alice = with_attributes(
        with_external_id(
            person("Alice", "Liddell", "alice@wonder.land"),
            "scim",
            "EXT-1",
        ),
        json!({"country": "GB", "score": 9.5, "vip": true}),
    );
    alice.profile.emails[0].kind = Some("work".into());
    alice.profile.emails[0].verified = true;
    let mut home = email("alice.home@example.com");
    home.kind = Some("home".into());
    alice.profile.emails.push(home);
    alice.profile.nickname = Some("Ali".into());
    alice.profile.title = Some("Explorer".into());
    alice.profile.name = Some("Alice L".into());
    alice.profile.addresses = vec![Address {
        kind: Some("home".into()),
        locality: Some("London".into()),
        country: Some("GB".into()),
        primary: true,
        ..Address::default()
    }];
    alice.profile.enterprise = Enterprise {
        employee_number: Some("001".into()),
        department: Some("Rabbit Hole".into()),
        ..Enterprise::default()
    };
    users.insert("alice", add("alice", alice).await);
    let alice_id = users["alice"].id;

    let mut bob = with_attributes(
        with_external_id(person("Bob", "Builder", "bob@build.example"), "crm", "B"),
        json!({"country": "US", "score": 5}),
    );
    bob.profile.emails[0].kind = Some("work".into());
    bob.profile.title = Some("Builder".into());
    bob.profile.name = Some("Bob the Builder".into());
    bob.profile.phone_numbers.push(UserPhone {
        value: ContactNumber::parse("+1 555 123 4567").unwrap(),
        primary: true,
        verified: false,
        kind: Some("mobile".into()),
    });
    bob.profile.enterprise.manager = Some(alice_id);
    bob.password_hash = Some(
        PasswordHash::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        )
        .unwrap(),
    );
    users.insert("Bob", add("Bob", bob).await);

    let mut carol = with_attributes(
        person("Carol", "Öberg", "carol@example.se"),
        json!({"country": "SE", "score": 7}),
    );
    carol.profile.emails[0].kind = Some("Home".into());
    carol.profile.preferred_language = Some("sv".into());
    carol.profile.addresses = vec![Address {
        kind: Some("work".into()),
        locality: Some("Stockholm".into()),
        country: Some("SE".into()),
        ..Address::default()
    }];
    users.insert("carol.öberg", add("carol.öberg", carol).await);

    let mut dave = with_attributes(
        person("Dave", "100%_Real", "dave@x.example"),
        json!({"score": -1, "vip": false}),
    );
    dave.profile.nickname = Some("O'Brien \\ \"q\"".into());
    dave.profile.title = Some("a_b".into());
    users.insert("dave", add("dave", dave).await);

    let mut erin = NewUser::default();
    erin.profile.given_name = Some("Erin".into());
    users.insert("erin", add("erin", erin).await);
    core.disable_user(auth, users["erin"].id).await.unwrap();

    let mut frank = with_external_id(
        person("Frank", "Case", "Frank@CASE.example"),
        "scim",
        "ext-1",
    );
    frank.profile.nickname = Some("MiXeD".into());
    users.insert("frank", add("frank", frank).await);

    let grace = with_attributes(
        person("Grace", "Hopper", "grace@example.org"),
        json!({"country": "gb"}),
    );
    users.insert("grace", add("grace", grace).await);

    let mut heidi = person("Heidi", "Deleted", "heidi@wonder.land");
    heidi.profile.title = Some("Explorer".into());
    users.insert("heidi", add("heidi", heidi).await);
    core.delete_user(auth, users["heidi"].id).await.unwrap();
    users.remove("heidi");
    Fixture { users, start }
}
