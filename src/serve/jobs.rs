//! The dashboard's runs: a queue, and workers (one by default) that take the next queued
//! run and measure it with the library's runner on a thread and runtime of their own, so
//! that serving pages never shares a thread with the requests being timed. A run writes
//! its result into the results directory under its id (checkpointed after each point,
//! like `run --output`), whether or not anyone watches; each run's view (status and live
//! progress) is published on a watch channel for the WebSocket and the status endpoint.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use serde::Serialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::store::{RunId, Store};
use super::summary::{RunSummary, Status};
use crate::atomic;
use crate::load::{Live, LiveSnapshot};
use crate::run::{run_plan, RunError, RunOptions};
use crate::scenario::Plan;

/// What a watcher of one run sees.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobView {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub created_at: String,
    /// Why it failed to start or to be written.
    pub error: Option<String>,
    pub progress: LiveSnapshot,
}

struct Job {
    id: RunId,
    /// Taken by the worker that runs it.
    plan: Option<Plan>,
    cancel: CancellationToken,
    live: Arc<Live>,
    view: watch::Sender<JobView>,
    /// Deleted while it ran: its result goes when it ends.
    discard: bool,
}

impl Job {
    fn status(&self) -> Status {
        self.view.borrow().summary.status
    }

    /// Changes the view and tells its watchers.
    fn update(&self, change: impl FnOnce(&mut JobView)) {
        self.view.send_modify(change);
    }
}

#[derive(Default)]
struct Table {
    jobs: Vec<Job>,
    closing: bool,
}

/// What deleting a run did to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// It was queued: it will not run.
    Dequeued,
    /// It was running: it stops, and its result is deleted when it has.
    Stopped,
    /// It had ended without a result file: it is forgotten.
    Forgotten,
    /// The queue does not know it.
    NotQueued,
}

/// The queue and its workers.
pub struct Jobs {
    table: Mutex<Table>,
    wake: Condvar,
    store: Arc<Store>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

impl Jobs {
    /// A queue run by `workers` workers (at least one), writing into `store`.
    pub fn start(store: Arc<Store>, workers: usize) -> Arc<Self> {
        let jobs = Arc::new(Self {
            table: Mutex::new(Table::default()),
            wake: Condvar::new(),
            store,
            workers: Mutex::new(Vec::new()),
        });
        // The workers' log lines carry the command's span.
        let span = tracing::Span::current();
        let handles = (0..workers.max(1))
            .map(|n| {
                let (jobs, span) = (jobs.clone(), span.clone());
                std::thread::Builder::new()
                    .name(format!("llm-loadtest-run-{n}"))
                    .spawn(move || span.in_scope(|| jobs.work()))
                    .expect("a thread for a worker")
            })
            .collect();
        *lock(&jobs.workers) = handles;
        jobs
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        lock(&self.table)
    }

    /// Queues `plan`; its id.
    pub fn submit(&self, plan: Plan) -> RunId {
        let id = RunId::parse(&uuid::Uuid::now_v7().to_string()).expect("a UUID is a valid id");
        let view = JobView {
            summary: RunSummary::of_scenario(id.as_str(), Status::Queued, &plan.record),
            created_at: now(),
            error: None,
            progress: LiveSnapshot::default(),
        };
        let job = Job {
            id: id.clone(),
            plan: Some(plan),
            cancel: CancellationToken::new(),
            live: Arc::new(Live::default()),
            view: watch::channel(view).0,
            discard: false,
        };
        self.table().jobs.push(job);
        self.wake.notify_all();
        tracing::info!(run_id = %id, "run queued");
        id
    }

    /// The view of a run the dashboard started since it started.
    pub fn view(&self, id: &RunId) -> Option<JobView> {
        let table = self.table();
        let job = table.jobs.iter().find(|j| &j.id == id)?;
        let mut view = job.view.borrow().clone();
        view.progress = job.live.snapshot();
        Some(view)
    }

    /// A channel that carries every change of a run's view.
    pub fn subscribe(&self, id: &RunId) -> Option<watch::Receiver<JobView>> {
        let table = self.table();
        Some(table.jobs.iter().find(|j| &j.id == id)?.view.subscribe())
    }

    /// Publishes the live progress of the running runs to their watchers.
    pub fn publish_progress(&self) {
        let table = self.table();
        for job in table.jobs.iter().filter(|j| j.status() == Status::Running) {
            let progress = job.live.snapshot();
            job.view.send_if_modified(|view| {
                let changed = view.progress != progress;
                view.progress = progress;
                changed
            });
        }
    }

