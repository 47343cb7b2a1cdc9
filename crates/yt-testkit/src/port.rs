//! Free TCP ports on the loopback interface.

use std::net::TcpListener;

/// Asks the kernel for a port that is free right now.
///
/// The port is released before it is returned, so another process could take it before
/// the caller binds it; the service starters retry on a fresh port when that happens.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("the loopback interface has a free port")
}
