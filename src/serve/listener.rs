//! The HTTP/1.1 server (hyper) around [`Served`]: at most so many
//! connections at once (more wait in the kernel's backlog), a time limit on
//! each request's head (slow or idle clients are closed: no slowloris), a
//! cap on its size, an age after which a connection is closed between
//! requests (a client that never reads its answer lets go of its slot), and
//! a graceful stop.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use super::routes::Served;

/// The time a client has to send a request's head (and, with TLS, to
/// finish the handshake); also how long an idle connection stays open.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a request's head may hold (request line and headers).
const MAX_HEAD: usize = 16 * 1024;
/// A connection older than this is closed once its request is answered.
const CONNECTION_AGE: Duration = Duration::from_secs(60);
/// How long a connection told to close may take to finish its answer.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// Serves connections from `listener` until `stopping` is set, then lets
/// the open ones finish their answers (at most [`CLOSE_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    served: Arc<Served>,
    max_connections: u32,
    mut stopping: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(max_connections as usize));
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(connection(stream, tls.clone(), served.clone(), stopping.clone(), slot));
            }
            // Out of file descriptors, or a connection reset before it was
            // accepted: try again shortly rather than spin.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(CLOSE_GRACE + Duration::from_secs(1), slots.acquire_many(max_connections)).await;
}

async fn connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    served: Arc<Served>,
    stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => http(stream, served, stopping).await,
        Some(acceptor) => {
            if let Ok(Ok(stream)) = tokio::time::timeout(HEAD_TIMEOUT, acceptor.accept(stream)).await {
                http(stream, served, stopping).await;
            }
        }
    }
}

async fn http<S>(io: S, served: Arc<Served>, mut stopping: watch::Receiver<bool>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let served = served.clone();
        async move {
            // The body is never read: the server answers requests without one.
            let (parts, _body) = request.into_parts();
            Ok::<_, Infallible>(served.answer(&parts).await)
        }
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEAD_TIMEOUT).max_buf_size(MAX_HEAD);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        () = tokio::time::sleep(CONNECTION_AGE) => {}
        _ = stopping.wait_for(|stop| *stop) => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(CLOSE_GRACE, connection).await;
}
