"""A real dask.distributed cluster on this machine, for the tests and the benchmarks: a scheduler and worker
processes of the virtualenv's `dask` CLI (one thread each, no nanny: killing a worker kills it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from distributed import Client

DASK = Path(sys.executable).with_name("dask")


class ClusterError(RuntimeError):
    pass


@dataclass
class Cluster:
    """Scheduler and workers as subprocesses, logs in `folder`; `address` is for DASK_SCHEDULER_ADDRESS."""

    folder: Path
    env: dict[str, str]
    scheduler: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    address: str = ""

    def start(self, workers: int) -> Cluster:
        scheduler_file = self.folder / "scheduler.json"
        scheduler_file.unlink(missing_ok=True)
        options = ["--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0"]
        self.scheduler = self._spawn("scheduler", *options, "--scheduler-file", str(scheduler_file))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                raise ClusterError(f"the Dask scheduler did not start: {self.log('scheduler')}")
            time.sleep(0.1)
        for i in range(workers):
            self.add_worker(f"worker{i}")
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(workers, timeout=120)
            self.address = client.scheduler.address
        return self

    def add_worker(self, name: str) -> None:
        scheduler = ["--scheduler-file", str(self.folder / "scheduler.json")]
        options = ["--nthreads", "1", "--no-nanny", "--name", name]
        options += ["--local-directory", str(self.folder / name)]
        self.workers.append(self._spawn("worker", *scheduler, *options, log=name))

    def kill_worker(self, i: int) -> None:
        self.workers[i].send_signal(signal.SIGKILL)
        self.workers[i].wait(timeout=30)

    def worker_peak_rss(self) -> list[int]:
        """Each live worker's peak resident memory so far, bytes (the kernel's VmHWM)."""
        peaks = []
        for proc in self.workers:
            status = Path(f"/proc/{proc.pid}/status")
            if proc.poll() is None and status.exists():
                line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
                peaks.append(int(line.split()[1]) * 1024)
        return peaks

    def stop(self) -> None:
        procs = [*self.workers, *([self.scheduler] if self.scheduler else [])]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    def log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"

    def _spawn(self, *args: str, log: str = "scheduler") -> subprocess.Popen[bytes]:
        with (self.folder / f"{log}.log").open("ab") as out:
            return subprocess.Popen([str(DASK), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT)


def start_cluster(folder: Path, workers: int = 2, *, allowed_failures: int | None = None) -> Cluster:
    """A scheduler and `workers` one-thread workers; `allowed_failures` 0: a task whose worker dies fails
    (the scheduler's default reruns it elsewhere, up to 3 times)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if allowed_failures is not None:
        env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = str(allowed_failures)
    folder.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(folder, env)
    try:
        return cluster.start(workers)
    except BaseException:
        cluster.stop()
        raise
