//! Azure Storage "Shared Key" signing, just enough to create a container on Azurite
//! (opendal writes blobs but does not manage containers).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const API_VERSION: &str = "2021-08-06";

/// The `x-ms-date`, `x-ms-version` and `Authorization` headers of a bodiless request on
/// the path-style endpoint (`/{account}/{container}?{query}`).
pub(crate) fn shared_key_headers(
    method: &str,
    account: &str,
    key: &str,
    path_and_query: &str,
) -> Vec<(String, String)> {
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));

    let mut params: Vec<(&str, &str)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    params.sort();
    // Path-style: the account appears twice, once as the account, once in the path.
    let mut resource = format!("/{account}{path}");
    for (name, value) in params {
        resource.push_str(&format!("\n{}:{value}", name.to_ascii_lowercase()));
    }

    let string_to_sign = format!(
        "{method}\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{API_VERSION}\n{resource}"
    );
    let secret = STANDARD.decode(key).expect("a base64 account key");
    let mut mac = Hmac::<Sha256>::new_from_slice(&secret).expect("any key length");
    mac.update(string_to_sign.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());

    vec![
        ("x-ms-date".into(), date),
        ("x-ms-version".into(), API_VERSION.into()),
        (
            "Authorization".into(),
            format!("SharedKey {account}:{signature}"),
        ),
    ]
}
