//! Statistics of a point, computed in one place: per-request figures derived from raw
//! instants, HdrHistograms of latencies, throughput and goodput. Workers never compute
//! statistics; the single aggregator folds records in with [`PointAccumulator::add`].

mod accumulator;
mod encoding;
mod goodput;
mod groups;
mod histogram;
mod request;
mod saturation;
mod share;
mod stages;
mod timeline;
mod trials;

pub use accumulator::{PointAccumulator, PointFacts};
pub use encoding::HistogramError;
pub use goodput::GoodputCounter;
pub use groups::{combined_goodput, GroupSplit};
pub use histogram::LatencyHistogram;
pub use request::RequestFigures;
pub use saturation::SaturationWatch;
pub use share::{Settled, Share};
pub use stages::StageSplit;
pub use timeline::{Ended, TimelineBuilder};
pub use trials::{add_trial, pool_over};
