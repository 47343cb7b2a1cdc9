//! Pages that need a signed-in user send everyone else to the login page first.

use axum::{
    extract::Request,
    http::{Method, Uri},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use tower_sessions::Session;

/// Pages only a signed-in user may see.
const PRIVATE_PAGES: &[&str] = &["/account"];

/// `/` leads to the account page (or to login, through the guard).
pub async fn home() -> Redirect {
    Redirect::to("/account")
}

/// Redirects anonymous visitors of private pages to `/login?next=<page>`, and signed-in
/// visitors of `/login` on to where they were going.
pub async fn pages(session: Session, request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let path = request.uri().path();
    let private = PRIVATE_PAGES.contains(&path);
    if !private && path != "/login" {
        return next.run(request).await;
    }

    let signed_in = match app::auth::current_user(&session).await {
        Ok(user) => user.is_some(),
        Err(_) => return next.run(request).await,
    };
    match (private, signed_in) {
        (true, false) => login_redirect(request.uri()).into_response(),
        (false, true) => {
            let next_page = next_param(request.uri());
            Redirect::to(&app::auth::safe_next(next_page.as_deref())).into_response()
        }
        _ => next.run(request).await,
    }
}

/// `/login?next=<this page>`.
pub fn login_redirect(uri: &Uri) -> Redirect {
    let target = uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/account");
    let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}"))
}

fn next_param(uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "next")
        .map(|(_, value)| value.into_owned())
}
