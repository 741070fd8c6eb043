//! A second opinion on capacity: the knee of throughput against load, where a fit of two
//! straight segments breaks (guidellm's saturation detection). It needs five probes or
//! more, and a second segment at most half as steep as the first.

/// Fewest probes the fit reads.
const MIN_POINTS: usize = 5;

/// The load at the knee of `points` (load, throughput), if they have one.
pub fn knee(points: &[(f64, f64)]) -> Option<f64> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    sorted.dedup_by(|a, b| a.0 == b.0);
    if sorted.len() < MIN_POINTS {
        return None;
    }
    // Each segment has two points or more; they share the knee.
    let (at, rising, flat) = (1..sorted.len() - 1)
        .filter(|&k| k >= 1 && sorted.len() - k >= 2)
        .map(|k| {
            let (a, b) = (fit(&sorted[..=k]), fit(&sorted[k..]));
            (k, a, b)
        })
        .min_by(|x, y| (x.1 .1 + x.2 .1).total_cmp(&(y.1 .1 + y.2 .1)))
        .map(|(k, a, b)| (k, a.0, b.0))?;
    (rising > 0.0 && flat <= rising / 2.0).then_some(sorted[at].0)
}

/// The least-squares slope of `points` and the sum of their squared residuals.
fn fit(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let sse = points
        .iter()
        .map(|p| (p.1 - (my + slope * (p.0 - mx))).powi(2))
        .sum();
    (slope, sse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throughput_that_flattens_has_its_knee_where_it_does() {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0]
            .iter()
            .map(|&c: &f64| (c, 100.0 * c.min(6.0)))
            .collect();
        assert_eq!(knee(&points), Some(6.0));
        let linear: Vec<(f64, f64)> = (1..8).map(|c| (c as f64, 50.0 * c as f64)).collect();
        assert_eq!(knee(&linear), None, "no knee on a straight line");
        assert_eq!(knee(&points[..4]), None, "too few probes");
    }
}
