//! One export store per backend for the behaviour suite: a temporary folder, or an
//! emulator started for the test (moto for S3, gcp-storage-emulator for GCS, Azurite for
//! Azure Blob).
//!
//! Set `YT_TEST_REAL_BACKEND=s3` (or `gcs`, `azblob`) to run that backend's cases against
//! the real bucket the usual storage variables name (`YT_S3_BUCKET`, `AWS_*`, …) instead
//! of its emulator. Use a bucket of its own: the cleanup case deletes every export in it.

use std::{any::Any, path::PathBuf};

use clap::Parser;
use tempfile::TempDir;
use yt_config::StorageArgs;
use yt_storage::{AzblobConfig, BackendConfig, ExportStorage, GcsConfig, S3Config};
use yt_testkit::{AZURITE_ACCOUNT, AZURITE_KEY, AzuriteEmulator, GcsEmulator, S3Emulator};

/// The service-account key the GCS cases sign URLs with (a throwaway test key).
pub const GCS_TEST_KEY: &str = include_str!("../fixtures/gcs-test-key.pem");
/// The secret key the S3 emulator's URLs are signed with (moto accepts any).
pub const S3_TEST_SECRET: &str = "testing-secret";

pub const GCS_TEST_ACCOUNT: &str = "exports-test@yt-export-test.iam.gserviceaccount.com";

/// Multipart uploads in the suite use S3's smallest part, so a few MiB make several parts.
pub const PART_SIZE: usize = 5 * 1024 * 1024;

const BUCKET: &str = "yt-exports";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Local,
    Gcs,
    S3,
    Azblob,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Gcs => "gcs",
            Self::S3 => "s3",
            Self::Azblob => "azblob",
        }
    }
}

/// A store and whatever keeps it alive.
pub struct Harness {
    pub kind: Kind,
    pub storage: ExportStorage,
    pub config: BackendConfig,
    /// Whether this is a real bucket rather than an emulator or a folder.
    pub real: bool,
    pub dir: TempDir,
    _service: Option<Box<dyn Any>>,
}

#[derive(Parser)]
struct StorageCli {
    #[command(flatten)]
    storage: StorageArgs,
}

impl Harness {
    pub fn start(kind: Kind) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let real = std::env::var("YT_TEST_REAL_BACKEND").is_ok_and(|b| b == kind.name());

        let (config, service): (BackendConfig, Option<Box<dyn Any>>) = if real {
            let cli = StorageCli::try_parse_from(["suite", "--storage-backend", kind.name()])
                .expect("storage variables of the real backend");
            (cli.storage.backend().expect("a usable real backend"), None)
        } else {
            match kind {
                Kind::Local => (
                    BackendConfig::Local {
                        root: dir.path().join("exports"),
                    },
                    None,
                ),
                Kind::S3 => {
                    let emulator = S3Emulator::start(BUCKET);
                    let config = BackendConfig::S3(S3Config {
                        bucket: BUCKET.into(),
                        region: "us-east-1".into(),
                        endpoint: Some(emulator.endpoint()),
                        access_key_id: Some("testing".into()),
                        secret_access_key: Some(S3_TEST_SECRET.into()),
                        session_token: None,
                    });
                    (config, Some(Box::new(emulator)))
                }
                Kind::Gcs => {
                    let emulator = GcsEmulator::start(BUCKET);
                    let config = BackendConfig::Gcs(GcsConfig {
                        bucket: BUCKET.into(),
                        credentials_file: Some(write_service_account(dir.path())),
                        endpoint: Some(emulator.endpoint()),
                        token: Some("emulator-token".into()),
                    });
                    (config, Some(Box::new(emulator)))
                }
                Kind::Azblob => {
                    let emulator = AzuriteEmulator::start(BUCKET);
                    let config = BackendConfig::Azblob(AzblobConfig {
                        container: BUCKET.into(),
                        account_name: AZURITE_ACCOUNT.into(),
                        account_key: Some(AZURITE_KEY.into()),
                        endpoint: Some(emulator.endpoint()),
                    });
                    (config, Some(Box::new(emulator)))
                }
            }
        };

        let storage = ExportStorage::open(&config)
            .unwrap()
            .with_part_size(PART_SIZE);
        Self {
            kind,
            storage,
            config,
            real,
            dir,
            _service: service,
        }
    }
}

/// A service-account JSON with the test key, as Google issues them.
pub fn write_service_account(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("service-account.json");
    let json = serde_json::json!({
        "type": "service_account",
        "project_id": "yt-export-test",
        "private_key_id": "test-key-1",
        "private_key": GCS_TEST_KEY,
        "client_email": GCS_TEST_ACCOUNT,
        "client_id": "1",
        "auth_uri": "http://127.0.0.1:9/auth",
        "token_uri": "http://127.0.0.1:9/token",
    });
    std::fs::write(&path, json.to_string()).unwrap();
    path
}
