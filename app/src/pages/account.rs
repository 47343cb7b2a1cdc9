//! `/account`: the profile summary and the data export.

use leptos::prelude::*;

use crate::{
    api::{Logout, RequestExport, get_account},
    export_panel::ExportPanel,
};

#[component]
pub fn AccountPage() -> impl IntoView {
    let request = ServerAction::<RequestExport>::new();
    let logout = ServerAction::<Logout>::new();

    // Reloads after each export request, so the panel shows the new job.
    let account = Resource::new(move || request.version().get(), |_| get_account());

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(account) => {
                        let name = account
                            .display_name
                            .clone()
                            .unwrap_or_else(|| account.email.clone());
                        view! {
                            <section class="card profile" id="profile">
                                <h1>"Your account"</h1>
                                <dl>
                                    <dt>"Name"</dt>
                                    <dd id="profile-name">{name}</dd>
                                    <dt>"Email"</dt>
                                    <dd id="profile-email">{account.email.clone()}</dd>
                                    <dt>"Subscriptions"</dt>
                                    <dd id="profile-subscriptions">
                                        {yt_jobs::thousands(account.subscriptions)}
                                    </dd>
                                    <dt>"Watched videos"</dt>
                                    <dd id="profile-watched">
                                        {yt_jobs::thousands(account.watched_videos)}
                                    </dd>
                                </dl>
                                <ActionForm action=logout attr:class="inline">
                                    <button type="submit" class="secondary" id="logout">
                                        "Sign out"
                                    </button>
                                </ActionForm>
                            </section>
                            <ExportPanel initial=account.latest_job request />
                        }
                            .into_any()
                    }
                    Err(error) => {
                        view! {
                            <section class="card">
                                <p class="error" role="alert">{error.to_string()}</p>
                                <p><a href="/login?next=/account">"Sign in"</a></p>
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}
