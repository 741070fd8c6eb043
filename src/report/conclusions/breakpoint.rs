//! What breakpoint ramps found: the load at which the server broke (throughput stopped
//! rising while TTFT grew, or errors passed their limit), or that it held to the ramp's
//! peak.

use super::{Conclusion, Measured};

/// The breakpoint conclusion, when some point ran a breakpoint ramp.
pub fn breakpoints(measured: &[Measured]) -> Option<Conclusion> {
    let ramps: Vec<(usize, &str, &crate::result::Breakpoint)> = measured
        .iter()
        .filter_map(|(i, p)| p.breakpoint.as_ref().map(|b| (*i, p.id.as_str(), b)))
        .collect();
    if ramps.is_empty() {
        return None;
    }
    let clauses: Vec<String> = ramps
        .iter()
        .map(|(_, id, b)| match b.broke {
            true => format!("{id} broke past {} {}: {}", b.unit, b.load, b.reason),
            false => format!("{id} {}", b.reason),
        })
        .collect();
    let text = format!("{}.", clauses.join("; "));
    let points = ramps.iter().map(|r| r.0).collect();
    Some(Conclusion::new("Breakpoint", text, true, points))
}
