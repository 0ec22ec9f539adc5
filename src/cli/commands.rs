//! One function per command. Each finds what it needs (engine, lab, scenario), does its
//! work through the library, and hands the result to the reporter.

use std::future::Future;
use std::path::Path;

use super::Error;
use super::args::{
    Cli, ClockCommand, Command, ConfigCommand, ImagesCommand, RulesCommand, ScenarioCommand,
};
use crate::engine::Engine;
use crate::grader::{self, GradeOptions};
use crate::images::{self, ImageSet, build::Outcome};
use crate::lab::grafana::GrafanaOutcome;
use crate::lab::{self, Lab, LabSpec, down, status, up};
use crate::prometheus::rules::RulesSource;
use crate::report::{self, Format, ImageRow, Reporter, ScenarioRow};
use crate::scenario::{self, Scenario, builtin, load::Loaded, runner, session};

/// Runs the command `cli` names.
pub async fn run(cli: Cli) -> Result<(), Error> {
    let reporter = Reporter::new(cli.format);
    let lab = cli.lab.as_str();
    lab::check_name(lab)?;
    let junit_ok = matches!(cli.command, Command::Grade { .. } | Command::Run { .. });
    if cli.format == Format::Junit && !junit_ok {
        return Err(Error::Usage(
            "--format junit is available for grade and run only".into(),
        ));
    }
    let _lock = match changes_the_lab(&cli.command) {
        true => Some(session::lock(lab)?),
        false => None,
    };
    match cli.command {
        Command::Up { scenario, grafana } => {
            let work = up_lab(lab, scenario.as_deref(), grafana, &reporter);
            interruptible(work, "what this `up` had created was removed").await
        }
        Command::Down { all } => down_lab(lab, all, &reporter).await,
        Command::Status => show_status(lab, &reporter).await,
        Command::Break { scenario } => break_lab(lab, &scenario, &reporter).await,
        Command::Hint => hint(lab, &reporter),
        Command::Solve { scenario } => {
            let work = solve(lab, scenario.as_deref(), &reporter);
            interruptible(
                work,
                "the reference fix may be partly applied; run solve again",
            )
            .await
        }
        Command::Grade { scenario, no_wait } => {
            let work = grade(lab, scenario.as_deref(), !no_wait, &reporter);
            interruptible(work, "nothing was graded; the lab is as it was").await
        }
        Command::Run {
            scenarios,
            keep,
            wrong_fixes,
        } => run_scenarios(lab, &scenarios, (keep, wrong_fixes), &reporter).await,
        Command::Clock { action: None } => show_clocks(lab, &reporter).await,
        Command::Clock {
            action: Some(ClockCommand::Set { agent, offset }),
        } => set_clock(lab, &agent, &offset, &reporter).await,
        Command::Config(ConfigCommand::Show { component }) => {
            show_config(lab, &component, &reporter).await
        }
        Command::Config(ConfigCommand::Set {
            component,
            assignments,
        }) => set_config(lab, &component, &assignments, &reporter).await,
        Command::List { dir } => list(&dir, &reporter),
        Command::Scenario(ScenarioCommand::Check { files }) => check(&files, &reporter),
        Command::Rules(RulesCommand::Load { file }) => load_rules(lab, &file, &reporter).await,
        Command::Images(ImagesCommand::Build) => build_images(&reporter).await,
        Command::Images(ImagesCommand::List) => list_images(&reporter).await,
    }
}

/// True for the commands that create, change or remove the lab (`down --all` locks each
/// lab it removes).
fn changes_the_lab(command: &Command) -> bool {
    match command {
        Command::Down { all } => !all,
        Command::Up { .. } | Command::Break { .. } | Command::Solve { .. } => true,
        Command::Run { .. } => true,
        Command::Clock { action } => action.is_some(),
        Command::Config(ConfigCommand::Set { .. }) => true,
        _ => false,
    }
}

/// What a `break` interrupted after its steps leaves.
const BREAK_APPLIED: &str = "the fault is applied but its symptoms were not confirmed; \
                             `spirelab grade` once you have fixed it, or `spirelab down`";

