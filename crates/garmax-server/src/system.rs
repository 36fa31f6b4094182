//! Real-time system statistics for operators — `GET /api/admin/system-stats`
//! and the same numbers on `/metrics`: this process's and the host's CPU
//! and memory, the data directory's disk, the job queue per kind, jobs in
//! flight per worker, and the API's recent response times and errors by
//! code. Host figures come from `sysinfo`; the request window is this
//! process's (each `serve` process answers for its own traffic).

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

/// How far back the API's response times and errors are summarised.
pub const REQUEST_WINDOW: Duration = Duration::from_secs(300);
/// At most this many requests are kept for the summary (memory bound).
const MAX_SAMPLES: usize = 20_000;

/// One process's view of the machine and of its own requests.
pub struct SystemMonitor {
    sampler: Mutex<Sampler>,
    requests: Mutex<RequestWindow>,
    started: Instant,
}

struct Sampler {
    system: Option<sysinfo::System>,
    pid: Option<sysinfo::Pid>,
}

impl Default for SystemMonitor {
    fn default() -> Self {
        Self::new()
    }
}

impl SystemMonitor {
    /// Takes a first CPU reading, so the first report has a baseline.
    pub fn new() -> SystemMonitor {
        let mut sampler = Sampler {
            system: sysinfo::System::new().ok(),
            pid: sysinfo::get_current_pid().ok(),
        };
        sampler.refresh();
        SystemMonitor {
            sampler: Mutex::new(sampler),
            requests: Mutex::new(RequestWindow::default()),
            started: Instant::now(),
        }
    }

    /// Records one answered request (`code`: the API error code, if any).
    pub fn record_request(&self, latency: Duration, status: u16, code: Option<&'static str>) {
        let mut w = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        w.record(Instant::now(), latency, status, code);
    }

    /// The API's requests of the last [`REQUEST_WINDOW`].
    pub fn api_stats(&self) -> ApiStats {
        let mut w = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        w.summary(Instant::now(), REQUEST_WINDOW)
    }

    /// CPU, memory and the disk holding `data_dir`, read now (blocking
    /// reads of /proc: call from a blocking thread).
    pub fn machine(&self, data_dir: &Path) -> MachineStats {
        let mut s = self.sampler.lock().unwrap_or_else(|p| p.into_inner());
        s.refresh();
        MachineStats {
            process: s.process(self.started.elapsed()),
            host: s.host(),
            disk: disk_of(data_dir),
        }
    }
}

impl Sampler {
    fn refresh(&mut self) {
        let Some(system) = self.system.as_mut() else {
            return;
        };
        system.refresh_cpu_usage();
        system.refresh_memory();
        if let Some(pid) = self.pid {
            system.refresh_processes_specifics(
                sysinfo::ProcessesToUpdate::Some(&[pid]),
                true,
                sysinfo::ProcessRefreshKind::nothing()
                    .with_cpu()
                    .with_memory(),
            );
        }
    }

    fn process(&self, uptime: Duration) -> ProcessStats {
        let process = self
            .system
            .as_ref()
            .zip(self.pid)
            .and_then(|(s, pid)| s.process(pid));
        ProcessStats {
            pid: std::process::id(),
            cpu_percent: process.map_or(0.0, |p| p.cpu_usage() as f64),
            memory_bytes: process.map_or(0, |p| p.memory()),
            uptime_seconds: uptime.as_secs_f64(),
        }
    }

    fn host(&self) -> HostStats {
        let Some(s) = self.system.as_ref() else {
            return HostStats::default();
        };
        let total = s.total_memory();
        let used = s.used_memory();
        HostStats {
            cpus: s.cpus().len(),
            cpu_percent: s.global_cpu_usage() as f64,
            memory_used_bytes: used,
            memory_total_bytes: total,
            memory_percent: percent(used, total),
        }
    }
}

