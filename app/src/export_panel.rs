//! The export panel: the button, the latest job, and live progress while it runs.

use std::time::Duration;

use leptos::prelude::*;
use yt_jobs::{JobStatus, JobView};

use crate::{
    AppError,
    api::{RequestExport, export_status},
};

/// How often the page asks for the job's status while it runs.
const POLL_EVERY: Duration = Duration::from_secs(1);

#[component]
pub fn ExportPanel(
    initial: Option<JobView>,
    request: ServerAction<RequestExport>,
) -> impl IntoView {
    let job = RwSignal::new(initial);
    let poll_failures = RwSignal::new(0u32);

    // While the job is pending or processing, fetch its status a second after each
    // update; once it is completed or failed, no further request is scheduled.
    Effect::new(move |_| {
        poll_failures.track();
        let Some(current) = job.get() else { return };
        if !current.status.is_active() {
            return;
        }
        let id = current.job_id;
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    match export_status(id).await {
                        Ok(view) => {
                            job.try_set(Some(view));
                        }
                        Err(_) => {
                            poll_failures.try_update(|n| *n += 1);
                        }
                    }
                });
            },
            POLL_EVERY,
        );
    });

    let active = move || job.read().as_ref().is_some_and(|j| j.status.is_active());
    let request_error = move || match request.value().get() {
        Some(Err(AppError::RateLimited { retry_at })) => Some(format!(
            "You can request another export at {}.",
            format_clock(&retry_at)
        )),
        Some(Err(error)) => Some(error.to_string()),
        _ => None,
    };

    view! {
        <section class="card export" id="export">
            <h2>"Export my data"</h2>
            <p class="muted">
                "Download a ZIP of everything we hold about you: your profile, "
                "channel subscriptions and watch history. We email you a link when it is ready."
            </p>
            <ActionForm action=request attr:id="export-form">
                <button
                    type="submit"
                    id="export-button"
                    disabled=move || active() || request.pending().get()
                >
                    "Export my data"
                </button>
            </ActionForm>
            {move || request_error().map(|message| view! { <p class="error" role="alert" id="export-error">{message}</p> })}
            {move || job.get().map(|job| view! { <JobStatusView job request /> })}
            {move || {
                (poll_failures.get() > 0 && active())
                    .then(|| view! { <p class="muted" id="poll-warning">"Reconnecting…"</p> })
            }}
        </section>
    }
}

#[component]
fn JobStatusView(job: JobView, request: ServerAction<RequestExport>) -> impl IntoView {
    let created = format_time(&job.created_at);
    let body = match job.status {
        JobStatus::Pending | JobStatus::Processing => {
            let percent = job.progress.percent;
            view! {
                <p id="job-status" data-status=job.status.as_str()>
                    {if job.status == JobStatus::Pending { "Waiting in line" } else { "In progress" }}
                </p>
                <progress id="export-progress" max="100" value=percent.to_string()>
                    {format!("{percent}%")}
                </progress>
                <p id="export-progress-label">
                    {job.progress.label.clone()} " (" {percent} "%)"
                </p>
            }
            .into_any()
        }
        JobStatus::Completed if job.expired => view! {
            <p id="job-status" data-status="expired">
                "This export has expired and was deleted. Request a new one above."
            </p>
        }
        .into_any(),
        JobStatus::Completed => {
            let expires = job.expires_at.as_ref().map(format_time).unwrap_or_default();
            view! {
                <p id="job-status" data-status="completed">"Your export is ready."</p>
                <p>
                    <a id="download-link" class="button" href=job.download_url.clone() download>
                        "Download ZIP"
                    </a>
                </p>
                <p class="muted" id="export-expires">"Available until " {expires}</p>
            }
            .into_any()
        }
        JobStatus::Failed => view! {
            <p id="job-status" data-status="failed">"The export failed."</p>
            <p class="error" id="export-failure">{job.error.clone().unwrap_or_default()}</p>
            <ActionForm action=request attr:id="retry-form">
                <button type="submit" id="retry-button" disabled=move || request.pending().get()>
                    "Try again"
                </button>
            </ActionForm>
        }
        .into_any(),
    };

    view! {
        <div class="job" id="job" data-job-id=job.job_id.clone()>
            <p class="muted">"Requested " {created}</p>
            {body}
        </div>
    }
}

/// `HH:MM UTC`, from the time the server sent: the browser has no clock to consult here,
/// and the text is the same wherever it is rendered.
fn format_clock(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%H:%M UTC").to_string()
}

/// The same text on the server and in the browser, so hydration matches.
fn format_time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}
