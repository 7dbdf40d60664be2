//! Multi-valued fields: `EXISTS` over the elements of the profile's arrays (emails, phone
//! numbers, addresses, external ids), or over `user_emails` rows where they suffice.

use super::{Compiler, Dialect, Doc, Piece};
use tessera_core::store::StoreResult;
use tessera_core::user_filter::{
    AddressField, CompareOp, Condition, ElementFilter, EmailField, FilterValue, PhoneField, Test,
};

impl<'a> Compiler<'a> {
    // --- multi-valued fields --------------------------------------------------------

    /// `FROM` clause iterating over the elements of array `name` of `doc`, the expression
    /// of the same element in the original profile (a prefix to which a key is appended),
    /// and the element's alias.
    pub(super) fn array(&self, name: &str, doc: Doc) -> (String, String, String) {
        match self.dialect {
            Dialect::Sqlite => (
                format!("json_each({}, '$.{name}') f", doc.column()),
                format!("u.profile, '$.{name}[' || f.key || ']"),
                "f.value".to_owned(),
            ),
            Dialect::Postgres => (
                format!(
                    "jsonb_array_elements(coalesce({} -> '{name}', '[]'::jsonb)) WITH ORDINALITY AS f(value, n)",
                    doc.column()
                ),
                format!("(u.profile -> '{name}' -> (f.n::int - 1))"),
                "f.value".to_owned(),
            ),
        }
    }

    /// Sub-field `field` of the current element, as text, from the folded element or the
    /// original profile.
    pub(super) fn sub_value(&self, doc: Doc, original: &str, element: &str, field: &str) -> String {
        match (self.dialect, doc) {
            (Dialect::Sqlite, Doc::Folded) => format!("json_extract({element}, '$.{field}')"),
            (Dialect::Sqlite, Doc::Original) => format!("json_extract({original}.{field}')"),
            (Dialect::Postgres, Doc::Folded) => format!("({element} ->> '{field}')"),
            (Dialect::Postgres, Doc::Original) => format!("({original} ->> '{field}')"),
        }
    }

