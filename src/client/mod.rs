//! The streaming HTTP client: SSE framing, the OpenAI response format, one adapter per API
//! flavour (request bodies), and [`send`], which performs one timed exchange. The client
//! only measures; statistics live in `metrics`.

mod adapter;
mod chat;
mod completions;
mod error;
mod exchange;
pub mod openai;
mod side_call;
pub mod sse;
mod timer;
mod transport;

pub use adapter::{adapter_for, Adapter, GenerationParams};
pub use error::{ErrorKind, RequestError};
pub use exchange::{build_http_client, request_uri, send, ClientError, StreamClient};
pub use side_call::json_call;
pub use timer::{Exchange, StreamTimer};
