//! Loopback ports that accept and close every connection (the agents of a
//! simulated cluster), and the open-file limit raised for holding many.

#![allow(dead_code)] // each bench uses the parts it needs

use std::net::TcpListener;

/// Raises this process's soft `RLIMIT_NOFILE` to its hard limit; returns it.
pub fn raise_open_file_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read or write the struct given.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0, "getrlimit");
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    limit.rlim_cur
}

/// Listeners on `ports` that take every connection and drop it at once, on
/// their own runtime (so a full accept queue never turns into dropped SYNs).
/// Ports that cannot be bound (someone else has them) are left out.
pub struct Accepting {
    pub ports: Vec<u16>,
    _runtime: tokio::runtime::Runtime,
}

impl Accepting {
    pub fn start(ports: impl IntoIterator<Item = u16>) -> Accepting {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_io()
            .build()
            .expect("a runtime for the listeners");
        let mut bound = Vec::new();
        for port in ports {
            let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) else { continue };
            listener.set_nonblocking(true).expect("non-blocking");
            bound.push(port);
            runtime.spawn(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                while let Ok((stream, _)) = listener.accept().await {
                    drop(stream);
                }
            });
        }
        Accepting { ports: bound, _runtime: runtime }
    }
}

/// Loopback ports below the ephemeral range (so a probe's own source port
/// can never be the port it connects to) that nothing listens on now.
pub fn closed_ports(range: std::ops::Range<u16>, skip: &[u16]) -> Vec<u16> {
    let skip: std::collections::HashSet<u16> = skip.iter().copied().collect();
    range.filter(|p| !skip.contains(p) && TcpListener::bind(("127.0.0.1", *p)).is_ok()).collect()
}
