//! Compiles a `UserFilter` to a SQL `WHERE` clause for either backend. The compiler writes
//! a list of pieces (SQL text chosen from the filter's enums, or values to bind); each
//! backend turns them into its query builder, binding every value. No text of a filter
//! ever becomes SQL text: JSON paths and column names come from the match arms below, and
//! attribute names (from the tenant's schema) are bound as parameters.
//!
//! Case-insensitive comparisons read `users.folded_profile` (the profile with every string
//! lower-cased by the domain's rules) and compare with the value lower-cased the same way;
//! case-exact ones read `users.profile`. Each `not` wraps its operand in
//! `NOT COALESCE(…, FALSE)`, so that a comparison with an absent value counts as false and
//! its negation as true, as in the reference evaluator.

use tessera_core::attributes::AttributeSchema;
use tessera_core::store::{StoreError, StoreResult};
use tessera_core::user_filter::{
    CompareOp, Condition, EnterpriseField, FilterValue, Test, UserField, UserFilter, UserSort,
    UserSortKey,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

mod attributes;
mod elements;

/// The two SQL dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A part of the compiled SQL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Sql(String),
    Text(String),
    Float(f64),
    Bool(bool),
    Uuid(Uuid),
    Time(OffsetDateTime),
}

/// Which copy of the profile a comparison reads.
#[derive(Clone, Copy)]
enum Doc {
    Original,
    Folded,
}

impl Doc {
    fn of(case_exact: bool) -> Self {
        if case_exact {
            Self::Original
        } else {
            Self::Folded
        }
    }

    fn column(self) -> &'static str {
        match self {
            Self::Original => "u.profile",
            Self::Folded => "u.folded_profile",
        }
    }
}

/// The kind of value a field holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Number,
}

pub(crate) struct Compiler<'a> {
    dialect: Dialect,
    tenant: Uuid,
    schema: &'a AttributeSchema,
    pieces: Vec<Piece>,
}

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::Rejected(reason.into())
}

