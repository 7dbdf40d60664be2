//! Groups on PostgreSQL: the `groups` row, its `group_members` rows and the event, written
//! in one transaction per change.

use crate::errors::{classify, corrupt};
use crate::postgres::{PostgresStore, insert_event};
use crate::user_filter_sql::like_pattern;
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use tessera_core::event::Event;
use tessera_core::group::{
    Group, GroupName, GroupPage, GroupQuery, GroupStore, MemberPage, NameMatch,
};
use tessera_core::ids::{GroupId, TenantId, UserId};
use tessera_core::store::{StoreError, StoreResult};
use tessera_core::user_filter::CompareOp;
use uuid::Uuid;

/// Member ids per statement.
const CHUNK: usize = 500;

fn group_from_row(row: &PgRow) -> StoreResult<Group> {
    let name: String = row.try_get("display_name").map_err(classify)?;
    Ok(Group {
        id: GroupId::from_uuid(row.try_get("id").map_err(classify)?),
        tenant_id: TenantId::from_uuid(row.try_get("tenant_id").map_err(classify)?),
        display_name: GroupName::parse(&name).map_err(|e| corrupt("group name", e))?,
        external_id: row.try_get("external_id").map_err(classify)?,
        created_at: row.try_get("created_at").map_err(classify)?,
        updated_at: row.try_get("updated_at").map_err(classify)?,
        version: row.try_get("version").map_err(classify)?,
    })
}