/// Applies the scenario's break steps whole: a step cut off halfway (a container removed
/// and not yet created again) would leave a lab that is neither broken as described nor
/// fixable, so Ctrl-C waits for the steps to finish and then stops.
async fn apply_whole(
    lab: &Lab,
    loaded: &Loaded,
    reporter: &Reporter,
) -> Result<time::OffsetDateTime, Error> {
    let apply = runner::apply_break(lab, loaded);
    tokio::pin!(apply);
    tokio::select! {
        applied = &mut apply => Ok(applied?),
        () = shutdown_requested() => {
            reporter.notice("interrupted: finishing the fault's steps before stopping");
            apply.await?;
            Err(Error::Interrupted(BREAK_APPLIED))
        }
    }
}

/// Runs `work` until it ends or Ctrl-C; dropping it on Ctrl-C lets its clean-up run, and
/// `left` says what the interruption leaves.
async fn interruptible<T>(
    work: impl Future<Output = Result<T, Error>>,
    left: &'static str,
) -> Result<T, Error> {
    tokio::select! {
        result = work => result,
        () = shutdown_requested() => Err(Error::Interrupted(left)),
    }
}

/// Resolves on Ctrl-C, SIGTERM (CI cancelling a job) or SIGHUP (a closed terminal).
async fn shutdown_requested() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut hangup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hangup.recv() => {}
    }
}

async fn attach(lab: &str) -> Result<Lab, Error> {
    let engine = Engine::connect().await?;
    Ok(Lab::attach(lab, ImageSet::from_env(), engine).await?)
}

/// A lab whose every component runs; break, solve, grade and clock need one.
async fn attach_whole(lab: &str) -> Result<Lab, Error> {
    let attached = attach(lab).await?;
    attached.require_whole().await?;
    Ok(attached)
}

async fn up_lab(
    name: &str,
    scenario: Option<&str>,
    grafana: bool,
    reporter: &Reporter,
) -> Result<(), Error> {
    let spec = match scenario {
        Some(s) => scenario::resolve(s)?.scenario.lab,
        None => LabSpec::default(),
    };
    let engine = Engine::connect().await?;
    let lab = Lab::new(name, spec, ImageSet::from_env(), engine)?;
    let outcome = up::up(&lab).await?;
    match lab::grafana::write_dashboard(name) {
        Ok(path) => {
            tracing::info!(path = %path.display(), "dashboard JSON written for import by hand")
        }
        Err(error) => tracing::warn!(%error, "could not write the dashboard JSON"),
    }
    if grafana {
        match lab.start_grafana(&lab.run_id().await?).await? {
            GrafanaOutcome::Started(url) => {
                reporter.notice(&format!("Grafana: {url} (anonymous viewer)"))
            }
            GrafanaOutcome::Unavailable(reason) => reporter.notice(&format!(
                "Grafana not started: {reason}. Import {} \
                 (or monitoring/grafana/dashboards/spire.json) \
                 into any Grafana with a Prometheus datasource of uid `prometheus`.",
                lab::grafana::dashboard_path(name).display()
            )),
        }
    }
    match outcome {
        up::UpOutcome::Started { .. } => {
            session::clear_exercise(name);
            reporter.status(&status::status(&lab).await?)
        }
        up::UpOutcome::AlreadyUp => reporter.message(&format!("lab {name} is already up")),
    }
    Ok(())
}

async fn down_lab(name: &str, all: bool, reporter: &Reporter) -> Result<(), Error> {
    let engine = Engine::connect().await?;
    let labs = if all {
        all_labs(&engine).await?
    } else {
        vec![name.to_string()]
    };
    for lab in labs {
        let _lock = match all {
            true => Some(session::lock(&lab)?),
            false => None,
        };
        let removed = down::remove_lab(&engine, &lab).await?;
        session::clear(&lab);
        reporter.removed(&lab, &removed);
    }
    Ok(())
}

