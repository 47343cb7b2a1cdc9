//! The process-wide Prometheus recorder.

use std::sync::Mutex;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use crate::names;

/// Bucket bounds of every `*_duration_seconds` histogram: from a fast HTTP answer
/// (5 ms) to a very large export (10 min).
const DURATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// The recorder could not be built or installed.
#[derive(Debug, thiserror::Error)]
#[error("setting up the metrics recorder: {0}")]
pub struct MetricsError(#[from] BuildError);

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the recorder (once per process; later calls return the same handle) and
/// describes every metric.
///
/// Installing once rather than failing on the second call lets tests build several
/// servers in one process; they then share one registry.
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    let mut slot = HANDLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(handle) = slot.as_ref() {
        return Ok(handle.clone());
    }

    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".to_owned()),
            DURATION_BUCKETS,
        )?
        .install_recorder()?;
    names::describe();

    *slot = Some(handle.clone());
    Ok(handle)
}

/// The registry in Prometheus text format, or `None` before [`install`].
pub fn render() -> Option<String> {
    let slot = HANDLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let handle = slot.as_ref()?;
    // Histograms keep raw samples until upkeep folds them in; a scrape is a good time.
    handle.run_upkeep();
    Some(handle.render())
}
