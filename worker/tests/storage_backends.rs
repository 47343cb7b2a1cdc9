//! The storage behaviour suite: the same cases against local disk and the GCS, S3 and
//! Azure Blob emulators (or real buckets, see `support/backends.rs`).
//!
//! Each case starts its own emulator: a multipart upload read back byte for byte, a
//! signed URL fetched over HTTP (Azurite checks its SAS itself; the GCS and S3 V4
//! signatures, which their emulators do not check, are verified here against the test
//! keys), staging then publish, and cleanup of expired and abandoned objects that leaves
//! everything younger alone.

mod support;

use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use futures::TryStreamExt;
use rand::RngCore;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, pkcs8::DecodePrivateKey};
use sha2::{Digest, Sha256};
use support::backends::{GCS_TEST_ACCOUNT, GCS_TEST_KEY, Harness, Kind, PART_SIZE, S3_TEST_SECRET};
use worker::cleanup::{CleanupPolicy, remove_expired};
use yt_jobs::{JobId, archive_filename};
use yt_storage::{Download, ExportStorage, StorageError};

const MIB: usize = 1024 * 1024;

macro_rules! behaviour_suite {
    ($($backend:ident => $kind:expr),* $(,)?) => {$(
        mod $backend {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn large_archive_uploads_in_parts_and_reads_back() {
                large_archive_round_trip(Harness::start($kind)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn signed_url_serves_the_archive() {
                signed_url(Harness::start($kind)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn only_a_verified_upload_is_published() {
                publish_guards(Harness::start($kind)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cleanup_removes_old_and_abandoned_objects_only() {
                cleanup(Harness::start($kind)).await;
            }
        }
    )*};
}

behaviour_suite! {
    local => Kind::Local,
    gcs => Kind::Gcs,
    s3 => Kind::S3,
    azblob => Kind::Azblob,
}

fn random_bytes(len: usize) -> Vec<u8> {
    let mut data = vec![0u8; len];
    rand::rng().fill_bytes(&mut data);
    data
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn new_key() -> String {
    archive_filename(&JobId::generate())
}

/// Uploads `data` under `key` in 1 MiB writes, as the worker does, without publishing.
async fn stage(storage: &ExportStorage, key: &str, data: &[u8]) -> yt_storage::Staged {
    let mut upload = storage.upload(key).await.unwrap();
    for chunk in data.chunks(MIB) {
        upload.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    upload.finish().await.unwrap()
}

async fn store(storage: &ExportStorage, key: &str, data: &[u8]) {
    let staged = stage(storage, key, data).await;
    storage.publish(&staged, &sha256_hex(data)).await.unwrap();
}

async fn published_keys(storage: &ExportStorage) -> Vec<String> {
    storage
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect()
}

async fn staged_keys(storage: &ExportStorage) -> Vec<String> {
    let staged = storage.list_staged().await.unwrap();
    staged.into_iter().map(|o| o.key).collect()
}

async fn read_back(storage: &ExportStorage, key: &str) -> Vec<u8> {
    match storage.download(key, None).await.unwrap() {
        Download::Stream { bytes, body } => {
            let chunks: Vec<Bytes> = body.try_collect().await.unwrap();
            let data = chunks.concat();
            assert_eq!(data.len() as u64, bytes);
            data
        }
        Download::Redirect { .. } => panic!("no presign asked, yet a redirect"),
    }
}

async fn large_archive_round_trip(h: Harness) {
    let storage = &h.storage;
    // Three full parts and a short last one.
    let data = random_bytes(3 * PART_SIZE + 123_457);
    let key = new_key();

    let staged = stage(storage, &key, &data).await;
    assert_eq!(staged.bytes, data.len() as u64);
    assert_eq!(staged.sha256, sha256_hex(&data));

    // Written, but nothing a link can reach yet.
    assert!(matches!(
        storage.stat(&key).await,
        Err(StorageError::NotFound)
    ));
    assert!(!published_keys(storage).await.contains(&key));
    assert!(staged_keys(storage).await.contains(&key));

    let published = storage.publish(&staged, &sha256_hex(&data)).await.unwrap();
    assert_eq!(published.bytes, data.len() as u64);
    assert!(published_keys(storage).await.contains(&key));
    assert!(!staged_keys(storage).await.contains(&key));

    let back = read_back(storage, &key).await;
    assert!(back == data, "the archive read back differs");
    storage.delete(&key).await.unwrap();
}

async fn signed_url(h: Harness) {
    let storage = &h.storage;
    let data = random_bytes(300_000);
    let key = new_key();
    store(storage, &key, &data).await;

    let url = match storage
        .download(&key, Some(Duration::from_secs(3600)))
        .await
        .unwrap()
    {
        Download::Redirect { url } => url,
        Download::Stream { .. } => {
            assert_eq!(h.kind, Kind::Local, "{:?} should sign URLs", h.kind);
            storage.delete(&key).await.unwrap();
            return;
        }
    };
    assert_ne!(h.kind, Kind::Local);

    let client = reqwest::Client::new();
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let body = response.bytes().await.unwrap();
    assert!(
        body.as_ref() == data.as_slice(),
        "the signed URL served other bytes"
    );

    match h.kind {
        Kind::Gcs => {
            assert!(url.contains("X-Goog-Expires=3600"), "{url}");
            if !h.real {
                verify_gcs_v4_signature(&url);
            }
        }
        Kind::S3 => {
            assert!(url.contains("X-Amz-Expires=3600"), "{url}");
            if !h.real {
                verify_s3_v4_signature(&url);
            }
        }
        Kind::Azblob => {
            assert!(url.contains("sig="), "{url}");
            // Azurite checks SAS signatures: a forged one is refused.
            let forged = forge_query_value(&url, "sig");
            let refused = client.get(&forged).send().await.unwrap();
            assert_eq!(refused.status(), 403, "{forged}");
            // The SAS covers this archive only, and reading only.
            let other_key = new_key();
            store(storage, &other_key, b"another user's archive").await;
            let elsewhere = url.replacen(&key, &other_key, 1);
            let refused = client.get(&elsewhere).send().await.unwrap();
            assert_eq!(refused.status(), 403, "{elsewhere}");
            let overwrite = client
                .put(&url)
                .header("x-ms-blob-type", "BlockBlob")
                .body("replaced")
                .send()
                .await
                .unwrap();
            assert_eq!(overwrite.status(), 403, "a read SAS wrote: {url}");
            assert!(
                read_back(storage, &key).await == data,
                "the archive changed"
            );
            storage.delete(&other_key).await.unwrap();
        }
        Kind::Local => unreachable!(),
    }
    storage.delete(&key).await.unwrap();
}

async fn publish_guards(h: Harness) {
    let storage = &h.storage;

    // An abandoned upload (with a part already sent) leaves nothing at all.
    let key = new_key();
    let mut upload = storage.upload(&key).await.unwrap();
    for chunk in random_bytes(PART_SIZE + MIB).chunks(MIB) {
        upload.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    upload.abort(storage).await;
    assert!(matches!(
        storage.stat(&key).await,
        Err(StorageError::NotFound)
    ));
    assert!(!staged_keys(storage).await.contains(&key));

    // A checksum that does not match the archive is refused and nothing is published.
    let data = random_bytes(100_000);
    let staged = stage(storage, &key, &data).await;
    let refused = storage.publish(&staged, &"0".repeat(64)).await;
    assert!(
        matches!(refused, Err(StorageError::Mismatch(_))),
        "{refused:?}"
    );
    assert!(matches!(
        storage.stat(&key).await,
        Err(StorageError::NotFound)
    ));
    storage.delete_staged(&key).await.unwrap();

    // Publishing the same key twice (a job run again) leaves one archive, the newer.
    store(storage, &key, &random_bytes(50_000)).await;
    let newer = random_bytes(70_000);
    store(storage, &key, &newer).await;
    let listed = published_keys(storage).await;
    assert_eq!(listed.iter().filter(|k| **k == key).count(), 1);
    assert!(read_back(storage, &key).await == newer);
    assert!(!staged_keys(storage).await.contains(&key));
    storage.delete(&key).await.unwrap();
}

async fn cleanup(h: Harness) {
    let storage = &h.storage;
    let published = new_key();
    let abandoned = new_key();
    store(storage, &published, &random_bytes(10_000)).await;
    // An upload that finished but was never published: what a crash leaves.
    stage(storage, &abandoned, &random_bytes(20_000)).await;

    let policy = CleanupPolicy {
        ttl: Duration::from_secs(24 * 3600),
        staging_max_age: Duration::from_secs(3600),
        record_grace: Duration::from_secs(3600),
    };
    let after = |secs: i64| Utc::now() + chrono::Duration::seconds(secs);

    // Within both ages: nothing is touched.
    let report = remove_expired(storage, None, &policy, after(30 * 60))
        .await
        .unwrap();
    assert_eq!(
        (report.deleted, report.staging_deleted),
        (0, 0),
        "{report:?}"
    );
    assert!(published_keys(storage).await.contains(&published));
    assert!(staged_keys(storage).await.contains(&abandoned));

    // Past the staging age: the abandoned upload goes, the archive stays.
    let report = remove_expired(storage, None, &policy, after(2 * 3600))
        .await
        .unwrap();
    assert_eq!(report.staging_deleted, 1, "{report:?}");
    assert_eq!(report.staging_deleted_bytes, 20_000);
    assert_eq!(report.deleted, 0);
    assert!(!staged_keys(storage).await.contains(&abandoned));
    assert!(published_keys(storage).await.contains(&published));

    // Past the TTL: the archive goes too (its job record never existed: an orphan).
    let report = remove_expired(storage, None, &policy, after(25 * 3600))
        .await
        .unwrap();
    assert_eq!(report.deleted, 1, "{report:?}");
    assert_eq!(report.deleted_bytes, 10_000);
    assert!(!published_keys(storage).await.contains(&published));
    assert!(matches!(
        storage.stat(&published).await,
        Err(StorageError::NotFound)
    ));
}

/// Replaces one query parameter's value with another of the same shape.
fn forge_query_value(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == name {
                let mut forged = v.into_owned().into_bytes();
                forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
                String::from_utf8(forged).unwrap()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// The decoded value of a signed URL's query parameter `name`, which must be there.
fn query_param(url: &url::Url, name: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{name} missing from {url}"))
}

/// Checks an S3 presigned URL the way S3 does (Signature Version 4, query-string form),
/// with the emulator's test secret; moto itself accepts any signature.
fn verify_s3_v4_signature(url: &str) {
    use hmac::{Hmac, Mac};
    let hmac = |key: &[u8], data: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    };

    let parsed = url::Url::parse(url).unwrap();
    let param = |name: &str| query_param(&parsed, name);
    assert_eq!(param("X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    assert_eq!(param("X-Amz-SignedHeaders"), "host");
    let credential = param("X-Amz-Credential");
    let (access_key, scope) = credential.split_once('/').unwrap();
    assert_eq!(access_key, "testing");
    let scope_parts: Vec<&str> = scope.split('/').collect();
    let [day, region, service, "aws4_request"] = scope_parts[..] else {
        panic!("credential scope {scope}");
    };
    let amz_date = param("X-Amz-Date");
    let signature = param("X-Amz-Signature");

    let mut canonical_query: Vec<(&str, &str)> = parsed
        .query()
        .unwrap()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| *k != "X-Amz-Signature")
        .collect();
    canonical_query.sort_unstable();
    let canonical_query: Vec<String> = canonical_query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let host = match parsed.port() {
        Some(port) => format!("{}:{port}", parsed.host_str().unwrap()),
        None => parsed.host_str().unwrap().to_owned(),
    };
    let expected = |path: &str| {
        let canonical_request = format!(
            "GET\n{path}\n{}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD",
            canonical_query.join("&")
        );
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            sha256_hex(canonical_request.as_bytes())
        );
        let key = hmac(format!("AWS4{S3_TEST_SECRET}").as_bytes(), day);
        let key = hmac(&key, region);
        let key = hmac(&key, service);
        let key = hmac(&key, "aws4_request");
        hex::encode(hmac(&key, &string_to_sign))
    };

    assert_eq!(
        signature,
        expected(parsed.path()),
        "the V4 signature of {url}"
    );
    // And the check can fail: the same signature does not cover another object.
    assert_ne!(signature, expected("/yt-exports/another.zip"));
}

/// Checks a GCS V4 signed URL the way Google does: rebuild the canonical request and
/// the string to sign, then verify `X-Goog-Signature` with the test key's public half.
fn verify_gcs_v4_signature(url: &str) {
    let parsed = url::Url::parse(url).unwrap();
    let query = parsed.query().unwrap();
    let param = |name: &str| query_param(&parsed, name);
    assert_eq!(param("X-Goog-Algorithm"), "GOOG4-RSA-SHA256");
    let credential = param("X-Goog-Credential");
    let (account, scope) = credential.split_once('/').unwrap();
    assert_eq!(account, GCS_TEST_ACCOUNT);
    let date = param("X-Goog-Date");
    let signature = hex::decode(param("X-Goog-Signature")).unwrap();

    let mut canonical_query: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with("X-Goog-Signature="))
        .collect();
    canonical_query.sort_unstable();
    let host = match parsed.port() {
        Some(port) => format!("{}:{port}", parsed.host_str().unwrap()),
        None => parsed.host_str().unwrap().to_owned(),
    };
    let canonical_request = format!(
        "GET\n{}\n{}\nhost:{host}\n\nhost\nUNSIGNED-PAYLOAD",
        parsed.path(),
        canonical_query.join("&")
    );
    let string_to_sign = format!(
        "GOOG4-RSA-SHA256\n{date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );

    let key = RsaPrivateKey::from_pkcs8_pem(GCS_TEST_KEY).unwrap();
    let digest = Sha256::digest(string_to_sign.as_bytes());
    key.to_public_key()
        .verify(Pkcs1v15Sign::new::<Sha256>(), &digest, &signature)
        .unwrap_or_else(|e| panic!("the V4 signature does not verify ({e}):\n{canonical_request}"));

    // And the check can fail: a URL for another object does not verify.
    let other = canonical_request.replacen(parsed.path(), "/yt-exports/another.zip", 1);
    let other_string = format!(
        "GOOG4-RSA-SHA256\n{date}\n{scope}\n{}",
        sha256_hex(other.as_bytes())
    );
    let other_digest = Sha256::digest(other_string.as_bytes());
    assert!(
        key.to_public_key()
            .verify(Pkcs1v15Sign::new::<Sha256>(), &other_digest, &signature)
            .is_err()
    );
}
