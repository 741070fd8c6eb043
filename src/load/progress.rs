//! A progress bar per point on stderr; indicatif hides it when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressStyle};

use crate::scenario::StopAfter;

/// A bar counting finished requests (known total) or a spinner (duration mode).
pub fn point_bar(point_id: &str, stop: StopAfter) -> ProgressBar {
    let (bar, template) = match stop {
        StopAfter::Requests(n) => (
            ProgressBar::new(u64::from(n)),
            "{prefix} [{bar:30}] {pos}/{len} requests, {elapsed}",
        ),
        // The duration is known, the request count is not.
        StopAfter::Duration(_) => (
            ProgressBar::new_spinner(),
            "{prefix} {spinner} {pos} requests, {elapsed}",
        ),
    };
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar.set_prefix(point_id.to_owned());
    bar
}
