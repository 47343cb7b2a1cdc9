//! Argon2id password hashes, computed off the async runtime.
//!
//! A hash costs tens of milliseconds of CPU on purpose, so every call runs in
//! `spawn_blocking`. Logins for unknown emails verify against a fixed dummy hash made with
//! the same parameters, so the answer takes as long whether or not the account exists.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{self, SaltString},
};
use rand::Rng;

use crate::DbError;

/// An Argon2id hash with the default parameters of `Argon2::default()` (m=19456, t=2, p=1),
/// of a password nobody knows.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$SnVrO9dPF8GaSOibPa7O2w$B8Q7bGlxTFceCHuSjeyM8qL+nGXLS15W8cqGSVeKYmg";

/// Hashes `password` with a fresh random salt into a PHC string.
pub(crate) async fn hash(password: &str) -> Result<String, DbError> {
    let password = password.to_owned();
    run_blocking(move || {
        let mut salt = [0u8; 16];
        rand::rng().fill(&mut salt);
        let salt = SaltString::encode_b64(&salt)?;
        Ok(Argon2::default()
            .hash_password(password.as_bytes(), &salt)?
            .to_string())
    })
    .await
}

/// Whether `password` matches `stored`; without a stored hash (no such account, or one
/// without a password) the dummy hash is checked instead and the answer is `false`.
pub(crate) async fn verify(password: &str, stored: Option<String>) -> Result<bool, DbError> {
    let password = password.to_owned();
    run_blocking(move || {
        let real = stored.is_some();
        let stored = stored.as_deref().unwrap_or(DUMMY_HASH);
        let parsed = PasswordHash::new(stored)?;
        match Argon2::default().verify_password(password.as_bytes(), &parsed) {
            Ok(()) => Ok(real),
            Err(password_hash::Error::Password) => Ok(false),
            Err(other) => Err(other),
        }
    })
    .await
}

async fn run_blocking<T, F>(work: F) -> Result<T, DbError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, password_hash::Error> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| DbError::Password(format!("the hashing task failed: {e}")))?
        .map_err(|e| DbError::Password(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_costs_what_a_real_one_does() {
        let dummy = PasswordHash::new(DUMMY_HASH).unwrap();
        let params = argon2::Params::try_from(&dummy).unwrap();
        let default = argon2::Params::default();
        assert_eq!(dummy.algorithm, argon2::Algorithm::Argon2id.ident());
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (default.m_cost(), default.t_cost(), default.p_cost())
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_differ_by_salt() {
        let first = hash("correct horse").await.unwrap();
        let second = hash("correct horse").await.unwrap();
        assert_ne!(first, second);
        assert!(verify("correct horse", Some(first.clone())).await.unwrap());
        assert!(!verify("wrong horse", Some(first)).await.unwrap());
        assert!(!verify("anything", None).await.unwrap());
    }
}