    /// The history lines the queue knows best, and their ids: runs queued or running (their
    /// checkpoints are not results yet), and ended ones without a result file or with an
    /// error the file does not hold. Read under one lock, so that a run ending meanwhile is
    /// not lost between the queue and the directory.
    pub fn lines(&self) -> Vec<RunSummary> {
        let table = self.table();
        let known = table.jobs.iter().filter(|j| {
            let view = j.view.borrow();
            !view.summary.status.is_final() || view.error.is_some() || !self.store.contains(&j.id)
        });
        known.map(|j| j.view.borrow().summary.clone()).collect()
    }

    /// Takes a run out of the queue, or stops it.
    pub fn remove(&self, id: &RunId) -> Removed {
        let mut table = self.table();
        let Some(at) = table.jobs.iter().position(|j| &j.id == id) else {
            return Removed::NotQueued;
        };
        match table.jobs[at].status() {
            Status::Queued => {
                let job = table.jobs.remove(at);
                job.update(|v| v.summary.status = Status::Cancelled);
                Removed::Dequeued
            }
            Status::Running => {
                let job = &mut table.jobs[at];
                job.discard = true;
                job.cancel.cancel();
                Removed::Stopped
            }
            _ => {
                let job = table.jobs.remove(at);
                match self.store.contains(&job.id) {
                    true => Removed::NotQueued,
                    false => Removed::Forgotten,
                }
            }
        }
    }

    /// Stops every run (each keeps what it measured) and starts no other.
    pub fn stop_all(&self) {
        let mut table = self.table();
        table.closing = true;
        table.jobs.iter().for_each(|j| j.cancel.cancel());
        drop(table);
        self.wake.notify_all();
    }

    /// Stops every run and waits for the workers to have written their results.
    pub fn shut_down(&self) {
        self.stop_all();
        for worker in std::mem::take(&mut *lock(&self.workers)) {
            let _ = worker.join();
        }
    }

    /// A worker: runs queued runs one after the other until shut down.
    fn work(&self) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => return tracing::error!("a run worker cannot start its runtime: {e}"),
        };
        while let Some((id, plan, cancel, live)) = self.next() {
            let options = RunOptions {
                output: Some(self.store.path_of(&id)),
                requests_out: None,
                live: Some(live),
            };
            let outcome = runtime.block_on(run_plan(&plan, &options, &cancel));
            self.finish(&id, outcome, &options);
        }
    }

    /// Waits for the next queued run and marks it running.
    fn next(&self) -> Option<(RunId, Plan, CancellationToken, Arc<Live>)> {
        let mut table = self.table();
        loop {
            if table.closing {
                return None;
            }
            if let Some(job) = table.jobs.iter_mut().find(|j| j.plan.is_some()) {
                let plan = job.plan.take()?;
                job.update(|v| {
                    v.summary.status = Status::Running;
                    v.summary.started_at = now();
                });
                tracing::info!(run_id = %job.id, scenario = %plan.name, "run started");
                return Some((job.id.clone(), plan, job.cancel.clone(), job.live.clone()));
            }
            table = self
                .wake
                .wait(table)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Writes a finished run's result and publishes its end.
    fn finish(
        &self,
        id: &RunId,
        outcome: Result<crate::result::RunResult, RunError>,
        options: &RunOptions,
    ) {
        let written = match outcome {
            Ok(result) => {
                let path = options
                    .output
                    .as_ref()
                    .expect("a dashboard run has an output");
                atomic::write_json(path, &result)
                    .map(|()| RunSummary::of_result(id.as_str(), &result))
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        let mut table = self.table();
        let Some(at) = table.jobs.iter().position(|j| &j.id == id) else {
            return;
        };
        let job = &table.jobs[at];
        let progress = job.live.snapshot();
        match written {
            Ok(summary) => job.update(|v| {
                v.summary = summary;
                v.progress = progress;
            }),
            Err(error) => job.update(|v| {
                let interrupted = error == RunError::Interrupted.to_string();
                v.summary.status = if interrupted {
                    Status::Cancelled
                } else {
                    Status::Failed
                };
                v.summary.finished_at = now();
                v.error = Some(error).filter(|_| !interrupted);
            }),
        }
        let view = job.view.borrow().clone();
        tracing::info!(run_id = %id, status = view.summary.status.name(), error = view.error.as_deref().unwrap_or(""), "run ended");
        if job.discard {
            let _ = self.store.delete(id);
            table.jobs.remove(at);
        }
        forget_old(&mut table.jobs);
    }
}

/// Ended runs the queue remembers (their views, for pages still watching them); the
/// oldest are forgotten first, their results staying in the directory.
const REMEMBERED: usize = 100;

/// Forgets the oldest ended runs beyond [`REMEMBERED`].
fn forget_old(jobs: &mut Vec<Job>) {
    let ended = jobs.iter().filter(|j| j.status().is_final()).count();
    let mut surplus = ended.saturating_sub(REMEMBERED);
    jobs.retain(|j| {
        let forget = surplus > 0 && j.status().is_final();
        surplus -= usize::from(forget);
        !forget
    });
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
