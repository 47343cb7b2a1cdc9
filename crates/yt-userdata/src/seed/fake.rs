//! Deterministic, realistic-looking YouTube data: ids in YouTube's alphabet, titles in many
//! scripts, times spread over the last two years.
//!
//! The same seed gives the same ids and titles on every run; only the times move with the
//! clock. Titles deliberately carry what breaks naive exporters: emoji (including joined
//! sequences), CJK, right-to-left Arabic and Hebrew, double quotes and backslashes.

use std::ops::Range;

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};

use crate::{NewSubscription, NewWatchedVideo};

/// YouTube's id alphabet (URL-safe base64).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// How far back the generated history reaches.
const SPAN_DAYS: i64 = 730;

/// Channel names; the first is the one the end-to-end test looks for in demo's export.
const CHANNEL_TITLES: &[&str] = &[
    "日本の音楽 🎵 Channel",
    "Kurzgesagt – In a Nutshell",
    "قناة الطبخ العربي",
    "ערוץ המדע הישראלי",
    "3Blue1Brown",
    "한국 요리 🍜 Kitchen",
    "中文编程教室",
    "The \"Quoted\" Show",
    "C:\\Users\\Backslash Tutorials",
    "Café Olé ☕",
    "Lofi Girl 🎧",
    "Τεχνολογία Ελλάδα",
    "Русская музыка 🎶",
    "हिंदी समाचार",
    "Family Vlogs 👨\u{200d}👩\u{200d}👧\u{200d}👦",
    "Numberphile",
    "Technology Connections",
    "Primitive Technology",
    "Stand-up Maths",
    "NileRed",
    "Tom Scott",
    "Binging with Babish",
    "Veritasium",
    "Smarter Every Day",
    "TED-Ed",
];

/// Suffixes that turn the names above into more channels once they run out.
const CHANNEL_SUFFIXES: &[&str] = &["Clips", "Live", "Archive", "Shorts", "Extra"];

/// Video title shapes; `{}` is a topic. The first ones are each used once up front, so a
/// demo history always holds every kind of awkward text.
const VIDEO_TEMPLATES: &[&str] = &[
    "Escaping \"quoted \\ backslash\" in {}",
    "「{}」を徹底解説 🎌",
    "شرح {} بالتفصيل",
    "מדריך {} למתחילים",
    "{}：完整教程",
    "I tried {} for 30 days 😱",
    "C:\\Program Files\\{} — setup guide",
    "The \"{}\" tier list",
    "{} explained in 10 minutes",
    "{} 🔥🔥🔥 #shorts",
    "Why {} matters (and why nobody talks about it)",
    "{} | Живой концерт",
    "{} 👨\u{200d}👩\u{200d}👧\u{200d}👦 weekend vlog",
    "{} — the full story",
    "Reacting to {} 🤯",
];

const TOPICS: &[&str] = &[
    "Rust async",
    "sourdough bread",
    "quantum computing",
    "lo-fi beats",
    "東京の夜景",
    "K-pop dance",
    "chess openings",
    "مطبخ شامي",
    "home espresso",
    "3D printing",
    "black holes",
    "עברית מדוברת",
    "keyboard mods",
    "mechanical watches",
    "北京烤鸭",
    "urban gardening",
    "\"clean code\"",
    "path\\to\\glory",
];

/// A generated channel.
pub(crate) struct Channel {
    pub id: String,
    pub title: String,
    pub custom_url: Option<String>,
    pub active: bool,
    pub added_at: DateTime<Utc>,
}

impl Channel {
    pub fn as_new(&self) -> NewSubscription<'_> {
        NewSubscription {
            channel_id: &self.id,
            channel_title: &self.title,
            channel_custom_url: self.custom_url.as_deref(),
            active: self.active,
            added_at: self.added_at,
        }
    }
}

/// A generated watch-history entry.
pub(crate) struct Video {
    pub id: String,
    pub channel_id: Option<String>,
    pub title: Option<String>,
    pub watched_at: DateTime<Utc>,
}

impl Video {
    pub fn as_new(&self) -> NewWatchedVideo<'_> {
        NewWatchedVideo {
            video_id: &self.id,
            channel_id: self.channel_id.as_deref(),
            title: self.title.as_deref(),
            watched_at: self.watched_at,
        }
    }
}

/// A seeded source of fake data for one user.
pub(crate) struct Faker {
    rng: StdRng,
    seed: u64,
    now: DateTime<Utc>,
}

