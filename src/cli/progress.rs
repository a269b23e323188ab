//! How a long capture shows it is alive: a bar on a terminal, whose time
//! left accounts for the API's rate limit, and off a terminal (cron,
//! systemd, a pipe) a log line at a steady interval, so a silent minute is
//! never mistaken for a hang.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::capture::Progress;

/// How often a progress line is logged when stderr is not a terminal.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// Time left for `remaining` calls: the pace so far (`done` calls in
/// `elapsed`), but never faster than `rate_limit_per_minute` allows (the
/// first calls go out in a burst, the rest at the limit's pace).
pub fn time_left(done: u64, remaining: u64, elapsed: Duration, rate_limit_per_minute: Option<u32>) -> Option<Duration> {
    if remaining == 0 {
        return Some(Duration::ZERO);
    }
    let paced = (done > 0 && !elapsed.is_zero())
        .then(|| Duration::from_secs_f64(elapsed.as_secs_f64() * remaining as f64 / done as f64));
    let limited = rate_limit_per_minute
        .filter(|&r| r > 0)
        .map(|r| Duration::from_secs_f64(remaining as f64 * 60.0 / f64::from(r)));
    match (paced, limited) {
        (Some(p), Some(l)) => Some(p.max(l)),
        (p, l) => p.or(l),
    }
}

/// `1h 05m`, `4m 10s`, `12s`.
pub fn duration_words(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Calls planned and finished, shared by the run and whoever reports on it.
#[derive(Default)]
struct Counts {
    planned: AtomicU64,
    done: AtomicU64,
}

/// A progress bar on stderr (a terminal).
pub struct Bar {
    bar: indicatif::ProgressBar,
    counts: Counts,
    rate_limit: Option<u32>,
}

impl Bar {
    pub fn new(rate_limit: Option<u32>) -> Bar {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} calls  {elapsed}  {msg}")
                .expect("static template"),
        );
        Bar {
            bar,
            counts: Counts::default(),
            rate_limit,
        }
    }
}

impl Progress for Bar {
    fn planned(&self, calls: u64) {
        self.counts.planned.store(calls, Ordering::Relaxed);
        self.bar.set_length(calls);
    }
    fn finished_job(&self) {
        let done = self.counts.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.bar.inc(1);
        let remaining = self.counts.planned.load(Ordering::Relaxed).saturating_sub(done);
        if let Some(left) = time_left(done, remaining, self.bar.elapsed(), self.rate_limit) {
            self.bar.set_message(format!("about {} left", duration_words(left)));
        }
    }
}

/// Progress as log lines every [`LOG_EVERY`] (stderr is not a terminal).
/// The reporting task ends when this is dropped.
pub struct LogLines {
    counts: Arc<Counts>,
    task: tokio::task::JoinHandle<()>,
}

impl LogLines {
    /// Starts logging through `tracing`; call inside the tokio runtime.
    pub fn start(rate_limit: Option<u32>) -> LogLines {
        LogLines::start_with(rate_limit, |line| tracing::info!("{line}"))
    }

    /// Starts handing each line to `sink` every [`LOG_EVERY`].
    pub fn start_with(rate_limit: Option<u32>, sink: impl Fn(String) + Send + 'static) -> LogLines {
        let counts = Arc::new(Counts::default());
        let shared = counts.clone();
        let started = tokio::time::Instant::now();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(started + LOG_EVERY, LOG_EVERY);
            loop {
                tick.tick().await;
                let (planned, done) = (
                    shared.planned.load(Ordering::Relaxed),
                    shared.done.load(Ordering::Relaxed),
                );
                sink(progress_line(done, planned, started.elapsed(), rate_limit));
            }
        });
        LogLines { counts, task }
    }
}

/// One progress line: `progress: 120 of 600 calls (20%), 2m 00s elapsed, about 8m 00s left`.
pub fn progress_line(done: u64, planned: u64, elapsed: Duration, rate_limit: Option<u32>) -> String {
    let percent = (done * 100).checked_div(planned).unwrap_or(0);
    let left = time_left(done, planned.saturating_sub(done), elapsed, rate_limit)
        .map(|d| format!(", about {} left", duration_words(d)))
        .unwrap_or_default();
    format!(
        "progress: {done} of {planned} calls ({percent}%), {} elapsed{left}",
        duration_words(elapsed)
    )
}

impl Progress for LogLines {
    fn planned(&self, calls: u64) {
        self.counts.planned.store(calls, Ordering::Relaxed);
    }
    fn finished_job(&self) {
        self.counts.done.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for LogLines {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_is_never_faster_than_the_rate_limit() {
        // 50 calls in a 5 s burst, 550 left at 100 a minute: 5.5 minutes, not 55 s.
        let left = time_left(50, 550, Duration::from_secs(5), Some(100)).unwrap();
        assert_eq!(left, Duration::from_secs(330));
        // Slower than the limit: the pace so far.
        let left = time_left(10, 20, Duration::from_secs(60), Some(100)).unwrap();
        assert_eq!(left, Duration::from_secs(120));
        // No limit and nothing done yet: unknown.
        assert_eq!(time_left(0, 20, Duration::ZERO, None), None);
        assert_eq!(time_left(0, 20, Duration::ZERO, Some(0)), None);
        assert_eq!(time_left(3, 0, Duration::from_secs(1), Some(100)), Some(Duration::ZERO));
    }

    #[test]
    fn progress_lines_read_as_words() {
        assert_eq!(
            progress_line(120, 600, Duration::from_secs(72), Some(100)),
            "progress: 120 of 600 calls (20%), 1m 12s elapsed, about 4m 48s left"
        );
        assert_eq!(
            progress_line(0, 0, Duration::from_secs(10), None),
            "progress: 0 of 0 calls (0%), 10s elapsed, about 0s left"
        );
        assert_eq!(duration_words(Duration::from_secs(3900)), "1h 05m");
    }

    #[tokio::test(start_paused = true)]
    async fn off_a_terminal_a_line_is_logged_every_ten_seconds() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let lines = LogLines::start_with(Some(60), move |line| sink.lock().unwrap().push(line));
        lines.planned(10);
        lines.finished_job();
        // Paused time: the ticker fires as time is advanced, no wall-clock wait.
        for _ in 0..3 {
            tokio::time::advance(LOG_EVERY).await;
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
        drop(lines);
        tokio::time::advance(LOG_EVERY * 5).await;
        tokio::task::yield_now().await;
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "one line per interval, none after the run: {seen:?}");
        assert_eq!(seen[0], "progress: 1 of 10 calls (10%), 10s elapsed, about 1m 30s left");
    }
}
