//! The web server: the Leptos pages and server functions, the JSON API, sessions and
//! downloads, on axum.
//!
//! [`build`] wires everything from [`ServerArgs`] into a router, so the binary and the
//! integration tests run the very same server.

pub mod api;
pub mod config;
mod guard;
mod sessions;
pub mod state;

use anyhow::Context as _;
use axum::{Router, routing::post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::TraceLayer;

pub use config::ServerArgs;
pub use state::AppState;

/// Connects to Redis, the database and storage (checking each), and builds the router.
pub async fn build(args: ServerArgs) -> anyhow::Result<Router> {
    let state = AppState::connect(args).await?;
    let sessions = sessions::layer(&state).context("setting up sessions")?;

    let account = state.account.clone();
    let context = move || provide_context(account.clone());
    let routes = generate_route_list(app::App);
    let options = state.leptos.clone();

    let server_fns = {
        let context = context.clone();
        move |req| leptos_axum::handle_server_fns_with_context(context.clone(), req)
    };

    let router = Router::new()
        .route("/", axum::routing::get(guard::home))
        .nest("/api", api::router())
        .route("/api/fn/{*name}", post(server_fns))
        .leptos_routes_with_context(&state, routes, context, move || app::shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        .layer(axum::middleware::from_fn(guard::pages))
        .layer(sessions)
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    Ok(router)
}
