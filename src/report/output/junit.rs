//! JUnit XML of comparisons for CI test reporters: one test suite per scenario, one test
//! case per point × metric. Failing verdicts (by `--fail-on`, `--strict` and
//! `--require-baseline`) are failures; insufficient data is skipped, the quantiles too few
//! samples could judge as one case per scenario; everything else passes with its verdict
//! in system-out.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::compare::verdict::{Policy, Verdict};
use crate::compare::Comparison;
use crate::report::format::describe;
use crate::report::unjudged::{is_unjudged_quantile, unjudged_line};

/// The JUnit XML document of `comparisons`.
pub fn render<'a>(comparisons: impl IntoIterator<Item = &'a Comparison>, policy: Policy) -> String {
    let mut report = Report::new("llm-loadtest");
    for comparison in comparisons {
        let mut suite = TestSuite::new(comparison.scenario.as_str());
        for row in comparison.rows.iter().filter(|r| !is_unjudged_quantile(r)) {
            let status = if policy.fails(row.verdict) {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status
                    .set_message(describe(row))
                    .set_type(row.verdict.to_string());
                status
            } else if row.verdict == Verdict::InsufficientData {
                let mut status = TestCaseStatus::skipped();
                status.set_message(describe(row));
                status
            } else {
                TestCaseStatus::success()
            };
            let name = if row.metric.is_empty() {
                row.point.clone()
            } else {
                format!("{} {}", row.point, row.metric)
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(comparison.scenario.as_str())
                .set_system_out(describe(row));
            suite.add_test_case(case);
        }
        if let Some(line) = unjudged_line(&comparison.rows) {
            let mut status = TestCaseStatus::skipped();
            status.set_message(line);
            let mut case = TestCase::new("quantiles not judged", status);
            case.set_classname(comparison.scenario.as_str());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .expect("a JUnit report of strings serializes")
}
