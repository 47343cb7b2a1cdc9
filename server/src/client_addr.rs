//! Who the client is, for the limits that count per address.
//!
//! The socket peer is the client unless it is a trusted proxy (`YT_TRUSTED_PROXIES`).
//! Then `X-Forwarded-For` is read from the right, skipping our own proxies: the first
//! hop that is not one of them is the client, since everything left of it could have
//! been written by the client itself. `X-Real-IP` serves when there is no
//! `X-Forwarded-For`. The answer is stored as [`ClientAddr`] in the request's
//! extensions, where the JSON API and the server functions find it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;
use yt_account::ClientAddr;

use crate::AppState;

/// Resolves the client address of every request.
pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // A server run without connect info (never the binary) counts everyone as one client.
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
    let client = client_addr(peer, request.headers(), &state.args.limits.trusted_proxies);
    request.extensions_mut().insert(ClientAddr(client));
    next.run(request).await
}

/// The client's address, given the socket peer, the headers and the trusted proxies.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }

    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    if !forwarded.is_empty() {
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            // A hop that is no address ends the trusted chain; the last good one stands.
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = canonical(ip);
            if !is_trusted(&client) {
                break;
            }
        }
        return client;
    }

    headers
        .get("x-real-ip")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<IpAddr>().ok())
        .map_or(peer, canonical)
}

/// IPv4 addresses seen through an IPv6 socket compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};
    use yt_config::parse_network;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn proxies() -> Vec<IpNet> {
        ["127.0.0.1", "10.0.0.0/8"]
            .into_iter()
            .map(|raw| parse_network(raw).unwrap())
            .collect()
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-real-ip", "5.6.7.8")]);
        assert_eq!(
            client_addr(ip("203.0.113.9"), &spoofed, &proxies()),
            ip("203.0.113.9")
        );
        assert_eq!(client_addr(ip("127.0.0.1"), &spoofed, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        // The client wrote 6.6.6.6 itself; nginx appended the real peer 198.51.100.7,
        // then an inner proxy of ours appended itself.
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.2.3")]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &chain, &proxies()),
            ip("198.51.100.7")
        );

        let split = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(
            client_addr(ip("10.9.9.9"), &split, &proxies()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn garbage_and_all_trusted_chains_fall_back_safely() {
        let garbage = headers(&[("x-forwarded-for", "6.6.6.6, not-an-ip")]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &garbage, &proxies()),
            ip("127.0.0.1")
        );

        let ours = headers(&[("x-forwarded-for", "10.0.0.1, 10.0.0.2")]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &ours, &proxies()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn x_real_ip_serves_without_x_forwarded_for() {
        let real = headers(&[("x-real-ip", "198.51.100.7")]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &real, &proxies()),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(ip("::ffff:127.0.0.1"), &real, &proxies()),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_addr(ip("127.0.0.1"), &HeaderMap::new(), &proxies()),
            ip("127.0.0.1")
        );
    }
}
