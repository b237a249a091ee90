//! wrk, the HTTP load generator the benchmarks drive the server with from another
//! process: its scripts, the files of ids they read, and its report.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{bail, Context};

/// The start of a script whose threads each walk a file of ids of their own: the file
/// the script's argument names, with the thread's number appended (see
/// [`Scripts::split_ids`]). It leaves the thread's ids in `ids` and counts requests in
/// `sent`; the script's own `request` follows.
pub(crate) const EACH_THREAD_READS_ITS_IDS: &str = r#"
local threads = 0
function setup(thread)
  thread:set("part", threads)
  threads = threads + 1
end
function init(args)
  ids = {}
  for line in io.lines(args[1] .. "." .. part) do ids[#ids + 1] = line end
  sent = 0
end
"#;

/// How long wrk waits for an answer: past the server's own 10 s limit, so that every
/// answer, however slow, is in the latency figures.
const ANSWER_TIMEOUT: &str = "15s";

/// wrk's scripts, and the files of ids they read, in a folder removed after the run.
pub(crate) struct Scripts {
    folder: PathBuf,
}

/// Numbers the folders of one process's [`Scripts`].
static FOLDERS: AtomicUsize = AtomicUsize::new(0);

impl Scripts {
    /// Writes each `(name, script)` as `<name>.lua` in a new folder of its own.
    pub(crate) fn write(scripts: &[(&str, &str)]) -> anyhow::Result<Self> {
        let folder = std::env::temp_dir().join(format!(
            "strata-bench-{}-{}",
            std::process::id(),
            FOLDERS.fetch_add(1, Ordering::Relaxed)
        ));
        if folder.exists() {
            std::fs::remove_dir_all(&folder)?;
        }
        std::fs::create_dir(&folder)?;
        for (name, script) in scripts {
            std::fs::write(folder.join(format!("{name}.lua")), script)?;
        }
        Ok(Self { folder })
    }

    /// The script written under `name`.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.folder.join(format!("{name}.lua"))
    }

    /// Deals `ids` into one file per wrk thread (`ids.0`, `ids.1`, …) and answers the
    /// files' common prefix.
    pub(crate) fn split_ids(&self, ids: &[String], threads: usize) -> anyhow::Result<PathBuf> {
        if ids.len() < threads {
            bail!("{} ids cannot feed {threads} wrk threads", ids.len());
        }
        let prefix = self.folder.join("ids");
        for part in 0..threads {
            let dealt: Vec<&str> = ids
                .iter()
                .skip(part)
                .step_by(threads)
                .map(String::as_str)
                .collect();
            let path = PathBuf::from(format!("{}.{part}", prefix.display()));
            std::fs::write(path, dealt.join("\n"))?;
        }
        Ok(prefix)
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// The wrk on the `PATH`.
pub(crate) struct Wrk;

/// What one wrk run printed.
pub(crate) struct WrkRun {
    /// Requests answered 2xx or 3xx per second: refusals and errors do not count.
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Requests answered otherwise, or not answered (a socket error or a timeout).
    pub non_2xx: u64,
    /// The CPU time this process spent during the run per request answered: the
    /// server's cost of a request when the server is this process's only work.
    pub cpu_per_request: Duration,
}

impl Wrk {
    pub(crate) fn find() -> anyhow::Result<Self> {
        match std::process::Command::new("wrk").arg("--version").output() {
            Ok(_) => Ok(Self),
            Err(_) => bail!(
                "strata bench drives HTTP with wrk from another process: install it \
                 (apt install wrk)"
            ),
        }
    }

    /// wrk's threads for `clients` connections: one per core, as long as they share
    /// the connections evenly (wrk gives each thread `clients / threads`).
    pub(crate) fn threads(&self, clients: usize) -> usize {
        if clients >= 2 && clients.is_multiple_of(2) {
            2
        } else {
            1
        }
    }

    /// Runs wrk against `base` + `path` with `script` (and its `argument`), sending
    /// `authorization`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run(
        &self,
        base: &str,
        path: &str,
        clients: usize,
        seconds: u64,
        script: &Path,
        authorization: &str,
        argument: Option<&Path>,
    ) -> anyhow::Result<WrkRun> {
        let mut command = std::process::Command::new("wrk");
        command
            .arg("--latency")
            .args(["--timeout", ANSWER_TIMEOUT])
            .args(["-t", &self.threads(clients).to_string()])
            .args(["-c", &clients.to_string()])
            .args(["-d", &format!("{seconds}s")])
            .arg("-s")
            .arg(script)
            .args(["-H", &format!("Authorization: {authorization}")])
            .arg(format!("{base}{path}"));
        if let Some(argument) = argument {
            command.arg("--").arg(argument);
        }
        let cpu = super::process_cpu()?;
        let output = tokio::task::spawn_blocking(move || command.output())
            .await?
            .context("running wrk")?;
        let spent = super::process_cpu()? - cpu;
        let printed = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed: {printed}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let (run, answered) =
            parse_wrk(&printed).with_context(|| format!("reading wrk's report:\n{printed}"))?;
        Ok(WrkRun {
            cpu_per_request: spent / answered.max(1) as u32,
            ..run
        })
    }
}

/// The run wrk reports (without the CPU time), and how many requests were answered.
fn parse_wrk(printed: &str) -> anyhow::Result<(WrkRun, u64)> {
    let field = |prefix: &str| {
        printed
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix).map(str::trim))
    };
    // "1234 requests in 10.00s, 1.00MB read": answers, refusals among them.
    let total = printed
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .context("no request count")?;
    let answered: u64 = total.0.parse()?;
    let elapsed = wrk_duration(total.1.split(',').next().unwrap_or_default())?;
    let refused: u64 = field("Non-2xx or 3xx responses:").map_or(Ok(0), str::parse)?;
    // "Socket errors: connect 0, read 0, write 0, timeout 12": never answered.
    let unanswered: u64 = field("Socket errors:").map_or(0, |errors| {
        errors
            .split(',')
            .filter_map(|error| error.split_whitespace().last()?.parse::<u64>().ok())
            .sum()
    });
    let run = WrkRun {
        per_second: answered.saturating_sub(refused) as f64 / elapsed.as_secs_f64(),
        p50: wrk_duration(field("50%").context("no p50")?)?,
        p99: wrk_duration(field("99%").context("no p99")?)?,
        non_2xx: refused + unanswered,
        cpu_per_request: Duration::ZERO,
    };
    Ok((run, answered))
}

/// A duration as wrk prints it: `512.00us`, `1.23ms`, `2.00s`.
fn wrk_duration(text: &str) -> anyhow::Result<Duration> {
    let (number, seconds_per_unit) = if let Some(n) = text.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1.0)
    } else {
        bail!("a duration wrk would not print: {text}");
    };
    Ok(Duration::from_secs_f64(
        number.parse::<f64>()? * seconds_per_unit,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_are_read_with_their_units_and_refusals_apart() {
        let printed = "Running 1s test @ http://127.0.0.1:1/orders
  Latency Distribution
     50%  512.00us
     75%    1.10ms
     99%    2.50ms
  1234 requests in 1.00s, 1.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   1234.50
";
        let (run, answered) = parse_wrk(printed).unwrap();
        assert_eq!(answered, 1234);
        assert_eq!(run.per_second, 1227.0, "refusals are not throughput");
        assert_eq!(run.p50, Duration::from_micros(512));
        assert_eq!(run.p99, Duration::from_micros(2500));
        assert_eq!(run.non_2xx, 7 + 3, "refused and never answered");
    }
}
