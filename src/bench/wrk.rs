//! wrk, the HTTP load generator the benchmarks drive the server with from another
//! process: its scripts, the files of ids they read, and its report.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

/// wrk's scripts, and the files of ids they read, in a folder removed after the run.
pub(crate) struct Scripts {
    folder: PathBuf,
}

impl Scripts {
    /// Writes each `(name, script)` as `<name>.lua`.
    pub(crate) fn write(scripts: &[(&str, &str)]) -> anyhow::Result<Self> {
        let folder = std::env::temp_dir().join(format!("strata-bench-{}", std::process::id()));
        std::fs::create_dir_all(&folder)?;
        for (name, script) in scripts {
            std::fs::write(folder.join(format!("{name}.lua")), script)?;
        }
        Ok(Self { folder })
    }

    /// The script written under `name`.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.folder.join(format!("{name}.lua"))
    }

    /// Writes `ids` into one file per wrk thread (`ids.0`, `ids.1`, …) and answers the
    /// files' common prefix.
    pub(crate) fn split_ids(&self, ids: &[String], threads: usize) -> anyhow::Result<PathBuf> {
        let prefix = self.folder.join("ids");
        let per_thread = ids.len().div_ceil(threads);
        for (part, chunk) in ids.chunks(per_thread.max(1)).enumerate() {
            let path = PathBuf::from(format!("{}.{part}", prefix.display()));
            std::fs::write(path, chunk.join("\n"))?;
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
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub non_2xx: u64,
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

    /// wrk's threads for `clients` connections: one per core, never more than clients.
    pub(crate) fn threads(&self, clients: usize) -> usize {
        clients.clamp(1, 2)
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
        let output = tokio::task::spawn_blocking(move || command.output())
            .await?
            .context("running wrk")?;
        let printed = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            bail!(
                "wrk failed: {printed}{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        parse_wrk(&printed).with_context(|| format!("reading wrk's report:\n{printed}"))
    }
}

fn parse_wrk(printed: &str) -> anyhow::Result<WrkRun> {
    let field = |prefix: &str| {
        printed
            .lines()
            .find_map(|line| line.trim().strip_prefix(prefix).map(str::trim))
    };
    let per_second = field("Requests/sec:").context("no Requests/sec")?.parse()?;
    let p50 = wrk_duration(field("50%").context("no p50")?)?;
    let p99 = wrk_duration(field("99%").context("no p99")?)?;
    let non_2xx = field("Non-2xx or 3xx responses:").map_or(Ok(0), str::parse)?;
    Ok(WrkRun {
        per_second,
        p50,
        p99,
        non_2xx,
    })
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
    fn wrk_reports_are_read_with_their_units() {
        let printed = "Running 1s test @ http://127.0.0.1:1/orders
  Latency Distribution
     50%  512.00us
     75%    1.10ms
     99%    2.50ms
  1234 requests in 1.00s, 1.00MB read
  Non-2xx or 3xx responses: 7
Requests/sec:   1234.50
";
        let run = parse_wrk(printed).unwrap();
        assert_eq!(run.per_second, 1234.5);
        assert_eq!(run.p50, Duration::from_micros(512));
        assert_eq!(run.p99, Duration::from_micros(2500));
        assert_eq!(run.non_2xx, 7);
    }
}
