//! Just enough of the Prometheus text format to read samples back in tests. (The
//! `prometheus-parse` crate cuts label values at the first `}`, as in the route
//! `/api/account/export/status/{job_id}`.)

/// One sample line: `name{labels} value`.
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// One scrape: every sample line.
pub struct Scrape(Vec<Sample>);

impl Scrape {
    pub fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .map(|line| {
                let (series, value) = line.rsplit_once(' ').expect("`series value`");
                let value: f64 = value.parse().expect("a number");
                let Some((name, labels)) = series.split_once('{') else {
                    let (name, labels) = (series.to_owned(), Vec::new());
                    return Sample {
                        name,
                        labels,
                        value,
                    };
                };
                let labels = labels
                    .trim_end_matches('}')
                    .split("\",")
                    .filter(|pair| !pair.is_empty())
                    .map(|pair| {
                        let (key, value) = pair.split_once('=').expect("key=\"value\"");
                        (key.to_owned(), value.trim_matches('"').to_owned())
                    })
                    .collect();
                let name = name.to_owned();
                Sample {
                    name,
                    labels,
                    value,
                }
            })
            .collect();
        Self(samples)
    }

    /// The sum of every series of `name` that has all of `labels` (0 when none).
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0
            .iter()
            .filter(|sample| {
                sample.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| sample.labels.iter().any(|(hk, hv)| hk == k && hv == v))
            })
            .map(|sample| sample.value)
            .sum()
    }

    /// Whether any series of `name` exists.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|sample| sample.name == name)
    }
}

/// Scrapes `{base}/metrics`.
pub async fn scrape(base: &str) -> Scrape {
    Scrape::parse(&super::get_text(&format!("{base}/metrics")).await)
}

/// Scrapes `bases` until the counter `name` with `labels` sums to `expected` over all of
/// them (a job is counted once its email is sent, just after its status says completed).
pub async fn wait_for_total(bases: &[String], name: &str, labels: &[(&str, &str)], expected: f64) {
    let mut total = 0.0;
    for _ in 0..100 {
        total = 0.0;
        for base in bases {
            total += scrape(base).await.sum(name, labels);
        }
        if total == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{name} {labels:?} stayed at {total}, expected {expected}");
}
