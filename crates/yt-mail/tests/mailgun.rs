//! The Mailgun transport against a local stand-in for Mailgun's sending API.
//!
//! Mailgun itself cannot run here, so each test starts a small HTTP server on port 0
//! that checks what Mailgun checks (method, path, basic auth) the way Mailgun does,
//! answers as the test asks, and records every request for the test to inspect.

use std::sync::{Arc, Mutex};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use yt_mail::{MailError, Mailer, MailgunApiKey};

const DOMAIN: &str = "mg.example.com";
const KEY: &str = "key-test-123";
/// `base64("api:key-test-123")`, worked out by hand so the test does not share the
/// encoder with the code under test.
const EXPECTED_AUTH: &str = "Basic YXBpOmtleS10ZXN0LTEyMw==";
const FROM: &str = "Exports <no-reply@example.com>";

/// One request as the stand-in received it.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    fields: Vec<(String, String)>,
}

#[derive(Clone)]
struct Stub {
    /// What to answer a well-formed, authorized request with.
    answer: (StatusCode, &'static str),
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    /// Starts the stand-in; returns its base URL and the requests it will see.
    async fn start(status: StatusCode, body: &'static str) -> (String, Arc<Mutex<Vec<Seen>>>) {
        let stub = Self {
            answer: (status, body),
            seen: Arc::default(),
        };
        let seen = stub.seen.clone();
        let app = Router::new().fallback(answer).with_state(stub);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base_url, seen)
    }
}

async fn answer(
    State(stub): State<Stub>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name| {
        headers
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let seen = Seen {
        method,
        path: uri.path().to_owned(),
        authorization: header(header::AUTHORIZATION),
        content_type: header(header::CONTENT_TYPE),
        fields: url::form_urlencoded::parse(&body).into_owned().collect(),
    };
    stub.seen.lock().unwrap().push(seen.clone());

    if seen.method != Method::POST || seen.path != format!("/v3/{DOMAIN}/messages") {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    if seen.authorization.as_deref() != Some(EXPECTED_AUTH) {
        return (StatusCode::UNAUTHORIZED, "Forbidden").into_response();
    }
    let (status, body) = stub.answer;
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn mailer(key: &str, base_url: &str) -> Mailer {
    Mailer::mailgun(MailgunApiKey::new(key), DOMAIN, base_url, FROM).unwrap()
}

async fn send(mailer: &Mailer) -> Result<yt_mail::SentMail, MailError> {
    mailer
        .send(
            "reader@example.net",
            "Your export is ready",
            "Download: https://example.com/d/1 — 3 files".to_owned(),
            "<p>Download <a href=\"https://example.com/d/1?a=1&b=2\">here</a> ü</p>".to_owned(),
            "job-42",
        )
        .await
}

#[tokio::test]
async fn a_good_send_posts_exactly_the_message_fields() {
    let accepted = r#"{"id": "<20261203.1@mg.example.com>", "message": "Queued. Thank you."}"#;
    let (base_url, seen) = Stub::start(StatusCode::OK, accepted).await;

    let sent = send(&mailer(KEY, &base_url)).await.unwrap();

    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = &requests[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/v3/mg.example.com/messages");
    assert_eq!(request.authorization.as_deref(), Some(EXPECTED_AUTH));
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );

    let expected = [
        ("from", FROM),
        ("to", "reader@example.net"),
        ("subject", "Your export is ready"),
        ("text", "Download: https://example.com/d/1 — 3 files"),
        (
            "html",
            "<p>Download <a href=\"https://example.com/d/1?a=1&b=2\">here</a> ü</p>",
        ),
        ("h:Message-Id", sent.message_id.as_str()),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    assert_eq!(request.fields, expected);

    assert!(
        sent.message_id.starts_with("<export.job-42."),
        "{}",
        sent.message_id
    );
    assert!(
        sent.message_id.ends_with("@example.com>"),
        "{}",
        sent.message_id
    );
    assert_eq!(
        sent.provider_id.as_deref(),
        Some("<20261203.1@mg.example.com>")
    );
    assert_eq!(sent.outbox_file, None);
}

#[tokio::test]
async fn an_accepted_message_with_an_unreadable_answer_is_still_sent() {
    let (base_url, seen) = Stub::start(StatusCode::OK, "OK").await;

    let sent = send(&mailer(KEY, &base_url)).await.unwrap();

    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(sent.provider_id, None);
}

#[tokio::test]
async fn a_wrong_key_is_refused_for_good() {
    let (base_url, seen) = Stub::start(StatusCode::OK, "{}").await;

    let error = send(&mailer("key-wrong", &base_url)).await.unwrap_err();

    assert!(
        matches!(error, MailError::Mailgun { status: 401, .. }),
        "{error:?}"
    );
    assert!(!error.is_transient(), "{error}");
    assert!(!error.to_string().contains("key-wrong"), "{error}");
    let auth = seen.lock().unwrap()[0].authorization.clone();
    assert_eq!(auth.as_deref(), Some("Basic YXBpOmtleS13cm9uZw=="));
}

#[tokio::test]
async fn a_refused_message_is_permanent_and_keeps_mailgun_reason() {
    let refused =
        r#"{"message": "'to' parameter is not a valid address. please check documentation"}"#;
    let (base_url, _seen) = Stub::start(StatusCode::BAD_REQUEST, refused).await;

    let error = send(&mailer(KEY, &base_url)).await.unwrap_err();

    assert!(!error.is_transient(), "{error}");
    assert_eq!(
        error.to_string(),
        "Mailgun answered 400: 'to' parameter is not a valid address. please check documentation"
    );
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_transient() {
    for status in [
        StatusCode::SERVICE_UNAVAILABLE,
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let (base_url, seen) = Stub::start(status, r#"{"message": "try later"}"#).await;

        let error = send(&mailer(KEY, &base_url)).await.unwrap_err();

        assert!(error.is_transient(), "{status}: {error}");
        match error {
            MailError::Mailgun {
                status: got,
                message,
            } => {
                assert_eq!(got, status.as_u16());
                assert_eq!(message, "try later");
            }
            other => panic!("{status}: {other:?}"),
        }
        assert_eq!(seen.lock().unwrap().len(), 1, "no retry inside yt-mail");
    }
}

#[tokio::test]
async fn no_server_listening_is_transient() {
    let base_url = format!("http://127.0.0.1:{}", yt_testkit::free_port());

    let error = send(&mailer(KEY, &base_url)).await.unwrap_err();

    assert!(matches!(error, MailError::MailgunRequest(_)), "{error:?}");
    assert!(error.is_transient(), "{error}");
}

#[test]
fn debug_of_a_mailgun_mailer_hides_the_key() {
    let mailer = Mailer::mailgun(
        MailgunApiKey::new("key-0123456789abcdef"),
        DOMAIN,
        "https://api.eu.mailgun.net",
        FROM,
    )
    .unwrap();

    let debug = format!("{mailer:?}");

    assert!(!debug.contains("0123456789abcdef"), "{debug}");
    assert!(debug.contains("mailgun"), "{debug}");
    assert_eq!(mailer.transport_name(), "mailgun");
}
