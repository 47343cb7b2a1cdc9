//! `/login`: email and password.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || {
        query
            .read()
            .get("next")
            .unwrap_or_else(|| "/account".to_owned())
    };
    let failed_before = move || query.read().get("failed").is_some();

    let login = ServerAction::<Login>::new();
    let error = move || match login.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(_)) => None,
        None => failed_before().then(|| crate::AppError::BadCredentials.to_string()),
    };

    // Signed in: leave with a full page load, so `next` may be any URL of the site.
    Effect::new(move |_| {
        if let Some(Ok(next)) = login.value().get() {
            let _ = window().location().assign(&next);
        }
    });

    view! {
        <section class="card login">
            <h1>"Sign in"</h1>
            <p class="muted">"Sign in to see and export your data."</p>
            <ActionForm action=login attr:id="login-form">
                <input type="hidden" name="next" prop:value=next />
                <label>
                    "Email"
                    <input type="email" name="email" id="email" autocomplete="username" required />
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        id="password"
                        autocomplete="current-password"
                        required
                    />
                </label>
                <button type="submit" id="login-submit" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            {move || error().map(|message| view! { <p class="error" role="alert" id="login-error">{message}</p> })}
        </section>
    }
}
