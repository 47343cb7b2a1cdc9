//! Accounts: creation with an Argon2id password hash, lookup, login and removal.
//!
//! Emails are stored trimmed and lowercased, and looked up the same way, so the unique
//! constraint and logins ignore case identically on both engines (SQLite's `lower()` only
//! folds ASCII).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor, Row, any::AnyRow};

use crate::{Backend, Database, DbError, password, timestamp};

/// The database id of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A user's profile as exported; the password hash never leaves the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: Option<String>,
    pub avatar_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What it takes to create an account.
#[derive(Clone, Copy)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
    pub password: &'a str,
}

impl fmt::Debug for NewUser<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("display_name", &self.display_name)
            .field("avatar_url", &self.avatar_url)
            .finish_non_exhaustive()
    }
}

/// The form an email is stored and looked up in.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

impl Database {
    /// Creates an account; an email already taken (in any case) fails with an error whose
    /// [`DbError::is_unique_violation`] is true.
    pub async fn create_user(&self, new: NewUser<'_>) -> Result<User, DbError> {
        let hash = password::hash(new.password).await?;
        insert_user(self.pool(), self.backend(), new, &hash).await
    }

    /// The user with this id, if there is one.
    pub async fn user_by_id(&self, id: UserId) -> Result<Option<User>, DbError> {
        let sql = format!("{} WHERE id = $1", select_user(self.backend()));
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// The user with this email (in any case), if there is one.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, DbError> {
        let sql = format!("{} WHERE email = $1", select_user(self.backend()));
        let row = sqlx::query(&sql)
            .bind(normalize_email(email))
            .fetch_optional(self.pool())
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// The user whose email (in any case) and password match, or `None`.
    ///
    /// An unknown email costs one Argon2 verification too, so the time taken does not
    /// tell whether an account exists.
    pub async fn verify_login(&self, email: &str, password: &str) -> Result<Option<User>, DbError> {
        let sql = format!(
            "{}, password_hash FROM users WHERE email = $1",
            select_columns(self.backend())
        );
        let row = sqlx::query(&sql)
            .bind(normalize_email(email))
            .fetch_optional(self.pool())
            .await?;

        let (user, stored) = match row {
            Some(row) => {
                let stored: Option<String> = row.try_get(6)?;
                (Some(user_from_row(&row)?), stored)
            }
            None => (None, None),
        };
        let matches = password::verify(password, stored).await?;

        Ok(user.filter(|_| matches))
    }

    /// Removes a user and, through the foreign keys, all of their data.
    pub async fn delete_user(&self, id: UserId) -> Result<(), DbError> {
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id.0)
            .execute(self.pool())
            .await?;
        tracing::info!(user.id = id.0, "deleted a user and their data");
        Ok(())
    }
}

/// Inserts an account whose password is already hashed, on any executor (so seeding can
/// do it inside its transaction).
pub(crate) async fn insert_user<'e, E>(
    executor: E,
    backend: Backend,
    new: NewUser<'_>,
    password_hash: &str,
) -> Result<User, DbError>
where
    E: Executor<'e, Database = Any>,
{
    let email = normalize_email(new.email);
    let now = timestamp::now();
    let sql = format!(
        "INSERT INTO users (email, display_name, avatar_url, password_hash, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, {at}, {at}) RETURNING id",
        at = backend.write_time(5)
    );

    let id: i64 = sqlx::query_scalar(&sql)
        .bind(&email)
        .bind(new.display_name)
        .bind(new.avatar_url)
        .bind(password_hash)
        .bind(timestamp::encode(now))
        .fetch_one(executor)
        .await?;

    Ok(User {
        id: UserId(id),
        email,
        display_name: new.display_name.map(str::to_owned),
        avatar_url: new.avatar_url.map(str::to_owned),
        created_at: now,
        updated_at: now,
    })
}

fn select_columns(backend: Backend) -> String {
    format!(
        "SELECT id, email, display_name, avatar_url, {}, {}",
        backend.read_time("created_at"),
        backend.read_time("updated_at")
    )
}

fn select_user(backend: Backend) -> String {
    format!("{} FROM users", select_columns(backend))
}

fn user_from_row(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: UserId(row.try_get(0)?),
        email: row.try_get(1)?,
        display_name: row.try_get(2)?,
        avatar_url: row.try_get(3)?,
        created_at: timestamp::decode(row.try_get(4)?, "created_at")?,
        updated_at: timestamp::decode(row.try_get(5)?, "updated_at")?,
    })
}
