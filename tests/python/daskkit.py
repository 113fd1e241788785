"""A real dask.distributed cluster on localhost for the tests: a scheduler and worker processes (`dask`
CLI of the virtualenv, no nanny, so that killing a worker kills it), started and stopped by the tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from distributed import Client

DASK = Path(sys.executable).with_name("dask")


@dataclass
class Cluster:
    """Scheduler and workers as subprocesses; `address` is what DASK_SCHEDULER_ADDRESS takes."""

    folder: Path
    env: dict[str, str]
    scheduler: subprocess.Popen[bytes] | None = None
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    address: str = ""

    def start(self, workers: int) -> Cluster:
        scheduler_file = self.folder / "scheduler.json"
        self.scheduler = self._spawn(
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0",
            "--scheduler-file", str(scheduler_file),
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                pytest.fail(f"the Dask scheduler did not start: {self._log('scheduler')}")
            time.sleep(0.1)
        for i in range(workers):
            self.add_worker(f"worker{i}")
        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:
            client.wait_for_workers(workers, timeout=120)
            self.address = client.scheduler.address
        return self

    def add_worker(self, name: str) -> None:
        scheduler = ["--scheduler-file", str(self.folder / "scheduler.json")]
        options = [
            "--nthreads",
            "1",
            "--no-nanny",
            "--name",
            name,
            "--local-directory",
            str(self.folder / name),
        ]
        self.workers.append(self._spawn("worker", *scheduler, *options, log=name))

    def kill_worker(self, i: int) -> None:
        self.workers[i].send_signal(signal.SIGKILL)
        self.workers[i].wait(timeout=30)

    def stop(self) -> None:
        for proc in [*self.workers, *([self.scheduler] if self.scheduler else [])]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, *([self.scheduler] if self.scheduler else [])]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    def _spawn(self, *args: str, log: str = "scheduler") -> subprocess.Popen[bytes]:
        out = (self.folder / f"{log}.log").open("ab")
        return subprocess.Popen([str(DASK), *args], env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def _log(self, name: str) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def start_cluster(folder: Path, workers: int = 2, *, allowed_failures: int | None = None) -> Cluster:
    """A scheduler and `workers` one-thread workers; `allowed_failures` 0: a task whose worker dies fails."""
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
