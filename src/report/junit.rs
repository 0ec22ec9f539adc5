//! JUnit XML, so CI systems show each check or phase as a test case.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::grader::{CheckResult, GradeReport};
use crate::scenario::runner::RunReport;

fn case(check: &CheckResult) -> TestCase {
    let status = if check.passed {
        TestCaseStatus::success()
    } else {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(check.hint.clone().unwrap_or_else(|| "check failed".into()));
        status.set_description(check.evidence.join("\n"));
        status
    };
    let mut case = TestCase::new(format!("{} {}", check.check, check.subject), status);
    case.set_time(check.duration);
    case.set_system_out(check.evidence.join("\n"));
    case
}

fn suite(name: String, checks: &[CheckResult]) -> TestSuite {
    let mut suite = TestSuite::new(name);
    suite.add_test_cases(checks.iter().map(case));
    suite
}

fn render(report: &Report) -> String {
    report.to_string().expect("JUnit reports always serialize")
}

/// A command that failed before it had anything to report, as one failing case.
pub fn error(message: &str, exit_code: u8) -> String {
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
    status.set_message(message.to_string());
    status.set_type(format!("exit code {exit_code}"));
    let mut suite = TestSuite::new("spirelab");
    suite.add_test_case(TestCase::new("spirelab", status));
    let mut report = Report::new("spirelab");
    report.add_test_suite(suite);
    render(&report)
}

/// A grade as one suite.
pub fn grade(grade: &GradeReport) -> String {
    let mut report = Report::new("spirelab grade");
    report.add_test_suite(suite(
        format!("{} on {}", grade.scenario, grade.lab),
        &grade.checks,
    ));
    render(&report)
}

/// A run as a suite of phases, plus the final grade's checks.
pub fn run(run: &RunReport) -> String {
    runs(std::slice::from_ref(run))
}

/// Several runs in one report: per run, a suite of phases and one of the final grade.
pub fn runs(runs: &[RunReport]) -> String {
    let mut report = Report::new("spirelab run");
    for run in runs {
        add_run(&mut report, run);
    }
    render(&report)
}

fn add_run(report: &mut Report, run: &RunReport) {
    let mut phases = TestSuite::new(format!("{} phases", run.scenario));
    for phase in &run.phases {
        let status = if phase.ok {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(phase.detail.clone());
            status
        };
        let mut case = TestCase::new(phase.name.clone(), status);
        case.set_classname(run.scenario.clone());
        case.set_time(phase.duration);
        phases.add_test_case(case);
    }
    report.add_test_suite(phases);
    if let Some(grade) = &run.grade_after_fix {
        report.add_test_suite(suite(format!("{} grade", run.scenario), &grade.checks));
    }
}
