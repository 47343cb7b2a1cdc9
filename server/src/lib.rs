//! The web server: the Leptos pages and server functions, the JSON API, sessions and
//! downloads, on axum.
//!
//! [`build`] wires everything from [`ServerArgs`] into a router, so the binary and the
//! integration tests run the very same server.

pub mod api;
mod client_addr;
pub mod config;
mod guard;
mod ops;
mod protect;
mod sessions;
pub mod state;

use std::time::Duration;

use anyhow::Context as _;
use axum::{Router, http::StatusCode, middleware, routing::post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{limit::RequestBodyLimitLayer, timeout::TimeoutLayer, trace::TraceLayer};

pub use config::ServerArgs;
pub use state::AppState;

/// The largest request body: credentials and server-function forms are far smaller.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// How long a request may take to produce its answer's status and headers.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Connects to Redis, the database and storage (checking each), and builds the router.
pub async fn build(args: ServerArgs) -> anyhow::Result<Router> {
    yt_metrics::install().context("setting up metrics")?;
    let state = AppState::connect(args).await?;
    let sessions = sessions::layer(&state).context("setting up sessions")?;

    let account = state.account.clone();
    let context = move || {
        provide_context(account.clone());
        protect::page_policy();
    };
    let routes = generate_route_list(app::App);
    let options = state.leptos.clone();

    let server_fns = {
        let context = context.clone();
        move |req| leptos_axum::handle_server_fns_with_context(context.clone(), req)
    };

    let router = Router::new()
        .route("/", axum::routing::get(guard::home))
        .nest("/api", api::router())
        .merge(ops::router())
        .route("/api/fn/{*name}", post(server_fns))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(middleware::from_fn(guard::pages))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            sessions::absolute_expiry,
        ))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            client_addr::resolve,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            protect::same_site_only,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        // Bounds the wait for a response's head only: a long download keeps streaming.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(middleware::from_fn(protect::headers_and_log))
        .layer(middleware::from_fn(ops::count_requests))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    Ok(router)
}