async fn all_labs(engine: &Engine) -> Result<Vec<String>, Error> {
    let mut labs: Vec<String> = engine
        .list_containers(None)
        .await?
        .into_iter()
        .filter_map(|c| c.labels.get(crate::engine::labels::LAB).cloned())
        .collect();
    // Volumes too: a lab whose containers are all gone still has its data and sockets.
    let volumes = engine.volumes_named("spirelab-").await?;
    labs.extend(volumes.into_iter().filter_map(|v| v.lab));
    labs.sort();
    labs.dedup();
    Ok(labs)
}

async fn show_status(name: &str, reporter: &Reporter) -> Result<(), Error> {
    let lab = attach(name).await?;
    reporter.status(&status::status(&lab).await?);
    Ok(())
}

/// The scenario named on the command line, else the one the lab was broken with (as it
/// was when it broke).
fn scenario_for(lab: &str, given: Option<&str>) -> Result<Loaded, Error> {
    if let Some(given) = given {
        return Ok(scenario::resolve(given)?);
    }
    match session::load(lab) {
        Some(session) => Ok(session.scenario()?),
        None => Err(Error::Usage(format!(
            "lab {lab} was not broken with a scenario; name one, e.g. `{}`",
            report::command(lab, "grade wrong-selector")
        ))),
    }
}

fn require_same_lab(lab: &Lab, scenario: &Scenario, given: &str) -> Result<(), Error> {
    if lab.spec == scenario.lab {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "scenario {} needs a differently shaped lab than {} has; run `{}` and `{}`",
        scenario.name,
        lab.name,
        report::command(&lab.name, "down"),
        report::command(&lab.name, &format!("up --scenario {given}")),
    )))
}

async fn break_lab(name: &str, given: &str, reporter: &Reporter) -> Result<(), Error> {
    let loaded = scenario::resolve(given)?;
    let lab = attach_whole(name).await?;
    require_same_lab(&lab, &loaded.scenario, given)?;
    refuse_second_fault(name)?;
    // Remembered before the fault is applied, so an interrupted break still knows what it
    // was breaking.
    let session = session::Session {
        scenario: session::remembered(given),
        origin: loaded.origin.clone(),
        text: loaded.text.clone(),
        broken_at: time::OffsetDateTime::now_utc(),
        hints_shown: 0,
    };
    if let Err(error) = session::save(name, &session) {
        tracing::warn!(%error, "could not remember the scenario; name it when grading");
    }
    let broken_at = apply_whole(&lab, &loaded, reporter).await?;
    let confirm = runner::confirm_break(&lab, &loaded, broken_at);
    let report = interruptible(async { Ok(confirm.await?) }, BREAK_APPLIED).await?;
    reporter.broken(name, &report, &loaded.scenario.description);
    match report.confirmed {
        true => Ok(()),
        false => Err(Error::NotPassed(format!(
            "lab {name} did not show the symptoms of {}",
            loaded.scenario.name
        ))),
    }
}

/// Faults piled on faults make symptoms, hints and grades meaningless: one at a time.
fn refuse_second_fault(lab: &str) -> Result<(), Error> {
    match session::load(lab) {
        None => Ok(()),
        Some(session) => Err(Error::Usage(format!(
            "lab {lab} is already broken with {} (since {}); start from a fresh lab: `{}` and `{}`",
            session.scenario,
            crate::probe::show_time(session.broken_at),
            report::command(lab, "down"),
            report::command(lab, &format!("up --scenario {}", session.scenario)),
        ))),
    }
}

fn hint(lab: &str, reporter: &Reporter) -> Result<(), Error> {
    let mut session = session::load(lab).ok_or_else(|| {
        Error::Usage(format!(
            "lab {lab} is not broken; start with `{}` (scenarios: `spirelab list`)",
            report::command(lab, "break NAME")
        ))
    })?;
    let loaded = session.scenario()?;
    let hints = &loaded.scenario.hints;
    if hints.is_empty() {
        reporter.message("this scenario has no hints");
        return Ok(());
    }
    let index = session.hints_shown.min(hints.len() - 1);
    reporter.message(&format!(
        "hint {}/{}: {}",
        index + 1,
        hints.len(),
        report::for_lab(lab, &hints[index])
    ));
    session.hints_shown = index + 1;
    let _ = session::save(lab, &session);
    Ok(())
}