/// The disk (mount) holding `path`: the longest mount point it lies under.
fn disk_of(path: &Path) -> Option<DiskStats> {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let disks = sysinfo::Disks::new_with_refreshed_list().ok()?;
    let disk = disks
        .iter()
        .filter(|d| path.starts_with(d.mount_point()))
        .max_by_key(|d| d.mount_point().as_os_str().len())?;
    let total = disk.total_space();
    let used = total.saturating_sub(disk.available_space());
    Some(DiskStats {
        path,
        mount_point: disk.mount_point().to_path_buf(),
        used_bytes: used,
        total_bytes: total,
        used_percent: percent(used, total),
    })
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// The latest requests, oldest first, bounded in count and age.
#[derive(Default)]
struct RequestWindow {
    samples: VecDeque<Sample>,
}

struct Sample {
    at: Instant,
    ms: f64,
    status: u16,
    code: Option<&'static str>,
}

impl RequestWindow {
    fn record(&mut self, at: Instant, latency: Duration, status: u16, code: Option<&'static str>) {
        if self.samples.len() == MAX_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample {
            at,
            ms: latency.as_secs_f64() * 1000.0,
            status,
            code,
        });
    }

    fn summary(&mut self, now: Instant, window: Duration) -> ApiStats {
        while self
            .samples
            .front()
            .is_some_and(|s| now.duration_since(s.at) > window)
        {
            self.samples.pop_front();
        }
        let mut ms: Vec<f64> = self.samples.iter().map(|s| s.ms).collect();
        ms.sort_by(f64::total_cmp);
        let n = self.samples.len();
        let share = |pred: &dyn Fn(u16) -> bool| {
            if n == 0 {
                0.0
            } else {
                self.samples.iter().filter(|s| pred(s.status)).count() as f64 / n as f64
            }
        };
        let mut errors_by_code = BTreeMap::new();
        for s in &self.samples {
            if s.status >= 400 {
                let code = s
                    .code
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("HTTP_{}", s.status));
                *errors_by_code.entry(code).or_insert(0u64) += 1;
            }
        }
        ApiStats {
            window_seconds: window.as_secs(),
            requests: n as u64,
            p50_ms: quantile(&ms, 0.50),
            p95_ms: quantile(&ms, 0.95),
            p99_ms: quantile(&ms, 0.99),
            server_error_rate: share(&|s| s >= 500),
            client_error_rate: share(&|s| (400..500).contains(&s)),
            errors_by_code,
        }
    }
}

/// The `q` quantile of sorted values (nearest rank); 0 when empty.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MachineStats {
    pub process: ProcessStats,
    pub host: HostStats,
    /// The disk of the data directory (`None` where it cannot be read).
    pub disk: Option<DiskStats>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProcessStats {
    pub pid: u32,
    /// Of one core, as `top` shows it (a busy process on 2 cores: ~200).
    pub cpu_percent: f64,
    pub memory_bytes: u64,
    pub uptime_seconds: f64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HostStats {
    pub cpus: usize,
    /// Of all cores, 0–100.
    pub cpu_percent: f64,
    pub memory_used_bytes: u64,
    pub memory_total_bytes: u64,
    pub memory_percent: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiskStats {
    #[schema(value_type = String)]
    pub path: PathBuf,
    #[schema(value_type = String)]
    pub mount_point: PathBuf,
    pub used_bytes: u64,
    pub total_bytes: u64,
    pub used_percent: f64,
}

/// This process's API requests of the last `windowSeconds`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiStats {
    pub window_seconds: u64,
    pub requests: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// Share of answers with a 5xx status.
    pub server_error_rate: f64,
    /// Share of answers with a 4xx status.
    pub client_error_rate: f64,
    /// Error answers by the API's code (`HTTP_413` where the answer had
    /// none, e.g. a body over the limit refused before any handler).
    pub errors_by_code: BTreeMap<String, u64>,
}

/// This machine's name (what system-health alerts are keyed by).
pub fn host_name() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        sysinfo::System::host_name()
            .ok()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "localhost".into())
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_summarises_recent_requests_only() {
        let mut w = RequestWindow::default();
        let t0 = Instant::now();
        w.record(t0, Duration::from_millis(900), 500, Some("GEN_002"));
        let later = t0 + Duration::from_secs(400);
        for ms in 1..=100 {
            let status = if ms % 10 == 0 { 404 } else { 200 };
            let code = (status == 404).then_some("NOT_FOUND");
            w.record(later, Duration::from_millis(ms), status, code);
        }
        w.record(later, Duration::from_millis(5), 413, None);
        let s = w.summary(later, Duration::from_secs(300));
        assert_eq!(s.requests, 101, "the 400 s old request left the window");
        assert_eq!((s.p50_ms, s.p95_ms, s.p99_ms), (50.0, 95.0, 99.0));
        assert_eq!(s.server_error_rate, 0.0);
        assert!((s.client_error_rate - 11.0 / 101.0).abs() < 1e-12);
        assert_eq!(s.errors_by_code["NOT_FOUND"], 10);
        assert_eq!(s.errors_by_code["HTTP_413"], 1);
        assert!(!s.errors_by_code.contains_key("GEN_002"));
    }

    #[test]
    fn the_window_keeps_a_bounded_number_of_requests() {
        let mut w = RequestWindow::default();
        let t = Instant::now();
        for _ in 0..MAX_SAMPLES + 10 {
            w.record(t, Duration::from_millis(1), 200, None);
        }
        assert_eq!(w.samples.len(), MAX_SAMPLES);
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        assert_eq!(quantile(&[], 0.5), 0.0);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.75), 3.0);
    }

    #[test]
    fn the_machine_is_read() {
        let m = SystemMonitor::new();
        let stats = m.machine(Path::new("."));
        assert!(stats.host.cpus >= 1);
        assert!(stats.host.memory_total_bytes > stats.host.memory_used_bytes);
        assert!(stats.process.memory_bytes > 0, "{stats:?}");
        let disk = stats.disk.expect("the working directory's disk");
        assert!(
            disk.total_bytes > 0 && disk.used_percent <= 100.0,
            "{disk:?}"
        );
    }
}
