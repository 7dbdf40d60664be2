//! Filtered user lists on SQLite: the shared compiler's pieces, bound for SQLite (times as
//! Unix microseconds).

use crate::errors::classify;
use crate::sqlite::{SqliteStore, micros, user_from_row};
use crate::user_filter_sql::{Compiler, Dialect, Piece, total_from_page};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite};
use tessera_core::attributes::AttributeSchema;
use tessera_core::ids::TenantId;
use tessera_core::page::MAX_PAGE_SIZE;
use tessera_core::store::StoreResult;
use tessera_core::user_filter::{FilteredUsers, UserFilter, UserFilterStore, UserSort};

fn build(sql: &mut QueryBuilder<Sqlite>, pieces: Vec<Piece>) {
    for piece in pieces {
        match piece {
            Piece::Sql(text) => {
                sql.push(text);
            }
            Piece::Text(text) => {
                sql.push_bind(text);
            }
            Piece::Float(value) => {
                sql.push_bind(value);
            }
            Piece::Bool(value) => {
                sql.push_bind(value);
            }
            Piece::Uuid(value) => {
                sql.push_bind(value);
            }
            Piece::Time(at) => {
                sql.push_bind(micros(at));
            }
        }
    }
}

#[async_trait]
impl UserFilterStore for SqliteStore {
    async fn filter_users(
        &self,
        tenant: TenantId,
        filter: &UserFilter,
        schema: &AttributeSchema,
        sort: UserSort,
        offset: u64,
        limit: u32,
    ) -> StoreResult<FilteredUsers> {
        let limit = limit.min(MAX_PAGE_SIZE);
        let mut page = Compiler::new(Dialect::Sqlite, tenant.as_uuid(), schema);
        page.users_where(filter)?;
        page.order_and_page(sort, offset, limit);
        let mut sql = QueryBuilder::<Sqlite>::new("SELECT u.*");
        build(&mut sql, page.into_pieces());
        let rows = sql
            .build()
            .fetch_all(&self.readers)
            .await
            .map_err(classify)?;
        let total = match total_from_page(offset, limit, rows.len()) {
            Some(total) => total,
            None => {
                let mut count = Compiler::new(Dialect::Sqlite, tenant.as_uuid(), schema);
                count.users_where(filter)?;
                let mut sql = QueryBuilder::<Sqlite>::new("SELECT COUNT(*)");
                build(&mut sql, count.into_pieces());
                let total: i64 = sql
                    .build_query_scalar()
                    .fetch_one(&self.readers)
                    .await
                    .map_err(classify)?;
                u64::try_from(total).unwrap_or(0)
            }
        };
        Ok(FilteredUsers {
            total,
            users: rows
                .iter()
                .map(user_from_row)
                .collect::<StoreResult<Vec<_>>>()?,
        })
    }
}