async fn solve(name: &str, given: Option<&str>, reporter: &Reporter) -> Result<(), Error> {
    let lab = attach_whole(name).await?;
    let loaded = scenario_for(name, given)?;
    if let Some(given) = given {
        require_same_lab(&lab, &loaded.scenario, given)?;
    }
    crate::faults::apply_all(&lab, &loaded.scenario.solve).await?;
    reporter.message(&format!(
        "applied the reference fix of {}; now run `{}`",
        loaded.scenario.name,
        report::command(name, "grade")
    ));
    Ok(())
}

async fn grade(
    name: &str,
    given: Option<&str>,
    wait: bool,
    reporter: &Reporter,
) -> Result<(), Error> {
    let lab = attach_whole(name).await?;
    let loaded = scenario_for(name, given)?;
    if let Some(given) = given {
        require_same_lab(&lab, &loaded.scenario, given)?;
    }
    let since = session::load(name).map(|s| s.broken_at);
    let options = GradeOptions { since, wait };
    if since.is_none() {
        reporter.notice(&format!(
            "note: lab {name} was not broken with `{}`; grading it as it is",
            report::command(name, "break")
        ));
    }
    let report = grader::grade(&lab, &loaded.scenario.name, &loaded.scenario.grade, options).await;
    reporter.grade(&report);
    match report.passed {
        true => Ok(()),
        false => Err(Error::NotPassed(format!(
            "{}/{} points",
            report.score, report.max_score
        ))),
    }
}

async fn run_scenarios(
    name: &str,
    given: &[String],
    (keep, wrong_fixes): (bool, bool),
    reporter: &Reporter,
) -> Result<(), Error> {
    if keep && wrong_fixes {
        return Err(Error::Usage(
            "--wrong-fixes needs a fresh lab for each fix; drop --keep".into(),
        ));
    }
    let loaded: Vec<Loaded> = given
        .iter()
        .map(|s| scenario::resolve(s))
        .collect::<Result<_, _>>()?;
    let engine = Engine::connect().await?;
    ImageSet::from_env().require(&engine).await?;
    refuse_existing_lab(&engine, name).await?;

    let mut reports = Vec::new();
    for scenario in &loaded {
        let lab = Lab::new(
            name,
            scenario.scenario.lab.clone(),
            ImageSet::from_env(),
            engine.clone(),
        )?;
        let report = run_one(&lab, scenario, (keep, wrong_fixes)).await?;
        if reporter.streams() {
            reporter.run(&report);
        }
        reports.push(report);
    }
    if !reporter.streams() {
        reporter.runs(&reports);
    }
    verdict(&reports, reporter)
}

/// `run` builds and removes its own labs, so it never starts on one that exists.
async fn refuse_existing_lab(engine: &Engine, name: &str) -> Result<(), Error> {
    let containers = engine.list_containers(Some(name)).await?;
    let volumes = engine.list_volumes(Some(name)).await?;
    if containers.is_empty() && volumes.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "lab {name} already exists and `run` needs a fresh one, which it removes at the end: \
         pick another name with --lab, or remove it with `{}`",
        report::command(name, "down")
    )))
}

/// Runs one scenario; on Ctrl-C, removes its lab and reports the interruption.
async fn run_one(
    lab: &Lab,
    scenario: &Loaded,
    (keep, wrong_fixes): (bool, bool),
) -> Result<runner::RunReport, Error> {
    tokio::select! {
        report = runner::run(lab, scenario, keep, wrong_fixes) => Ok(report),
        () = shutdown_requested() => {
            down::finish_pending().await;
            down::down(lab).await?;
            Err(Error::Interrupted("the scenario's lab was removed"))
        }
    }
}

