//! The pages of the account area.

mod account;
mod login;

use leptos::prelude::*;

pub use account::AccountPage;
pub use login::LoginPage;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a href="/account">"Go to your account"</a></p>
        </section>
    }
}
