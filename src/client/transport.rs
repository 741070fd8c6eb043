//! The transport of measured requests: hyper's pooled HTTP/1.1 client (TLS by rustls) over
//! TCP sockets that ask the kernel to timestamp received data (`SO_TIMESTAMPNS`). Each
//! connection keeps when the bytes of its last read reached the host, and every response
//! carries that [`ArrivalClock`]: a chunk is timed at its arrival, not when a busy client
//! got round to reading it, so a thousand tokens landing in the same millisecond are timed
//! apart as the kernel saw them. Where the kernel gives no timestamp (another OS, an
//! option refused), the read's own `Instant::now()` is kept.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use nix::sys::socket::{recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags};
use tokio::io::{AsyncWrite, Interest};
use tokio::net::TcpStream;

/// Bytes read per call (hyper asks for less when its buffer is fuller).
const READ_CHUNK: usize = 16 * 1024;

/// Where reads land before hyper's buffer takes them, and the control message beside them:
/// one per thread, so that ten thousand connections do not hold a read buffer each.
struct Scratch {
    data: Vec<u8>,
    control: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch {
        data: vec![0; READ_CHUNK],
        control: nix::cmsg_space!(nix::sys::time::TimeSpec),
    });
}

/// When the bytes of a connection's latest read reached the host.
#[derive(Debug, Default)]
pub struct ArrivalClock(Mutex<Option<Instant>>);

impl ArrivalClock {
    /// The arrival of the latest read's bytes, if a read has happened.
    pub fn latest(&self) -> Option<Instant> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, at: Instant) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(at);
    }
}

/// A kernel receive timestamp (CLOCK_REALTIME) as an `Instant`; `None` when it is not
/// a moment of the last minute (a clock step, a bogus value).
fn arrival_instant(stamp: Duration) -> Option<Instant> {
    let (now, now_real) = (Instant::now(), SystemTime::now());
    let age = now_real
        .duration_since(SystemTime::UNIX_EPOCH + stamp)
        .ok()?;
    (age < Duration::from_secs(60))
        .then(|| now.checked_sub(age))
        .flatten()
}

/// A TCP stream whose reads record their arrival in an [`ArrivalClock`].
pub struct TimedStream {
    io: TcpStream,
    clock: Arc<ArrivalClock>,
}

impl TimedStream {
    fn new(io: TcpStream) -> Self {
        // Without the option the stream still works; reads are then timed as they return.
        let _ = setsockopt(&io, sockopt::ReceiveTimestampns, &true);
        Self {
            io,
            clock: Arc::default(),
        }
    }

    /// One `recvmsg` of up to `len` bytes into `scratch`: how many were read and the
    /// kernel's timestamp of them.
    fn receive(&self, scratch: &mut Scratch, len: usize) -> io::Result<(usize, Option<Duration>)> {
        let fd = self.io.as_raw_fd();
        self.io.try_io(Interest::READABLE, || {
            let mut iov = [io::IoSliceMut::new(&mut scratch.data[..len])];
            let msg = recvmsg::<()>(fd, &mut iov, Some(&mut scratch.control), MsgFlags::empty())
                .map_err(io::Error::from)?;
            let stamp = msg.cmsgs().ok().and_then(|mut c| {
                c.find_map(|m| match m {
                    ControlMessageOwned::ScmTimestampns(ts) => Some(Duration::from(ts)),
                    _ => None,
                })
            });
            Ok((msg.bytes, stamp))
        })
    }
}

impl Read for TimedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let len = buf.remaining().min(READ_CHUNK);
        loop {
            ready!(self.io.poll_read_ready(cx))?;
            let read: io::Result<()> = SCRATCH.with_borrow_mut(|scratch| {
                let (n, stamp) = self.receive(scratch, len)?;
                if n > 0 {
                    let at = stamp.and_then(arrival_instant).unwrap_or_else(Instant::now);
                    self.clock.set(at);
                }
                buf.put_slice(&scratch.data[..n]);
                Ok(())
            });
            match read {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                done => return Poll::Ready(done),
            }
        }
    }
}

impl Write for TimedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

impl Connection for TimedStream {
    /// Every response on this connection carries its clock.
    fn connected(&self) -> Connected {
        Connected::new().extra(self.clock.clone())
    }
}

/// Connects like hyper's [`HttpConnector`] (no Nagle delay) and returns [`TimedStream`]s.
#[derive(Clone)]
pub struct TimedConnector(HttpConnector);

impl TimedConnector {
    pub fn new(connect_timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        Self(http)
    }
}

impl tower_service::Service<Uri> for TimedConnector {
    type Response = TimedStream;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Pin<Box<dyn Future<Output = Result<TimedStream, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.0.call(uri);
        Box::pin(async move {
            let stream: TokioIo<TcpStream> = connecting.await?;
            Ok(TimedStream::new(stream.into_inner()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_timestamps_become_instants_in_the_past() {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap();
        let at = arrival_instant(now - Duration::from_millis(5)).unwrap();
        assert!(at <= Instant::now());
        assert!(arrival_instant(now - Duration::from_secs(3600)).is_none());
        assert!(arrival_instant(now + Duration::from_secs(3600)).is_none());
    }
}