/// The `LIKE` pattern (escape character `\`) of a substring operator.
pub(crate) fn like_pattern(op: CompareOp, value: &str) -> String {
    let escaped: String = value
        .chars()
        .flat_map(|c| match c {
            '\\' | '%' | '_' => vec!['\\', c],
            other => vec![other],
        })
        .collect();
    match op {
        CompareOp::Sw => format!("{escaped}%"),
        CompareOp::Ew => format!("%{escaped}"),
        _ => format!("%{escaped}%"),
    }
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(dialect: Dialect, tenant: Uuid, schema: &'a AttributeSchema) -> Self {
        Self {
            dialect,
            tenant,
            schema,
            pieces: Vec::new(),
        }
    }

    pub(crate) fn into_pieces(self) -> Vec<Piece> {
        self.pieces
    }

    fn sql(&mut self, text: &str) -> &mut Self {
        match self.pieces.last_mut() {
            Some(Piece::Sql(last)) => last.push_str(text),
            _ => self.pieces.push(Piece::Sql(text.to_owned())),
        }
        self
    }

    /// Binds the tenant id.
    fn tenant(&mut self) -> &mut Self {
        let tenant = self.tenant;
        self.bind(Piece::Uuid(tenant))
    }

    fn bind(&mut self, piece: Piece) -> &mut Self {
        self.pieces.push(piece);
        self
    }

    /// `FROM users u WHERE <tenant, not deleted, filter>`.
    pub(crate) fn users_where(&mut self, filter: &UserFilter) -> StoreResult<()> {
        filter.check_limits().map_err(|e| invalid(e.to_string()))?;
        self.sql(" FROM users u WHERE u.tenant_id = ")
            .tenant()
            .sql(" AND u.status <> 'deleted' AND ");
        self.filter(filter)
    }

    /// `ORDER BY … LIMIT … OFFSET …`.
    pub(crate) fn order_and_page(&mut self, sort: UserSort, offset: u64, limit: u32) {
        let key = match (sort.key, self.dialect) {
            (UserSortKey::Created, _) => "u.created_at",
            (UserSortKey::Updated, _) => "u.updated_at",
            (UserSortKey::Username, _) => "u.username_key",
            (UserSortKey::DisplayName, Dialect::Sqlite) => {
                "json_extract(u.folded_profile, '$.name')"
            }
            (UserSortKey::DisplayName, Dialect::Postgres) => {
                "(u.folded_profile ->> 'name') COLLATE \"C\""
            }
            (UserSortKey::GivenName, Dialect::Sqlite) => {
                "json_extract(u.folded_profile, '$.given_name')"
            }
            (UserSortKey::GivenName, Dialect::Postgres) => {
                "(u.folded_profile ->> 'given_name') COLLATE \"C\""
            }
            (UserSortKey::FamilyName, Dialect::Sqlite) => {
                "json_extract(u.folded_profile, '$.family_name')"
            }
            (UserSortKey::FamilyName, Dialect::Postgres) => {
                "(u.folded_profile ->> 'family_name') COLLATE \"C\""
            }
            (UserSortKey::PrimaryEmail, Dialect::Sqlite) => {
                "(SELECT e.address FROM user_emails e WHERE e.user_id = u.id AND e.is_primary = 1)"
            }
            (UserSortKey::PrimaryEmail, Dialect::Postgres) => {
                "(SELECT e.address COLLATE \"C\" FROM user_emails e WHERE e.user_id = u.id AND e.is_primary)"
            }
        };
        let direction = if sort.descending { "DESC" } else { "ASC" };
        // Users without a value come last in ascending order, first in descending.
        self.sql(&format!(
            " ORDER BY ({key}) IS NULL {direction}, {key} {direction}, u.id {direction} LIMIT {} OFFSET {}",
            limit,
            i64::try_from(offset).unwrap_or(i64::MAX)
        ));
    }

    fn filter(&mut self, filter: &UserFilter) -> StoreResult<()> {
        match filter {
            UserFilter::And(items) => self.junction(items, "AND", "TRUE", Self::filter),
            UserFilter::Or(items) => self.junction(items, "OR", "FALSE", Self::filter),
            UserFilter::Not(inner) => {
                self.sql("NOT COALESCE((");
                self.filter(inner)?;
                self.sql("), FALSE)");
                Ok(())
            }
            UserFilter::Condition(condition) => self.user_condition(condition),
            UserFilter::Email(inner) => self.emails(inner),
            UserFilter::Phone(inner) => {
                self.elements("phone_numbers", inner, &mut |c, leaf, doc, element| {
                    c.phone_condition(leaf, doc, element)
                })
            }
            UserFilter::Address(inner) => {
                self.elements("addresses", inner, &mut |c, leaf, doc, element| {
                    c.address_condition(leaf, doc, element)
                })
            }
        }
    }

    fn junction<T>(
        &mut self,
        items: &[T],
        word: &str,
        empty: &str,
        each: impl Fn(&mut Self, &T) -> StoreResult<()>,
    ) -> StoreResult<()> {
        if items.is_empty() {
            self.sql(empty);
            return Ok(());
        }
        self.sql("(");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.sql(&format!(" {word} "));
            }
            each(self, item)?;
        }
        self.sql(")");
        Ok(())
    }

    // --- single-valued fields -------------------------------------------------------

    fn user_condition(&mut self, condition: &Condition<UserField>) -> StoreResult<()> {
        let exact = condition.case_exact;
        let doc = Doc::of(exact);
        match &condition.field {
            UserField::Id => self.id_condition(&condition.test, exact),
            UserField::Username if !exact => {
                self.text_test("u.username_key", &condition.test, false)
            }
            UserField::Username => self.json_text(doc, &["username"], &condition.test, exact),
            UserField::Status => self.text_test("u.status", &condition.test, exact),
            UserField::Created => self.time_test("u.created_at", &condition.test),
            UserField::Updated => self.time_test("u.updated_at", &condition.test),
            UserField::GivenName => self.json_text(doc, &["given_name"], &condition.test, exact),
            UserField::FamilyName => self.json_text(doc, &["family_name"], &condition.test, exact),
            UserField::MiddleName => self.json_text(doc, &["middle_name"], &condition.test, exact),
            UserField::DisplayName => self.json_text(doc, &["name"], &condition.test, exact),
            UserField::HonorificPrefix => {
                self.json_text(doc, &["honorific_prefix"], &condition.test, exact)
            }
            UserField::HonorificSuffix => {
                self.json_text(doc, &["honorific_suffix"], &condition.test, exact)
            }
            UserField::Nickname => self.json_text(doc, &["nickname"], &condition.test, exact),
            UserField::Title => self.json_text(doc, &["title"], &condition.test, exact),
            UserField::UserType => self.json_text(doc, &["user_type"], &condition.test, exact),
            UserField::Locale => self.json_text(doc, &["locale"], &condition.test, exact),
            UserField::Zoneinfo => self.json_text(doc, &["zoneinfo"], &condition.test, exact),
            UserField::PreferredLanguage => {
                self.json_text(doc, &["preferred_language"], &condition.test, exact)
            }
            UserField::ProfileUrl => self.json_text(doc, &["profile_url"], &condition.test, exact),
            UserField::AnalyticsId => {
                self.json_text(doc, &["analytics_id"], &condition.test, exact)
            }
            UserField::Enterprise(field) => {
                let name = match field {
                    EnterpriseField::EmployeeNumber => "employee_number",
                    EnterpriseField::CostCenter => "cost_center",
                    EnterpriseField::Organization => "organization",
                    EnterpriseField::Division => "division",
                    EnterpriseField::Department => "department",
                    EnterpriseField::Manager => "manager",
                };
                self.json_text(doc, &["enterprise", name], &condition.test, exact)
            }
            UserField::ExternalId { source } => self.external_id(source, condition),
            UserField::Attribute(name) => self.attribute(name, condition),
            UserField::GroupId => self.group_id(&condition.test),
            UserField::GroupDisplayName => {
                // `ne`: in no group of that name (not "in some group of another name").
                let test = match &condition.test {
                    Test::Compare(CompareOp::Ne, value) => {
                        self.sql("NOT ");
                        Test::Compare(CompareOp::Eq, value.clone())
                    }
                    other => other.clone(),
                };
                self.sql("EXISTS (SELECT 1 FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = u.id AND ");
                let column = if exact {
                    "g.display_name"
                } else {
                    "g.display_key"
                };
                self.text_test(column, &test, exact)?;
                self.sql(")");
                Ok(())
            }
        }
    }

    /// `doc` at a fixed path, as text.
    fn json_path(&self, doc: Doc, path: &[&str]) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("json_extract({}, '$.{}')", doc.column(), path.join(".")),
            Dialect::Postgres => format!("({} #>> '{{{}}}')", doc.column(), path.join(",")),
        }
    }

    fn json_text(&mut self, doc: Doc, path: &[&str], test: &Test, exact: bool) -> StoreResult<()> {
        let expression = self.json_path(doc, path);
        self.text_test(&expression, test, exact)
    }

    /// A text comparison of `expression` (from the enums) with the test's value.
    fn text_test(&mut self, expression: &str, test: &Test, exact: bool) -> StoreResult<()> {
        let (op, value) = match test {
            Test::Present => {
                self.sql(&format!(
                    "({expression} IS NOT NULL AND {expression} <> '')"
                ));
                return Ok(());
            }
            Test::Compare(op, FilterValue::Text(value)) => (*op, value),
            Test::Compare(op, _) => {
                // A value of another type than the field's never equals it: `eq` and the
                // other operators are false, `ne` is true.
                self.never(*op);
                return Ok(());
            }
        };
        let value = if exact {
            value.clone()
        } else {
            value.to_lowercase()
        };
        let collate = match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " COLLATE \"C\"",
        };
        match op {
            CompareOp::Eq | CompareOp::Ne => {
                let eq = if op == CompareOp::Eq {
                    ""
                } else {
                    "NOT COALESCE("
                };
                let end = if op == CompareOp::Eq { "" } else { ", FALSE)" };
                self.sql(&format!("{eq}{expression} = "))
                    .bind(Piece::Text(value))
                    .sql(end);
            }
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
                self.sql(&format!("{expression}{collate} {} ", ordering(op)))
                    .bind(Piece::Text(value));
            }
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew if value.is_empty() => {
                self.sql(&format!("{expression} IS NOT NULL"));
            }
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => match self.dialect {
                // PostgreSQL's LIKE is case-sensitive, as both sides are already folded or
                // exact; SQLite's ignores ASCII case, so it uses plain substring functions.
                Dialect::Postgres => {
                    self.sql(&format!("{expression} LIKE "))
                        .bind(Piece::Text(like_pattern(op, &value)))
                        .sql(" ESCAPE '\\'");
                }
                Dialect::Sqlite => match op {
                    CompareOp::Co => {
                        self.sql(&format!("instr({expression}, "))
                            .bind(Piece::Text(value))
                            .sql(") > 0");
                    }
                    CompareOp::Sw => {
                        let length = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
                        self.sql(&format!("substr({expression}, 1, {length}) = "))
                            .bind(Piece::Text(value));
                    }
                    _ => {
                        let length = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
                        self.sql(&format!(
                            "(length({expression}) >= {length} AND substr({expression}, -{length}) = "
                        ))
                        .bind(Piece::Text(value))
                        .sql(")");
                    }
                },
            },
        }
        Ok(())
    }

    fn time_test(&mut self, column: &str, test: &Test) -> StoreResult<()> {
        let (op, at) = match test {
            Test::Present => {
                self.sql("TRUE");
                return Ok(());
            }
            Test::Compare(op, FilterValue::Timestamp(at)) => (*op, *at),
            Test::Compare(op, FilterValue::Text(text)) => {
                match OffsetDateTime::parse(text, &Rfc3339) {
                    Ok(at) => (*op, at),
                    Err(_) => {
                        self.never(*op);
                        return Ok(());
                    }
                }
            }
            Test::Compare(op, _) => {
                self.never(*op);
                return Ok(());
            }
        };
        // The clock keeps microseconds; so does the comparison.
        let at = at
            .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
            .unwrap_or(at);
        match op {
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                self.sql("FALSE");
            }
            CompareOp::Ne => {
                self.sql(&format!("{column} <> ")).bind(Piece::Time(at));
            }
            other => {
                self.sql(&format!("{column} {} ", ordering(other)))
                    .bind(Piece::Time(at));
            }
        }
        Ok(())
    }

    /// A comparison that cannot hold: true only for `ne`.
    fn never(&mut self, op: CompareOp) {
        self.sql(if op == CompareOp::Ne { "TRUE" } else { "FALSE" });
    }

    fn id_condition(&mut self, test: &Test, exact: bool) -> StoreResult<()> {
        match test {
            Test::Present => {
                self.sql("TRUE");
            }
            Test::Compare(op @ (CompareOp::Eq | CompareOp::Ne), FilterValue::Text(text)) => {
                let parsed = Uuid::parse_str(text)
                    .ok()
                    .filter(|id| !exact || id.hyphenated().to_string() == *text);
                match parsed {
                    Some(id) => {
                        let word = if *op == CompareOp::Eq { "=" } else { "<>" };
                        self.sql(&format!("u.id {word} ")).bind(Piece::Uuid(id));
                    }
                    None => self.never(*op),
                }
            }
            other => {
                let expression = match self.dialect {
                    Dialect::Sqlite => {
                        "lower(substr(hex(u.id), 1, 8) || '-' || substr(hex(u.id), 9, 4) || '-' || substr(hex(u.id), 13, 4) || '-' || substr(hex(u.id), 17, 4) || '-' || substr(hex(u.id), 21))"
                    }
                    Dialect::Postgres => "(u.id::text)",
                };
                self.text_test(expression, other, exact)?;
            }
        }
        Ok(())
    }

    /// Membership by group id; `ne`: not a member of that group.
    fn group_id(&mut self, test: &Test) -> StoreResult<()> {
        if let Test::Compare(CompareOp::Ne, value) = test {
            self.sql("NOT ");
            return self.group_id(&Test::Compare(CompareOp::Eq, value.clone()));
        }
        self.sql("EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = u.id");
        match test {
            Test::Compare(CompareOp::Eq, FilterValue::Text(text)) => match Uuid::parse_str(text) {
                Ok(id) => {
                    self.sql(" AND m.group_id = ").bind(Piece::Uuid(id));
                }
                Err(_) => {
                    self.sql(" AND FALSE");
                }
            },
            Test::Present => {}
            Test::Compare(..) => {
                self.sql(" AND FALSE");
            }
        }
        self.sql(")");
        Ok(())
    }
}