/// Share-locks the users about to become members: a deletion running at the same time then
/// waits for this transaction (and removes the membership), or has committed and is seen
/// (and the user is skipped), so a deleted user never stays a member. Taken before the
/// group's row, in id order: deleting a user locks the user, then its groups, and the same
/// order here keeps the two from deadlocking.
async fn lock_users(conn: &mut PgConnection, group: &Group, members: &[UserId]) -> StoreResult<()> {
    for chunk in members.chunks(CHUNK) {
        let mut lock =
            QueryBuilder::<Postgres>::new("SELECT u.id FROM users u WHERE u.tenant_id = ");
        lock.push_bind(group.tenant_id.as_uuid())
            .push(" AND u.id IN (");
        let mut ids = lock.separated(", ");
        for id in chunk {
            ids.push_bind(id.as_uuid());
        }
        lock.push(") ORDER BY u.id FOR SHARE");
        lock.build().execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
}

/// Adds the members that are users of the group's tenant and not deleted (locked with
/// [`lock_users`] first); others and present members are skipped.
async fn add_members(
    conn: &mut PgConnection,
    group: &Group,
    members: &[UserId],
) -> StoreResult<()> {
    for chunk in members.chunks(CHUNK) {
        let mut sql = QueryBuilder::<Postgres>::new(
            "INSERT INTO group_members (group_id, user_id, tenant_id) SELECT ",
        );
        sql.push_bind(group.id.as_uuid())
            .push(", u.id, u.tenant_id FROM users u WHERE u.tenant_id = ")
            .push_bind(group.tenant_id.as_uuid())
            .push(" AND u.status <> 'deleted' AND u.id IN (");
        let mut ids = sql.separated(", ");
        for id in chunk {
            ids.push_bind(id.as_uuid());
        }
        sql.push(") ON CONFLICT DO NOTHING");
        sql.build().execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
}

async fn remove_members(
    conn: &mut PgConnection,
    group: &Group,
    members: &[UserId],
) -> StoreResult<()> {
    for chunk in members.chunks(CHUNK) {
        let mut sql = QueryBuilder::<Postgres>::new("DELETE FROM group_members WHERE group_id = ");
        sql.push_bind(group.id.as_uuid()).push(" AND user_id IN (");
        let mut ids = sql.separated(", ");
        for id in chunk {
            ids.push_bind(id.as_uuid());
        }
        sql.push(")");
        sql.build().execute(&mut *conn).await.map_err(classify)?;
    }
    Ok(())
}

/// Stores the group's new version, if the stored one is `expected_version`.
async fn bump(conn: &mut PgConnection, group: &Group, expected_version: i64) -> StoreResult<()> {
    let updated = sqlx::query(
        "UPDATE groups SET display_name = $1, display_key = $2, external_id = $3, updated_at = $4, version = $5
         WHERE id = $6 AND tenant_id = $7 AND version = $8",
    )
    .bind(group.display_name.as_str())
    .bind(group.display_name.key())
    .bind(group.external_id.as_deref())
    .bind(group.updated_at)
    .bind(group.version)
    .bind(group.id.as_uuid())
    .bind(group.tenant_id.as_uuid())
    .bind(expected_version)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(())
}

fn push_query(sql: &mut QueryBuilder<Postgres>, tenant: TenantId, query: &GroupQuery) {
    sql.push(" FROM groups g WHERE g.tenant_id = ")
        .push_bind(tenant.as_uuid());
    if let Some((how, text)) = &query.display_name {
        let key = text.trim().to_lowercase();
        match how {
            NameMatch::Equals => sql.push(" AND g.display_key = ").push_bind(key),
            NameMatch::StartsWith | NameMatch::Contains => {
                let op = if *how == NameMatch::StartsWith {
                    CompareOp::Sw
                } else {
                    CompareOp::Co
                };
                sql.push(" AND g.display_key LIKE ")
                    .push_bind(like_pattern(op, &key))
                    .push(" ESCAPE '\\'")
            }
        };
    }
    if let Some(external_id) = &query.external_id {
        sql.push(" AND g.external_id = ")
            .push_bind(external_id.clone());
    }
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn offset(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[async_trait]
impl GroupStore for PostgresStore {
    async fn insert_group(
        &self,
        group: &Group,
        members: &[UserId],
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO groups (id, tenant_id, display_name, display_key, external_id, created_at, updated_at, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(group.id.as_uuid())
        .bind(group.tenant_id.as_uuid())
        .bind(group.display_name.as_str())
        .bind(group.display_name.key())
        .bind(group.external_id.as_deref())
        .bind(group.created_at)
        .bind(group.updated_at)
        .bind(group.version)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        lock_users(&mut tx, group, members).await?;
        add_members(&mut tx, group, members).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn group_by_id(&self, tenant: TenantId, id: GroupId) -> StoreResult<Option<Group>> {
        sqlx::query("SELECT * FROM groups WHERE id = $1 AND tenant_id = $2")
            .bind(id.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?
            .as_ref()
            .map(group_from_row)
            .transpose()
    }

    async fn list_groups(
        &self,
        tenant: TenantId,
        query: &GroupQuery,
        skip: u64,
        limit: u32,
    ) -> StoreResult<GroupPage> {
        let mut sql = QueryBuilder::<Postgres>::new("SELECT COUNT(*)");
        push_query(&mut sql, tenant, query);
        let total: i64 = sql
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        let mut sql = QueryBuilder::<Postgres>::new("SELECT g.*");
        push_query(&mut sql, tenant, query);
        sql.push(" ORDER BY g.display_key, g.id LIMIT ")
            .push_bind(i64::from(limit))
            .push(" OFFSET ")
            .push_bind(offset(skip));
        let rows = sql.build().fetch_all(&self.pool).await.map_err(classify)?;
        Ok(GroupPage {
            total: count(total),
            groups: rows
                .iter()
                .map(group_from_row)
                .collect::<StoreResult<_>>()?,
        })
    }

    async fn replace_group(
        &self,
        group: &Group,
        expected_version: i64,
        members: Option<&[UserId]>,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        if let Some(members) = members {
            lock_users(&mut tx, group, members).await?;
        }
        bump(&mut tx, group, expected_version).await?;
        if let Some(members) = members {
            sqlx::query("DELETE FROM group_members WHERE group_id = $1")
                .bind(group.id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
            add_members(&mut tx, group, members).await?;
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn change_group_members(
        &self,
        group: &Group,
        expected_version: i64,
        add: &[UserId],
        remove: &[UserId],
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        lock_users(&mut tx, group, add).await?;
        bump(&mut tx, group, expected_version).await?;
        remove_members(&mut tx, group, remove).await?;
        add_members(&mut tx, group, add).await?;
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn delete_group(
        &self,
        tenant: TenantId,
        id: GroupId,
        expected_version: i64,
        event: &Event,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM group_members WHERE group_id = $1")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let deleted =
            sqlx::query("DELETE FROM groups WHERE id = $1 AND tenant_id = $2 AND version = $3")
                .bind(id.as_uuid())
                .bind(tenant.as_uuid())
                .bind(expected_version)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::VersionConflict);
        }
        insert_event(&mut tx, event).await?;
        tx.commit().await.map_err(classify)
    }

    async fn live_users(&self, tenant: TenantId, users: &[UserId]) -> StoreResult<Vec<UserId>> {
        let ids: Vec<Uuid> = users.iter().map(UserId::as_uuid).collect();
        let found: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM users WHERE tenant_id = $1 AND status <> 'deleted' AND id = ANY($2)",
        )
        .bind(tenant.as_uuid())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(found.into_iter().map(UserId::from_uuid).collect())
    }

    async fn groups_of_users(
        &self,
        tenant: TenantId,
        users: &[UserId],
    ) -> StoreResult<Vec<(UserId, Group)>> {
        let ids: Vec<Uuid> = users.iter().map(UserId::as_uuid).collect();
        let rows = sqlx::query(
            "SELECT m.user_id AS member_id, g.* FROM group_members m JOIN groups g ON g.id = m.group_id
             WHERE m.user_id = ANY($1) AND g.tenant_id = $2 ORDER BY g.display_key, g.id",
        )
        .bind(&ids)
        .bind(tenant.as_uuid())
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        rows.iter()
            .map(|row| {
                let member: Uuid = row.try_get("member_id").map_err(classify)?;
                Ok((UserId::from_uuid(member), group_from_row(row)?))
            })
            .collect()
    }

    async fn group_members(
        &self,
        tenant: TenantId,
        group: GroupId,
        skip: u64,
        limit: u32,
    ) -> StoreResult<MemberPage> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM group_members WHERE group_id = $1 AND tenant_id = $2",
        )
        .bind(group.as_uuid())
        .bind(tenant.as_uuid())
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT user_id FROM group_members WHERE group_id = $1 AND tenant_id = $2
             ORDER BY user_id LIMIT $3 OFFSET $4",
        )
        .bind(group.as_uuid())
        .bind(tenant.as_uuid())
        .bind(i64::from(limit))
        .bind(offset(skip))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(MemberPage {
            total: count(total),
            members: ids.into_iter().map(UserId::from_uuid).collect(),
        })
    }
}
