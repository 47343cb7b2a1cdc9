//! The archive opens with standard tools and holds exactly what was written.

use std::{
    io::{Cursor, Read},
    process::Command,
};

use chrono::{TimeZone, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use yt_archive::{ArchiveBuilder, ArchiveError, ArchiveOptions};

#[derive(Serialize)]
struct Video {
    video_id: String,
    title: String,
}

fn options() -> ArchiveOptions {
    ArchiveOptions {
        compression_level: 3,
        modified: Utc.with_ymd_and_hms(2026, 12, 3, 10, 30, 0).unwrap(),
    }
}

fn videos(
    batches: u64,
    per_batch: u64,
) -> impl Iterator<Item = Result<Vec<Video>, std::io::Error>> {
    (0..batches).map(move |b| {
        Ok((0..per_batch)
            .map(|i| Video {
                video_id: format!("vid{:08}", b * per_batch + i),
                title: format!("日本の \"title\" \\ {} 🎵 مرحبا", b * per_batch + i),
            })
            .collect())
    })
}

fn entry(archive: &[u8], name: &str) -> Vec<u8> {
    let mut zip = zip::ZipArchive::new(Cursor::new(archive)).unwrap();
    let mut body = Vec::new();
    zip.by_name(name).unwrap().read_to_end(&mut body).unwrap();
    body
}

#[test]
fn json_array_holds_every_item_in_order_and_reports_progress() {
    let mut builder = ArchiveBuilder::new(Vec::new(), options());
    let mut seen = Vec::new();

    let items = builder
        .add_json_array("watched_videos.json", 2_500, videos(5, 500), |n| {
            seen.push(n)
        })
        .unwrap();
    let (bytes, manifest) = builder.finish().unwrap();

    assert_eq!(items, 2_500);
    assert_eq!(seen, [500, 1_000, 1_500, 2_000, 2_500]);
    let body = entry(&bytes, "watched_videos.json");
    let parsed: Vec<serde_json::Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(parsed.len(), 2_500);
    assert_eq!(parsed[1_234]["video_id"], "vid00001234");
    assert_eq!(parsed[7]["title"], "日本の \"title\" \\ 7 🎵 مرحبا");

    let listed = &manifest.entries[0];
    assert_eq!(listed.items, Some(2_500));
    assert_eq!(listed.bytes, body.len() as u64);
    assert_eq!(listed.sha256, hex::encode(Sha256::digest(&body)));
    assert_eq!(manifest.archive_bytes, bytes.len() as u64);
    assert_eq!(manifest.archive_sha256, hex::encode(Sha256::digest(&bytes)));
}

#[test]
fn empty_array_is_valid_json() {
    let mut builder = ArchiveBuilder::new(Vec::new(), options());

    builder
        .add_json_array("subscriptions.json", 0, videos(0, 0), |_| {})
        .unwrap();
    let (bytes, _) = builder.finish().unwrap();

    let parsed: Vec<serde_json::Value> =
        serde_json::from_slice(&entry(&bytes, "subscriptions.json")).unwrap();
    assert!(parsed.is_empty());
}

#[test]
fn standard_unzip_accepts_the_streamed_archive() {
    let mut builder = ArchiveBuilder::new(Vec::new(), options());
    builder
        .add_json(
            "profile.json",
            &serde_json::json!({"email": "a@example.com"}),
        )
        .unwrap();
    builder
        .add_json_array("watched_videos.json", 20_000, videos(10, 2_000), |_| {})
        .unwrap();
    builder.add_text("README.txt", "hello\n").unwrap();
    let (bytes, manifest) = builder.finish().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.zip");
    std::fs::write(&path, &bytes).unwrap();

    let test = Command::new("unzip").arg("-t").arg(&path).output().unwrap();
    assert!(
        test.status.success(),
        "{}",
        String::from_utf8_lossy(&test.stdout)
    );

    let names: Vec<&str> = manifest.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["profile.json", "watched_videos.json", "README.txt"]);
    let zip = zip::ZipArchive::new(Cursor::new(&bytes)).unwrap();
    assert_eq!(zip.len(), 3);
}

#[test]
fn a_failing_source_stops_the_archive_with_its_error() {
    let mut builder = ArchiveBuilder::new(Vec::new(), options());
    let batches = videos(3, 10).chain(std::iter::once(Err(std::io::Error::other("db gone"))));

    let error = builder
        .add_json_array("watched_videos.json", 40, batches, |_| {})
        .unwrap_err();

    assert!(
        matches!(error, ArchiveError::Source { ref entry, .. } if entry == "watched_videos.json")
    );
    assert!(error.to_string().contains("db gone"));
}

#[test]
fn a_failing_writer_surfaces_as_io_error() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "disk full",
            ))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut builder = ArchiveBuilder::new(Full, options());

    let result = builder
        .add_json_array("watched_videos.json", 20_000, videos(10, 2_000), |_| {})
        .and_then(|_| builder.finish().map(|_| ()));

    let error = result.unwrap_err();
    assert!(error.to_string().contains("disk full"), "{error}");
}
