//! Load generation: closed loop (a fixed number of requests in flight) and open loop
//! (requests started on a schedule drawn from an arrival distribution), warmup, per-request
//! timeout and cancellation; either in stages whose level moves over time. Workers only send and time; every finished request goes as a
//! [`RequestRecord`] over a channel to the point's single aggregator.

mod arrival;
mod closed;
mod driver;
mod live;
mod open;
mod point;
mod progress;
mod record;
mod staged;
mod stop;

pub use arrival::Arrivals;
pub use driver::Driver;
pub use live::{Live, LiveSnapshot};
pub use point::{run_point, MeasuredPoint, PointSettings, WindowStart};
pub use record::{RequestLog, RequestMeta, RequestRecord};
