//! The streaming HTTP client: framing (SSE, NDJSON), one adapter per server dialect
//! (request paths and bodies, the reading of each event), and [`send`], which performs one
//! timed exchange. The client only measures; statistics live in `metrics`.

mod adapters;
mod chunk;
mod clients;
mod error;
mod exchange;
mod framing;
mod send;
mod side_call;
pub mod sse;
mod timer;
mod transport;

pub use adapters::{adapter_for, Adapter, GenerationParams, Prompt};
pub use chunk::{ChunkInfo, Usage};
pub use clients::{build_http_client, request_uri, ClientError, StreamClient};
pub use error::{ErrorKind, RequestError};
pub use exchange::Exchange;
pub use framing::Framing;
pub use send::{send, Sending};
pub use side_call::{json_call, SideCallError, SideCallFailure};
pub use timer::StreamTimer;
