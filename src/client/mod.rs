//! The streaming HTTP client: SSE framing, the OpenAI response format, one adapter per API
//! flavour (request bodies), and [`send`], which performs one timed exchange. The client
//! only measures; statistics live in `metrics`.

mod adapter;
mod chat;
mod clients;
mod completions;
mod error;
mod exchange;
pub mod openai;
mod send;
mod side_call;
pub mod sse;
mod timer;
mod transport;

pub use adapter::{adapter_for, Adapter, GenerationParams, Prompt};
pub use clients::{build_http_client, request_uri, ClientError, StreamClient};
pub use error::{ErrorKind, RequestError};
pub use exchange::Exchange;
pub use send::{send, Sending};
pub use side_call::{json_call, SideCallError, SideCallFailure};
pub use timer::StreamTimer;
