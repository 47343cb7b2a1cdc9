//! What every request passes before a handler: the cross-site check, the security
//! headers, and one log line for each request we refuse.
//!
//! The cross-site check trusts the browser's own account of where a request comes from.
//! `Sec-Fetch-Site` decides when present (`same-origin` and `none`, a typed URL or a
//! bookmark, pass); without it `Origin` must name this site, either the public origin
//! (`YT_EXPORT_URL_BASE`) or the `Host` the request was sent to. A request with neither
//! header comes from no browser (curl, scripts, our tests), carries no ambient cookie a
//! page elsewhere could abuse, and passes. Only unsafe methods are checked: every
//! state-changing route (login, logout, export requests, server functions) is a POST.

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use leptos::prelude::use_context;

use crate::{AppState, api::ApiError};

/// The policy for every page and answer. Scripts come from this site only, plus the
/// inline hydration script carrying the page's nonce; `'wasm-unsafe-eval'` lets the
/// browser compile our WASM and nothing else.
fn content_security_policy(nonce: Option<&str>) -> String {
    let inline = nonce.map(|n| format!(" 'nonce-{n}'")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{inline} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Called while Leptos renders a page: puts the policy allowing this page's nonce on
/// the response (Leptos adds the nonce to the scripts it writes).
pub fn page_policy() {
    let nonce = leptos::nonce::use_nonce();
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let policy = content_security_policy(nonce.as_deref());
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Refuses cross-site unsafe requests with 403.
pub async fn same_site_only(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || from_this_site(request.headers(), &public_origin(&state))
    {
        return next.run(request).await;
    }
    ApiError::CrossSite.into_response()
}

/// `scheme://host[:port]` of `YT_EXPORT_URL_BASE`, as browsers write `Origin`.
fn public_origin(state: &AppState) -> String {
    state.args.export.url_base.origin().ascii_serialization()
}

fn from_this_site(headers: &HeaderMap, public_origin: &str) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };

    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = text(header::ORIGIN) else {
        return true;
    };
    if origin.eq_ignore_ascii_case(public_origin) {
        return true;
    }
    let host = text(header::HOST);
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
}

/// Adds the security headers to every response, and logs each refused request once,
/// naming the route pattern (never the path as sent, which may hold anything).
pub async fn headers_and_log(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());

    let mut response = next.run(request).await;

    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        let policy = content_security_policy(None);
        if let Ok(value) = HeaderValue::from_str(&policy) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
    }
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }

    let status = response.status();
    if status.is_client_error() {
        tracing::info!(
            http.method = %method,
            http.route = route.as_deref().unwrap_or("(none)"),
            http.status = status.as_u16(),
            "request refused"
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        let ours = "https://feeds.example";
        assert!(from_this_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            ours
        ));
        assert!(from_this_site(
            &headers(&[("sec-fetch-site", "none")]),
            ours
        ));
        for site in ["cross-site", "same-site"] {
            let h = headers(&[("sec-fetch-site", site), ("origin", ours)]);
            assert!(!from_this_site(&h, ours), "{site}");
        }
    }

    #[test]
    fn origin_must_be_ours_or_the_host() {
        let ours = "https://feeds.example";
        assert!(from_this_site(&headers(&[("origin", ours)]), ours));
        let host = headers(&[
            ("origin", "http://127.0.0.1:8000"),
            ("host", "127.0.0.1:8000"),
        ]);
        assert!(from_this_site(&host, ours));
        for origin in ["https://evil.example", "null", "https://feeds.example.evil"] {
            let h = headers(&[("origin", origin), ("host", "feeds.example")]);
            assert!(!from_this_site(&h, ours), "{origin}");
        }
        assert!(
            from_this_site(&HeaderMap::new(), ours),
            "no browser, no check"
        );
    }
}
