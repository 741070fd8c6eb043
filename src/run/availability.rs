//! Whether a plan's target can be measured here, without measuring: a launched server's
//! program must be installed, a running server must answer; the embedded simulator is
//! always there. `compare` without results and the scenario tests skip what is not.

use crate::scenario::{Plan, ServerSource};
use crate::secret::redacted;
use crate::server::{launchable, reachable, NotLaunchable};

/// Why a plan cannot be measured here.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error(transparent)]
    NotLaunchable(#[from] NotLaunchable),
    /// The URL, without credentials.
    #[error("nothing answers at {0}")]
    NoAnswer(String),
}

/// `Ok` when the plan's target can be measured here.
pub async fn availability(plan: &Plan) -> Result<(), Unavailable> {
    match &plan.server {
        ServerSource::Launched(spec) => Ok(launchable(&spec.command[0])?),
        ServerSource::Simulator { .. } => Ok(()),
        ServerSource::External if reachable(&plan.target.base_url).await => Ok(()),
        ServerSource::External => Err(Unavailable::NoAnswer(redacted(&plan.target.base_url))),
    }
}