impl Faker {
    pub fn new(seed: u64, now: DateTime<Utc>) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            seed,
            now,
        }
    }

    /// `count` distinct channels, most of them still subscribed.
    pub fn channels(&mut self, count: usize) -> Vec<Channel> {
        (0..count).map(|i| self.channel(i)).collect()
    }

    /// The videos at positions `range` of a history `total` long, oldest first, watched
    /// mostly on `channels`. Video ids are unique across the whole history.
    pub fn videos(&mut self, range: Range<u64>, total: u64, channels: &[Channel]) -> Vec<Video> {
        let step_us = SPAN_DAYS * 86_400_000_000 / i64::try_from(total.max(1)).unwrap_or(i64::MAX);
        let start = self.now - Duration::days(SPAN_DAYS);

        range
            .map(|index| {
                let offset = step_us * i64::try_from(index).unwrap_or(i64::MAX);
                let jitter = self.rng.random_range(0..step_us.max(1));
                let watched_at = start + Duration::microseconds(offset + jitter);
                self.video(index, watched_at.min(self.now), channels)
            })
            .collect()
    }

    fn channel(&mut self, index: usize) -> Channel {
        let base = CHANNEL_TITLES[index % CHANNEL_TITLES.len()];
        let title = match index / CHANNEL_TITLES.len() {
            0 => base.to_owned(),
            round => format!(
                "{base} {}",
                CHANNEL_SUFFIXES[(round - 1) % CHANNEL_SUFFIXES.len()]
            ),
        };
        let custom_url = (self.rng.random_range(0..100) >= 15).then(|| self.handle(&title));
        let added_at = self.now - Duration::seconds(self.rng.random_range(0..SPAN_DAYS * 86_400));

        Channel {
            id: self.channel_id(index as u64),
            title,
            custom_url,
            active: self.rng.random_range(0..100) >= 10,
            added_at,
        }
    }

    fn video(&mut self, index: u64, watched_at: DateTime<Utc>, channels: &[Channel]) -> Video {
        let template = match usize::try_from(index) {
            Ok(i) if i < VIDEO_TEMPLATES.len() => VIDEO_TEMPLATES[i],
            _ => VIDEO_TEMPLATES[self.rng.random_range(0..VIDEO_TEMPLATES.len())],
        };
        let topic = TOPICS[self.rng.random_range(0..TOPICS.len())];
        let roll = self.rng.random_range(0..100);
        let title = (index < VIDEO_TEMPLATES.len() as u64 || roll >= 2)
            .then(|| template.replace("{}", topic));
        let channel_id = match roll {
            0..=1 => None,
            2..=14 => {
                let unsubscribed = u64::MAX - self.rng.random_range(0..500);
                Some(self.channel_id(unsubscribed))
            }
            _ if channels.is_empty() => None,
            _ => Some(
                channels[self.rng.random_range(0..channels.len())]
                    .id
                    .clone(),
            ),
        };

        Video {
            id: self.video_id(index),
            channel_id,
            title,
            watched_at,
        }
    }

    /// 11 characters holding 64 bits, like YouTube's: ten full characters and a last one
    /// carrying four bits. The bits are a bijective scramble of the index, so ids never
    /// repeat within one history.
    fn video_id(&self, index: u64) -> String {
        let bits = scramble(index.wrapping_add(self.seed));
        let mut id = String::with_capacity(11);
        for i in 0..10 {
            id.push(ALPHABET[((bits >> (58 - 6 * i)) & 0x3f) as usize] as char);
        }
        id.push(ALPHABET[((bits & 0xf) << 2) as usize] as char);
        id
    }

    /// "UC" and 22 characters holding 128 bits, the last character carrying two.
    fn channel_id(&self, index: u64) -> String {
        let high = scramble(index.wrapping_add(self.seed.rotate_left(17)));
        let low = scramble(high ^ self.seed);
        let bits = (u128::from(high) << 64) | u128::from(low);
        let mut id = String::with_capacity(24);
        id.push_str("UC");
        for i in 0..21 {
            id.push(ALPHABET[((bits >> (122 - 6 * i)) & 0x3f) as usize] as char);
        }
        id.push(ALPHABET[((bits & 0x3) << 4) as usize] as char);
        id
    }

    /// An `@handle` from the ASCII letters and digits of a title, or a numbered one.
    fn handle(&mut self, title: &str) -> String {
        let ascii: String = title
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if ascii.len() >= 3 {
            format!("@{ascii}")
        } else {
            format!("@channel{}", self.rng.random_range(1000..100_000))
        }
    }
}

/// The SplitMix64 finalizer: a bijection on `u64` that spreads neighbouring inputs apart.
fn scramble(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn is_youtube_char(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '-' || c == '_'
    }

    #[test]
    fn ids_look_like_youtube_and_never_repeat() {
        let mut faker = Faker::new(7, Utc::now());
        let channels = faker.channels(50);
        let videos = faker.videos(0..20_000, 20_000, &channels);

        let ids: HashSet<_> = videos.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(ids.len(), videos.len());
        assert!(
            videos
                .iter()
                .all(|v| v.id.len() == 11 && v.id.chars().all(is_youtube_char))
        );

        let channel_ids: HashSet<_> = channels.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(channel_ids.len(), 50);
        assert!(channels.iter().all(|c| {
            c.id.len() == 24 && c.id.starts_with("UC") && c.id.chars().all(is_youtube_char)
        }));
        assert!(
            channels
                .iter()
                .flat_map(|c| &c.custom_url)
                .all(|u| u.starts_with('@'))
        );
    }

    #[test]
    fn history_is_oldest_first_within_two_years() {
        let now = Utc::now();
        let mut faker = Faker::new(1, now);
        let videos = faker.videos(0..1_000, 1_000, &[]);

        assert!(
            videos
                .windows(2)
                .all(|w| w[0].watched_at <= w[1].watched_at)
        );
        assert!(videos[0].watched_at >= now - Duration::days(SPAN_DAYS));
        assert!(videos[999].watched_at <= now);
        assert!(videos[999].watched_at >= now - Duration::days(2));
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        let now = Utc::now();
        let first = Faker::new(3, now).videos(0..100, 100, &[]);
        let second = Faker::new(3, now).videos(0..100, 100, &[]);
        assert!(
            first
                .iter()
                .zip(&second)
                .all(|(a, b)| a.id == b.id && a.title == b.title)
        );
    }
}
