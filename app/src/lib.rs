//! The account area as a Leptos app: server-rendered, then hydrated in the browser.
//!
//! Pages: `/login` and `/account`. The account page shows the user's profile summary, the
//! **Export my data** button and the latest export job, polling its status through a
//! server function while it runs. Every form also works before the WASM has loaded: it
//! posts, and the server redirects back to a page that shows the new state.
//!
//! Server functions ([`api`]) call `yt_account::Account`, the same service the JSON API
//! uses, and live under `/api/fn/`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
mod error;
mod export_panel;
mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

pub use error::AppError;

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    // Tests wait for this flag before they click: it turns true once the WASM runs.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href="/pkg/yt-export.css" />
        <Title text="Your data · YouTube Feed Aggregator" />
        <Router>
            <header class="site-header">
                <span class="brand">"YouTube Feed Aggregator"</span>
            </header>
            <main id="root" data-hydrated=move || hydrated.get().to_string()>
                <Routes fallback=pages::NotFound>
                    <Route path=StaticSegment("login") view=pages::LoginPage />
                    <Route path=StaticSegment("account") view=pages::AccountPage />
                </Routes>
            </main>
        </Router>
    }
}
