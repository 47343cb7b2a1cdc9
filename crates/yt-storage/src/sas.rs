//! Signed download URLs for Azure Blob Storage: a service SAS for one blob, read only.
//!
//! opendal signs Azure URLs only with a SAS token it is given, and an account key would
//! grant far more than a download needs; so a link here carries a service SAS scoped to a
//! single blob (`sr=b`), permission read (`sp=r`), the expiry asked for, and the
//! `Content-Disposition` and `Content-Type` the browser should see. The signature is the
//! HMAC-SHA256 of Azure's string to sign, keyed with the account's shared key.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::Sha256;

use crate::{AzblobConfig, StorageError};

/// The service version the signature follows; Azurite and Azure both accept it.
const SAS_VERSION: &str = "2022-11-02";

/// Everything but the characters RFC 3986 leaves unreserved is escaped in query values.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Mints read-only SAS URLs for blobs of one container.
#[derive(Clone)]
pub(crate) struct BlobSigner {
    account: String,
    container: String,
    endpoint: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for BlobSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobSigner")
            .field("account", &self.account)
            .field("container", &self.container)
            .finish_non_exhaustive()
    }
}

impl BlobSigner {
    /// The signer for `config`, if it has an account key to sign with.
    pub(crate) fn for_config(config: &AzblobConfig) -> Result<Option<Self>, StorageError> {
        let Some(key) = &config.account_key else {
            return Ok(None);
        };
        let key = STANDARD.decode(key.trim()).map_err(|e| {
            StorageError::Config(format!("YT_AZBLOB_ACCOUNT_KEY is not base64: {e}"))
        })?;
        Ok(Some(Self {
            account: config.account_name.clone(),
            container: config.container.clone(),
            endpoint: config.endpoint().trim_end_matches('/').to_owned(),
            key,
        }))
    }

    /// A URL that reads `blob` until `ttl` from now, answered with `content_disposition`.
    pub(crate) fn read_url(&self, blob: &str, ttl: Duration, content_disposition: &str) -> String {
        let expiry = Utc::now() + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        self.read_url_expiring(blob, expiry, content_disposition)
    }

    fn read_url_expiring(
        &self,
        blob: &str,
        expiry: DateTime<Utc>,
        content_disposition: &str,
    ) -> String {
        let expiry = expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let content_type = "application/zip";
        let resource = format!("/blob/{}/{}/{blob}", self.account, self.container);

        // The fields in Azure's order: permissions, start, expiry, resource, identifier,
        // IP range, protocol, version, resource kind, snapshot time, encryption scope,
        // then the response headers cache-control, disposition, encoding, language, type.
        let string_to_sign = [
            "r",
            "",
            &expiry,
            &resource,
            "",
            "",
            "",
            SAS_VERSION,
            "b",
            "",
            "",
            "",
            content_disposition,
            "",
            "",
            content_type,
        ]
        .join("\n");
        let signature = STANDARD.encode(self.sign(&string_to_sign));

        let query = [
            ("sv", SAS_VERSION),
            ("sr", "b"),
            ("sp", "r"),
            ("se", &expiry),
            ("rscd", content_disposition),
            ("rsct", content_type),
            ("sig", &signature),
        ]
        .iter()
        .map(|(name, value)| format!("{name}={}", utf8_percent_encode(value, QUERY_VALUE)))
        .collect::<Vec<_>>()
        .join("&");
        let path = utf8_percent_encode(blob, QUERY_VALUE);
        format!("{}/{}/{path}?{query}", self.endpoint, self.container)
    }

    fn sign(&self, string_to_sign: &str) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(string_to_sign.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> BlobSigner {
        BlobSigner::for_config(&AzblobConfig {
            container: "exports".into(),
            account_name: "acct".into(),
            account_key: Some(STANDARD.encode(b"not a real key")),
            endpoint: None,
        })
        .unwrap()
        .unwrap()
    }

    #[test]
    fn a_url_reads_one_blob_until_its_expiry() {
        let expiry = DateTime::parse_from_rfc3339("2026-12-04T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let url = signer().read_url_expiring(
            "yt-export-abc.zip",
            expiry,
            "attachment; filename=\"a b.zip\"",
        );

        let (base, query) = url.split_once('?').unwrap();
        assert_eq!(
            base,
            "https://acct.blob.core.windows.net/exports/yt-export-abc.zip"
        );
        assert!(
            query.contains("sr=b&sp=r&se=2026-12-04T08%3A00%3A00Z"),
            "{query}"
        );
        assert!(
            query.contains("rscd=attachment%3B%20filename%3D%22a%20b.zip%22"),
            "{query}"
        );

        let sig = query.rsplit_once("sig=").unwrap().1;
        let other = signer().read_url_expiring("yt-export-abd.zip", expiry, "attachment");
        assert_ne!(sig, other.rsplit_once("sig=").unwrap().1);
    }

    #[test]
    fn a_key_that_is_not_base64_is_a_configuration_error() {
        let config = AzblobConfig {
            container: "exports".into(),
            account_name: "acct".into(),
            account_key: Some("not base64!".into()),
            endpoint: None,
        };
        assert!(matches!(
            BlobSigner::for_config(&config),
            Err(StorageError::Config(_))
        ));
    }
}
