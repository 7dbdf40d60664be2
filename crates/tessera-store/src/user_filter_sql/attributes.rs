//! Conditions on external ids and custom attributes: the indexed equalities, and the
//! profile's JSON for the rest.

use super::{Compiler, Dialect, Doc, Kind, PLACEHOLDER, Piece, invalid, ordering};
use tessera_core::attributes::AttributeType;
use tessera_core::store::StoreResult;
use tessera_core::user_filter::{CompareOp, Condition, FilterValue, Test, UserField};

impl Compiler<'_> {
    pub(super) fn external_id(
        &mut self,
        source: &str,
        condition: &Condition<UserField>,
    ) -> StoreResult<()> {
        if let Test::Compare(CompareOp::Eq, FilterValue::Text(value)) = &condition.test
            && condition.case_exact
        {
            // the unique index (tenant_id, source, value)
            self.sql("u.id IN (SELECT x.user_id FROM user_external_ids x WHERE x.tenant_id = ")
                .tenant()
                .sql(" AND x.source = ")
                .bind(Piece::Text(source.to_owned()))
                .sql(" AND x.value = ")
                .bind(Piece::Text(value.clone()))
                .sql(")");
            return Ok(());
        }
        if let Test::Compare(CompareOp::Ne, value) = &condition.test {
            let eq = Condition {
                test: Test::Compare(CompareOp::Eq, value.clone()),
                ..condition.clone()
            };
            self.sql("NOT COALESCE((");
            self.external_id(source, &eq)?;
            self.sql("), FALSE)");
            return Ok(());
        }
        let doc = Doc::of(condition.case_exact);
        let (from, original, element) = self.array("external_ids", doc);
        self.sql(&format!("EXISTS (SELECT 1 FROM {from} WHERE "));
        let source_column = self.sub_value(Doc::Original, &original, &element, "source");
        self.sql(&format!("{source_column} = "))
            .bind(Piece::Text(source.to_owned()))
            .sql(" AND ");
        let value_column = self.sub_value(doc, &original, &element, "value");
        self.text_test(&value_column, &condition.test, condition.case_exact)?;
        self.sql(")");
        Ok(())
    }

    pub(super) fn attribute(
        &mut self,
        name: &str,
        condition: &Condition<UserField>,
    ) -> StoreResult<()> {
        let definition = self
            .schema
            .definition(name)
            .ok_or_else(|| invalid(format!("no attribute '{name}' in the schema")))?;
        let kind = match definition.kind {
            AttributeType::Json => {
                return Err(invalid(format!("attribute '{name}' is not filterable")));
            }
            AttributeType::Number => Kind::Number,
            AttributeType::Boolean => Kind::Bool,
            AttributeType::String | AttributeType::Enum | AttributeType::Date => Kind::Text,
        };
        // Equality on the index: exact text, numbers and booleans in their canonical form.
        let indexed_text = match (&condition.test, kind) {
            (Test::Compare(CompareOp::Eq, FilterValue::Text(text)), Kind::Text)
                if condition.case_exact =>
            {
                Some(text.clone())
            }
            (Test::Compare(CompareOp::Eq, FilterValue::Number(n)), Kind::Number) => {
                Some(n.to_string())
            }
            (Test::Compare(CompareOp::Eq, FilterValue::Bool(b)), Kind::Bool) => Some(b.to_string()),
            _ => None,
        };
        if let Some(text) = indexed_text {
            let term = self
                .schema
                .search_term(name, &text)
                .map_err(|e| invalid(e.to_string()));
            match term {
                Ok(term) => {
                    self.sql("u.id IN (SELECT a.user_id FROM user_attribute_values a WHERE a.tenant_id = ")
                        .tenant()
                        .sql(" AND a.name = ")
                        .bind(Piece::Text(definition.name.clone()))
                        .sql(" AND a.value = ")
                        .bind(Piece::Text(term))
                        .sql(")");
                }
                // a value the attribute cannot hold (an enum value not declared): no match
                Err(_) => {
                    self.sql("FALSE");
                }
            }
            return Ok(());
        }
        let doc = Doc::of(condition.case_exact || kind != Kind::Text);
        let key = match doc {
            Doc::Original => definition.name.clone(),
            Doc::Folded => definition.name.to_lowercase(),
        };
        let (typed, value) = match self.dialect {
            Dialect::Sqlite => (
                format!("json_type({}, ", doc.column()),
                format!("json_extract({}, ", doc.column()),
            ),
            Dialect::Postgres => (
                format!("jsonb_typeof({} -> 'attributes' -> ", doc.column()),
                format!("({} -> 'attributes' ->> ", doc.column()),
            ),
        };
        let path = match self.dialect {
            Dialect::Sqlite => format!("$.attributes.{key}"),
            Dialect::Postgres => key,
        };
        let type_names = match (kind, self.dialect) {
            (Kind::Text, Dialect::Sqlite) => "('text')",
            (Kind::Number, Dialect::Sqlite) => "('integer', 'real')",
            (Kind::Bool, Dialect::Sqlite) => "('true', 'false')",
            (Kind::Text, Dialect::Postgres) => "('string')",
            (Kind::Number, Dialect::Postgres) => "('number')",
            (Kind::Bool, Dialect::Postgres) => "('boolean')",
        };
        // (type matches AND comparison), with the value as a bound path
        let negate = matches!(condition.test, Test::Compare(CompareOp::Ne, _));
        if negate {
            self.sql("NOT COALESCE((");
        }
        self.sql(&format!("({typed}"))
            .bind(Piece::Text(path.clone()))
            .sql(&format!(") IN {type_names} AND "));
        let test = match &condition.test {
            Test::Compare(CompareOp::Ne, value) => Test::Compare(CompareOp::Eq, value.clone()),
            other => other.clone(),
        };
        match kind {
            Kind::Text => {
                // the extracted text is bound by position: build it as a sub-expression
                let expression = self.bound_expression(&value, &path);
                self.text_test_bound(expression, &test, condition.case_exact)?;
            }
            Kind::Number => match &test {
                Test::Present => {
                    self.sql("TRUE");
                }
                Test::Compare(op, FilterValue::Number(n))
                    if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) =>
                {
                    // PostgreSQL compares jsonb numbers: no cast that a stray value could fail
                    let (left, right) = match self.dialect {
                        Dialect::Sqlite => (value.clone(), String::new()),
                        Dialect::Postgres => (
                            format!("({} -> 'attributes' -> ", doc.column()),
                            "to_jsonb(CAST(".to_owned(),
                        ),
                    };
                    let close = if right.is_empty() { "" } else { " AS float8))" };
                    self.sql(&left)
                        .bind(Piece::Text(path.clone()))
                        .sql(&format!(") {} {right}", ordering(*op)))
                        .bind(Piece::Float(*n))
                        .sql(close);
                }
                Test::Compare(..) => {
                    self.sql("FALSE");
                }
            },
            Kind::Bool => match &test {
                Test::Present => {
                    self.sql("TRUE");
                }
                Test::Compare(CompareOp::Eq, FilterValue::Bool(b)) => match self.dialect {
                    Dialect::Sqlite => {
                        self.sql(&value)
                            .bind(Piece::Text(path))
                            .sql(") = ")
                            .bind(Piece::Bool(*b));
                    }
                    Dialect::Postgres => {
                        self.sql(&format!("({} -> 'attributes' -> ", doc.column()))
                            .bind(Piece::Text(path))
                            .sql(") = to_jsonb(CAST(")
                            .bind(Piece::Bool(*b))
                            .sql(" AS boolean))");
                    }
                },
                Test::Compare(..) => {
                    self.sql("FALSE");
                }
            },
        }
        self.sql(")");
        if negate {
            self.sql("), FALSE)");
        }
        Ok(())
    }

    /// An expression whose text contains one bound parameter (the JSON path).
    pub(super) fn bound_expression(&self, prefix: &str, path: &str) -> (String, String) {
        (prefix.to_owned(), path.to_owned())
    }

    /// [`Self::text_test`] for an expression `prefix <path>)` with a bound path: the
    /// expression is written once per use, binding the path each time.
    pub(super) fn text_test_bound(
        &mut self,
        (prefix, path): (String, String),
        test: &Test,
        exact: bool,
    ) -> StoreResult<()> {
        // Compile against a placeholder, then splice the bound path in where it appears.
        let mut inner = Compiler::new(self.dialect, self.tenant, self.schema);
        inner.text_test(PLACEHOLDER, test, exact)?;
        for piece in inner.into_pieces() {
            match piece {
                Piece::Sql(text) => {
                    let mut parts = text.split(PLACEHOLDER).peekable();
                    while let Some(part) = parts.next() {
                        self.sql(part);
                        if parts.peek().is_some() {
                            self.sql(&prefix).bind(Piece::Text(path.clone())).sql(")");
                        }
                    }
                }
                other => {
                    self.bind(other);
                }
            }
        }
        Ok(())
    }
}
