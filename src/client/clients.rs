//! The HTTP clients: one for side calls (model list, tokenizer, metrics) and the timed one
//! of measured requests, both keep-alive HTTP/1.1 with the API key, if any, in a sensitive
//! header; and the request URI, checked once rather than per request.

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, Response, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::transport::TimedConnector;
use crate::secret::Credential;

/// Why no HTTP client could be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the API key (or the user and password of the base URL) holds characters an HTTP header cannot carry")]
    InvalidKey,
    #[error("cannot build the HTTP client: {0}")]
    Build(reqwest::Error),
    #[error("{url} is not a URI the HTTP client can use: {reason}")]
    Uri { url: String, reason: String },
}

/// `url` as the URI of requests, checked once rather than per request.
pub fn request_uri(url: &reqwest::Url) -> Result<Uri, ClientError> {
    Uri::try_from(url.as_str()).map_err(|e| ClientError::Uri {
        url: crate::secret::redacted(url),
        reason: e.to_string(),
    })
}

/// Below the 5 s keep-alive of llama.cpp (httplib) and uvicorn (vLLM, SGLang), so a pooled
/// connection is never reused just as the server closes it.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The headers every request carries: JSON, and the API key, if any, in a sensitive
/// Authorization header that debug output redacts.
fn default_headers(credential: Option<&Credential>) -> Result<HeaderMap, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(credential) = credential {
        let mut value = HeaderValue::from_str(&credential.authorization())
            .map_err(|_| ClientError::InvalidKey)?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    Ok(headers)
}

/// The client of side calls (model list, tokenizer, metrics): an HTTP/1.1 keep-alive client.
pub fn build_http_client(credential: Option<&Credential>) -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .default_headers(default_headers(credential)?)
        .tcp_nodelay(true)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(ClientError::Build)
}

/// The client of measured requests: pooled HTTP/1.1 keep-alive connections (plain or TLS)
/// whose responses are timed at their bytes' arrival.
#[derive(Clone)]
pub struct StreamClient {
    client: Client<HttpsConnector<TimedConnector>, Full<Bytes>>,
    headers: HeaderMap,
}

impl StreamClient {
    pub fn new(credential: Option<&Credential>) -> Result<Self, ClientError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(TimedConnector::new(CONNECT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_timer(TokioTimer::new())
            .build(connector);
        Ok(Self {
            client,
            headers: default_headers(credential)?,
        })
    }

    pub(super) async fn request(
        &self,
        method: Method,
        uri: Uri,
        body: Bytes,
        request_id: Option<&str>,
    ) -> Result<Response<Incoming>, hyper_util::client::legacy::Error> {
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = self.headers.clone();
        if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(id).ok()) {
            request.headers_mut().insert("x-request-id", id);
        }
        self.client.request(request).await
    }

    /// Fetches `uri` and reads the answer whole, leaving its connection in the pool.
    pub async fn touch(&self, uri: &Uri) {
        if let Ok(response) = self
            .request(Method::GET, uri.clone(), Bytes::new(), None)
            .await
        {
            let _ = response.into_body().collect().await;
        }
    }
}