/// Stands for a bound-path expression while a comparison is compiled; it cannot occur in
/// SQL the compiler writes otherwise.
const PLACEHOLDER: &str = "\u{1}VALUE\u{1}";

fn ordering(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Ne => "<>",
        _ => "=",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(CompareOp::Co, "a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(like_pattern(CompareOp::Sw, "x"), "x%");
        assert_eq!(like_pattern(CompareOp::Ew, "x"), "%x");
    }

    #[test]
    fn values_are_bound_never_written() {
        let schema = AttributeSchema::default();
        let mut compiler = Compiler::new(Dialect::Postgres, Uuid::nil(), &schema);
        let filter = UserFilter::condition(
            UserField::Nickname,
            CompareOp::Eq,
            FilterValue::Text("x' OR 1=1 --".into()),
        );
        compiler.users_where(&filter).unwrap();
        let pieces = compiler.into_pieces();
        assert!(pieces.contains(&Piece::Text("x' or 1=1 --".into())));
        assert!(pieces.iter().all(|piece| match piece {
            Piece::Sql(text) => !text.contains("1=1"),
            _ => true,
        }));
    }
}

/// The total of a filtered list when its page shows it: a page that is not full and is
/// not past the end holds the last matches, so the total is where it ends. Lists answered
/// this way (an `eq` look-up: one match) skip the COUNT and its round trip.
pub(crate) fn total_from_page(offset: u64, limit: u32, rows: usize) -> Option<u64> {
    let rows = u64::try_from(rows).ok()?;
    (rows < u64::from(limit) && (rows > 0 || offset == 0)).then_some(offset + rows)
}

#[cfg(test)]
mod total_tests {
    use super::total_from_page;

    #[test]
    fn a_page_that_is_not_full_ends_the_list() {
        assert_eq!(total_from_page(0, 100, 1), Some(1));
        assert_eq!(total_from_page(0, 100, 0), Some(0));
        assert_eq!(total_from_page(200, 100, 7), Some(207));
        // Full pages, pages past the end and count=0 need the COUNT.
        assert_eq!(total_from_page(0, 100, 100), None);
        assert_eq!(total_from_page(500, 100, 0), None);
        assert_eq!(total_from_page(0, 0, 0), None);
    }
}