/// Closes a run with "N passed, N failed" and fails unless every scenario passed.
fn verdict(reports: &[runner::RunReport], reporter: &Reporter) -> Result<(), Error> {
    let failed: Vec<&str> = reports
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.scenario.as_str())
        .collect();
    reporter.notice(&format!(
        "scenarios: {} passed, {} failed",
        reports.len() - failed.len(),
        failed.len()
    ));
    match failed.is_empty() {
        true => Ok(()),
        false => Err(Error::NotPassed(format!(
            "scenarios that did not pass: {}",
            failed.join(", ")
        ))),
    }
}

async fn show_clocks(name: &str, reporter: &Reporter) -> Result<(), Error> {
    let lab = attach_whole(name).await?;
    reporter.clocks(&lab.clocks().await?);
    Ok(())
}

async fn set_clock(
    name: &str,
    agent: &str,
    offset: &str,
    reporter: &Reporter,
) -> Result<(), Error> {
    let seconds = lab::clock::parse_offset(offset).map_err(|e| Error::Usage(e.to_string()))?;
    let lab = attach_whole(name).await?;
    lab.set_clock_offset(agent, seconds).await?;
    reporter.clocks(&[lab.clock(agent).await?]);
    Ok(())
}

async fn show_config(name: &str, component: &str, reporter: &Reporter) -> Result<(), Error> {
    let lab = attach(name).await?;
    let path = config_file(&lab, component)?;
    let text = lab
        .engine
        .download_file(&lab.container(component), path)
        .await?;
    reporter.message(String::from_utf8_lossy(&text).trim_end());
    Ok(())
}

async fn set_config(
    name: &str,
    component: &str,
    assignments: &[String],
    reporter: &Reporter,
) -> Result<(), Error> {
    let keys = parse_assignments(assignments)?;
    let lab = attach(name).await?;
    let path = config_file(&lab, component)?;
    let container = lab.container(component);
    let before = lab.engine.download_file(&container, path).await?;
    crate::faults::config::set_keys(&lab, component, &keys).await?;
    let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    if let Some(log) = keeps_failing(&lab, component).await? {
        let file = crate::engine::files::FileSpec::public(path, before);
        lab.engine.upload_files(&container, &[file]).await?;
        crate::faults::config::restart(&lab, component).await?;
        return Err(Error::Usage(format!(
            "{component} stopped running with {} set, so its previous {path} was put back \
             and it was restarted; its log ended with:\n{log}",
            names.join(", ")
        )));
    }
    reporter.message(&format!(
        "set {} in {component}'s {path} and restarted it",
        names.join(", ")
    ));
    Ok(())
}

/// How long a restarted component is watched for exiting.
const SETTLE: std::time::Duration = std::time::Duration::from_secs(6);

/// Watches the restarted component for a few seconds; when Docker reports it not running,
/// returns the last lines of its log. A component that runs but cannot attest yet (a
/// join token the server refuses) keeps running and is not a failure here.
async fn keeps_failing(lab: &Lab, component: &str) -> Result<Option<String>, Error> {
    let started = std::time::Instant::now();
    while started.elapsed() < SETTLE {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let containers = lab.engine.list_containers(Some(&lab.name)).await?;
        let running = containers
            .iter()
            .any(|c| c.component == component && c.state == "running");
        if !running {
            let log = lab.engine.logs(&lab.container(component), None).await?;
            let tail: Vec<&str> = log.lines().rev().take(5).collect();
            return Ok(Some(tail.into_iter().rev().collect::<Vec<_>>().join("\n")));
        }
    }
    Ok(None)
}

/// The config file of `component`: the server's or an agent's.
fn config_file(lab: &Lab, component: &str) -> Result<&'static str, Error> {
    use crate::lab::paths::{AGENT_CONF, SERVER_CONF};
    match component {
        "server" => Ok(SERVER_CONF),
        _ if lab.spec.agent(component).is_some() => Ok(AGENT_CONF),
        _ => Err(Error::Usage(format!(
            "{component:?} has no SPIRE config; choose server or an agent ({})",
            lab.spec.agent_names().join(", ")
        ))),
    }
}

/// `KEY=VALUE` pairs, keys as SPIRE's config spells them, values without control
/// characters (SPIRE's HCL reader cannot read them back).
fn parse_assignments(assignments: &[String]) -> Result<Vec<(&str, &str)>, Error> {
    assignments.iter().map(|a| parse_assignment(a)).collect()
}