    pub(super) fn sub_bool(&self, element: &str, field: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("json_extract({element}, '$.{field}')"),
            Dialect::Postgres => format!("({element} ->> '{field}')::boolean"),
        }
    }

    pub(super) fn bool_test(&mut self, expression: &str, test: &Test) {
        match test {
            Test::Present => {
                self.sql(&format!("{expression} IS NOT NULL"));
            }
            Test::Compare(CompareOp::Eq, FilterValue::Bool(b)) => {
                self.sql(&format!("{expression} = ")).bind(Piece::Bool(*b));
            }
            Test::Compare(CompareOp::Ne, FilterValue::Bool(b)) => {
                self.sql(&format!("NOT COALESCE({expression} = "))
                    .bind(Piece::Bool(*b))
                    .sql(", FALSE)");
            }
            Test::Compare(op, _) => self.never(*op),
        }
    }

    pub(super) fn elements<F>(
        &mut self,
        name: &str,
        filter: &ElementFilter<F>,
        leaf: &mut Leaf<'_, 'a, F>,
    ) -> StoreResult<()> {
        let (from, original, element) = self.array(name, Doc::Folded);
        self.sql(&format!("EXISTS (SELECT 1 FROM {from} WHERE "));
        self.element_filter(filter, &original, &element, leaf)?;
        self.sql(")");
        Ok(())
    }

    pub(super) fn element_filter<F>(
        &mut self,
        filter: &ElementFilter<F>,
        original: &str,
        element: &str,
        leaf: &mut Leaf<'_, 'a, F>,
    ) -> StoreResult<()> {
        match filter {
            ElementFilter::And(items) | ElementFilter::Or(items) => {
                let (word, empty) = if matches!(filter, ElementFilter::And(_)) {
                    ("AND", "TRUE")
                } else {
                    ("OR", "FALSE")
                };
                if items.is_empty() {
                    self.sql(empty);
                    return Ok(());
                }
                self.sql("(");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.sql(&format!(" {word} "));
                    }
                    self.element_filter(item, original, element, leaf)?;
                }
                self.sql(")");
                Ok(())
            }
            ElementFilter::Not(inner) => {
                self.sql("NOT COALESCE((");
                self.element_filter(inner, original, element, leaf)?;
                self.sql("), FALSE)");
                Ok(())
            }
            ElementFilter::Condition(condition) => leaf(
                self,
                condition,
                Doc::of(condition.case_exact),
                (original, element),
            ),
        }
    }

    /// Emails: a filter of case-insensitive conditions on the address and kind, and on
    /// `primary`, runs on the `user_emails` index rows (addresses and kinds stored folded);
    /// anything else on the profile's emails.
    pub(super) fn emails(&mut self, filter: &ElementFilter<EmailField>) -> StoreResult<()> {
        if let ElementFilter::Condition(Condition {
            field: EmailField::Value,
            test: Test::Compare(CompareOp::Eq, FilterValue::Text(address)),
            case_exact: false,
        }) = filter
        {
            self.sql("u.id IN (SELECT e.user_id FROM user_emails e WHERE e.tenant_id = ")
                .tenant()
                .sql(" AND e.address = ")
                .bind(Piece::Text(address.to_lowercase()))
                .sql(")");
            return Ok(());
        }
        if indexable(filter) {
            // One pass over the tenant's address rows, not one probe per user: an `IN` over
            // an uncorrelated sub-query is evaluated once (a correlated `EXISTS` with `co`
            // took seconds at a million users).
            self.sql("u.id IN (SELECT e.user_id FROM user_emails e WHERE e.tenant_id = ")
                .tenant()
                .sql(" AND (");
            let mut leaf =
                |c: &mut Self, condition: &Condition<EmailField>, _: Doc, _: (&str, &str)| {
                    match condition.field {
                        EmailField::Value => c.text_test("e.address", &condition.test, false),
                        EmailField::Kind => c.text_test("e.kind", &condition.test, false),
                        _ => {
                            let primary = match c.dialect {
                                Dialect::Sqlite => "(e.is_primary = 1)",
                                Dialect::Postgres => "e.is_primary",
                            };
                            c.bool_test(primary, &condition.test);
                            Ok(())
                        }
                    }
                };
            self.element_filter(filter, "", "", &mut leaf)?;
            self.sql("))");
            return Ok(());
        }
        self.elements(
            "emails",
            filter,
            &mut |c, condition, doc, (original, element)| {
                let name = match condition.field {
                    EmailField::Value => "value",
                    EmailField::Kind => "kind",
                    EmailField::Primary => "primary",
                    EmailField::Verified => "verified",
                };
                match condition.field {
                    EmailField::Value | EmailField::Kind => {
                        let expression = c.sub_value(doc, original, element, name);
                        c.text_test(&expression, &condition.test, condition.case_exact)
                    }
                    EmailField::Primary | EmailField::Verified => {
                        let expression = c.sub_bool(element, name);
                        c.bool_test(&expression, &condition.test);
                        Ok(())
                    }
                }
            },
        )
    }

    pub(super) fn phone_condition(
        &mut self,
        condition: &Condition<PhoneField>,
        doc: Doc,
        (original, element): (&str, &str),
    ) -> StoreResult<()> {
        match condition.field {
            PhoneField::Value | PhoneField::Kind => {
                let name = if condition.field == PhoneField::Value {
                    "value"
                } else {
                    "kind"
                };
                let expression = self.sub_value(doc, original, element, name);
                self.text_test(&expression, &condition.test, condition.case_exact)
            }
            PhoneField::Primary => {
                let expression = self.sub_bool(element, "primary");
                self.bool_test(&expression, &condition.test);
                Ok(())
            }
        }
    }

    pub(super) fn address_condition(
        &mut self,
        condition: &Condition<AddressField>,
        doc: Doc,
        (original, element): (&str, &str),
    ) -> StoreResult<()> {
        let name = match condition.field {
            AddressField::Primary => {
                let expression = self.sub_bool(element, "primary");
                self.bool_test(&expression, &condition.test);
                return Ok(());
            }
            AddressField::Kind => "kind",
            AddressField::Formatted => "formatted",
            AddressField::StreetAddress => "street_address",
            AddressField::Locality => "locality",
            AddressField::Region => "region",
            AddressField::PostalCode => "postal_code",
            AddressField::Country => "country",
        };
        let expression = self.sub_value(doc, original, element, name);
        self.text_test(&expression, &condition.test, condition.case_exact)
    }
}

/// Compiles one condition of an element filter, given which profile copy it reads and the
/// element's expressions (in the original profile, and the folded element).
type Leaf<'l, 'a, F> =
    dyn FnMut(&mut Compiler<'a>, &Condition<F>, Doc, (&str, &str)) -> StoreResult<()> + 'l;

/// Whether an email filter can run on the `user_emails` rows.
fn indexable(filter: &ElementFilter<EmailField>) -> bool {
    match filter {
        ElementFilter::And(items) | ElementFilter::Or(items) => items.iter().all(indexable),
        ElementFilter::Not(inner) => indexable(inner),
        ElementFilter::Condition(condition) => match condition.field {
            EmailField::Value | EmailField::Kind => !condition.case_exact,
            EmailField::Primary => true,
            EmailField::Verified => false,
        },
    }
}