fn parse_assignment(assignment: &str) -> Result<(&str, &str), Error> {
    let key_chars = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    let Some((key, value)) = assignment
        .split_once('=')
        .filter(|(key, _)| !key.is_empty() && key.chars().all(key_chars))
    else {
        return Err(Error::Usage(format!(
            "{assignment:?} is not KEY=VALUE with a key of lowercase letters, digits or '_', \
             such as join_token=<TOKEN>"
        )));
    };
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::Usage(format!(
            "the value of {key} holds control characters, which SPIRE's config cannot hold"
        )));
    }
    Ok((key, value))
}

fn list(dir: &Path, reporter: &Reporter) -> Result<(), Error> {
    let mut rows: Vec<ScenarioRow> = builtin::BUILTIN
        .iter()
        .filter_map(|(name, _)| scenario::resolve(name).ok())
        .map(|l| row(&l, &format!("builtin:{}", l.scenario.name)))
        .collect();
    for path in scenario_files(dir) {
        let loaded = scenario::resolve(&path)?;
        if !rows.iter().any(|r| r.name == loaded.scenario.name) {
            rows.push(row(&loaded, &path));
        }
    }
    reporter.scenarios(&rows);
    Ok(())
}

fn row(loaded: &Loaded, origin: &str) -> ScenarioRow {
    ScenarioRow {
        name: loaded.scenario.name.clone(),
        summary: loaded.scenario.summary.clone(),
        origin: origin.to_string(),
    }
}

fn scenario_files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    files
}

/// Validates every file, reporting each problem, not only the first.
fn check(files: &[String], reporter: &Reporter) -> Result<(), Error> {
    let mut lines = Vec::new();
    let mut failures = 0;
    for file in files {
        match scenario::resolve(file) {
            Ok(loaded) => lines.push(format!("{file}: ok ({})", loaded.scenario.name)),
            Err(error) => {
                failures += 1;
                lines.push(crate::probe::watch::error_chain(&error));
            }
        }
    }
    reporter.message(&lines.join("\n"));
    match failures {
        0 => Ok(()),
        n => Err(Error::Usage(format!(
            "{n} of {} scenario files are invalid",
            files.len()
        ))),
    }
}

async fn load_rules(name: &str, file: &str, reporter: &Reporter) -> Result<(), Error> {
    let source = RulesSource::read(file)?;
    let lab = attach_whole(name).await?;
    let installed = crate::prometheus::rules::install(&lab, &source).await?;
    reporter.message(&format!(
        "loaded {file} into lab {name}'s Prometheus as {}",
        installed.summary()
    ));
    Ok(())
}

async fn build_images(reporter: &Reporter) -> Result<(), Error> {
    let engine = Engine::connect().await?;
    let set = ImageSet::from_env();
    let plans = images::build::plans(&set)?;
    images::base::ensure(&engine).await?;
    for plan in &plans {
        let started = std::time::Instant::now();
        reporter.notice(&format!("building {} ...", plan.image));
        let outcome = images::build::build(&engine, plan).await?;
        let what = if outcome == Outcome::Built {
            "built"
        } else {
            "up to date"
        };
        reporter.message(&format!(
            "{}: {what} ({:.1}s)",
            plan.image,
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}

async fn list_images(reporter: &Reporter) -> Result<(), Error> {
    let engine = Engine::connect().await?;
    let mut rows = Vec::new();
    for image in ImageSet::from_env().all() {
        let present = engine.require_image(&image.image).await.is_ok();
        let source = match (image.overridden, image.component) {
            (true, component) => format!("SPIRELAB_IMAGE_{}", component.to_uppercase()),
            (false, "grafana") => "official image (pulled where a registry answers)".into(),
            (false, _) => "spirelab images build".into(),
        };
        rows.push(ImageRow {
            component: image.component.into(),
            image: image.image.clone(),
            present,
            source,
        });
    }
    reporter.images(&rows);
    Ok(())
}
