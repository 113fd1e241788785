"""scripts/warehouse.sh from each starting state, with real MariaDB servers on free ports and tmp folders.

Never the machine's own server: each server here has its own data folder (OLIST_WAREHOUSE_DIR) and port and
is stopped afterwards, even when a test fails. Not exercised for real: installing the packages (root with
apt-get and no MariaDB); that branch is the one small function install_binaries, and the tests run it with a
stand-in apt-get that only records its arguments.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from olist_harness import reliability
from olist_segments import db, settings
from projectkit import ROOT, new_base_schema, query

SCRIPT = ROOT / "scripts" / "warehouse.sh"
OLIST_SEGMENTS = str(Path(sys.executable).with_name("olist-segments"))
IS_ROOT = os.geteuid() == 0
# An ordinary user for the tests that drop root: `nobody` has no home and cannot run apt-get.
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
needs_mariadb = pytest.mark.skipif(
    reliability.ThrowawayServer.missing() is not None, reason=str(reliability.ThrowawayServer.missing())
)
needs_root = pytest.mark.skipif(
    not (IS_ROOT and shutil.which("setpriv")), reason="needs root (and setpriv) to run as another user"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Bootstrap:
    """scripts/warehouse.sh with its own data folder and port (and extra environment, or another user)."""

    data: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    prefix: list[str] = field(default_factory=list)
    script: Path = SCRIPT

    def sh(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if k != "MYSQL_HOST"}
        full |= {"OLIST_WAREHOUSE_DIR": str(self.data), "MYSQL_PORT": str(self.port), **self.env, **env}
        cmd = [*self.prefix, "bash", str(self.script), *args]
        return subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=180)

    def started(self) -> subprocess.CompletedProcess[str]:
        proc = self.sh()
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def warehouse(self) -> settings.Warehouse:
        return settings.Warehouse("mariadb", "127.0.0.1", self.port, "root", "", "mysql")

    def query(self, sql: str) -> list[tuple]:
        with closing(db.connect(self.warehouse())) as conn:
            return query(conn, sql)

    def servers(self) -> list[psutil.Process]:
        """The mariadbd processes on this data folder."""
        mine = f"--datadir={self.data}/db"
        return [p for p in psutil.process_iter(["cmdline"]) if mine in (p.info["cmdline"] or [])]

    def pid(self) -> int:
        return int((self.data / "mysqld.pid").read_text())

    def stop_all(self) -> None:
        """The script's stop, then a kill for whatever still runs on this data folder."""
        self.sh("stop")
        left = self.servers()
        for proc in left:
            proc.kill()
        psutil.wait_procs(left, timeout=30)


@contextmanager
def bootstrap(
    data: Path, env: dict[str, str] | None = None, prefix: list[str] | None = None, script: Path = SCRIPT
) -> Iterator[Bootstrap]:
    """A Bootstrap on a free port whose servers are stopped on exit, even after a failure."""
    wh = Bootstrap(data, free_port(), env or {}, prefix or [], script)
    try:
        yield wh
    finally:
        wh.stop_all()


@contextmanager
def shared_tmp() -> Iterator[Path]:
    """A folder another user can use (pytest's tmp_path is private to us)."""
    folder = Path(tempfile.mkdtemp(prefix="olist-wh-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def public_script(folder: Path) -> Path:
    """A copy of the script that another user can read (the checkout may be in a private home)."""
    (folder / "scripts").mkdir(mode=0o755)
    return Path(shutil.copy2(SCRIPT, folder / "scripts" / "warehouse.sh"))


@pytest.fixture(scope="module")
def first_start(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Bootstrap, subprocess.CompletedProcess]]:
    """Our server, shared by the module: initialised and started once, from "installed but not serving"."""
    folder = tmp_path_factory.mktemp("warehouse")
    with bootstrap(folder / "wh") as wh:
        yield wh, wh.sh()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def ours(first_start: tuple[Bootstrap, subprocess.CompletedProcess]) -> Bootstrap:
    """The shared server, running (again, if a test before stopped it)."""
    wh, _ = first_start
    wh.started()
    return wh


@needs_mariadb
def test_installed_but_not_serving_initialises_and_starts_ours(
    first_start: tuple[Bootstrap, subprocess.CompletedProcess],
) -> None:
    wh, proc = first_start
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == (
        f"warehouse: initialising and starting our own MariaDB on 127.0.0.1:{wh.port} (data in {wh.data})\n"
    )
    assert wh.query(
        "select @@local_infile, @@character_set_server, @@collation_server, @@port, @@datadir, @@socket,"
        " @@innodb_buffer_pool_size"
    ) == [(1, "utf8mb4", "utf8mb4_unicode_ci", wh.port, f"{wh.data}/db/", f"{wh.data}/mysqld.sock", 2**30)]
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process(wh.pid()).net_connections("inet")
        if c.status == psutil.CONN_LISTEN
    }
    assert listening == {("127.0.0.1", wh.port)}


@needs_mariadb
@pytest.mark.slow
def test_sample_chain_runs_on_our_server(ours: Bootstrap, tmp_path: Path) -> None:
    schema = new_base_schema("wh")
    env = {k: v for k, v in os.environ.items() if k not in ("MYSQL_HOST", "OLIST_DATA_DIR")}
    env |= {"MYSQL_PORT": str(ours.port), "DBT_SCHEMA": schema, "DBT_TARGET": "mariadb"}
    env |= {"DBT_PROFILES_DIR": str(ROOT), "DBT_TARGET_PATH": str(tmp_path), "DBT_LOG_PATH": str(tmp_path)}
    proc = subprocess.run([OLIST_SEGMENTS, "run"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    [(features, segmented)] = ours.query(
        f"select (select count(*) from {schema}_marts.customer_features),"
        f" (select count(*) from {schema}_ml.customer_segments)"
    )
    assert features > 0 and segmented == features


@needs_mariadb
def test_ours_already_running_is_reused(ours: Bootstrap) -> None:
    pid = ours.pid()
    started = time.monotonic()
    proc = ours.started()
    assert time.monotonic() - started < 5
    assert proc.stdout == (
        f"warehouse: our MariaDB is already running on 127.0.0.1:{ours.port} "
        f"(pid {pid}, data in {ours.data})\n"
    )
    assert [p.pid for p in ours.servers()] == [pid]


@needs_mariadb
def test_stop_is_clean_and_a_second_stop_a_no_op(ours: Bootstrap) -> None:
    pid = ours.pid()
    proc = ours.sh("stop")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"warehouse: stopped our MariaDB (pid {pid}; data kept in {ours.data})\n"
    assert not ours.servers() and not answers(ours.port)
    assert not (ours.data / "mysqld.pid").exists()
    assert (ours.data / "server.log").read_text().rstrip().endswith("Shutdown complete")
    again = ours.sh("stop")
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"warehouse: our MariaDB is not running: nothing to stop (data in {ours.data})\n"


@needs_mariadb
def test_ours_initialised_but_stopped_starts_again_with_its_data(ours: Bootstrap) -> None:
    ours.query("create database if not exists kept")
    ours.query("create or replace table kept.t as select 42 as answer")
    assert ours.sh("stop").returncode == 0
    proc = ours.started()
    assert proc.stdout == (
        f"warehouse: starting our own MariaDB on 127.0.0.1:{ours.port} "
        f"(initialised before, data in {ours.data})\n"
    )
    assert ours.query("select answer from kept.t") == [(42,)]
    assert len(ours.servers()) == 1


@needs_mariadb
def test_ours_on_another_port_is_named_not_doubled(ours: Bootstrap) -> None:
    other = free_port()
    proc = ours.sh(MYSQL_PORT=str(other))
    assert proc.returncode == 1
    assert f"runs on port {ours.port}, not {other}: use MYSQL_PORT={ours.port}" in proc.stderr
    assert len(ours.servers()) == 1 and not answers(other)


@needs_mariadb
def test_option_files_are_not_read(tmp_path: Path) -> None:
    """Option files that would break the server (no TCP, a missing init file) must make no difference."""
    poison = (
        "[client-server]\nport = 1\nsocket = /nonexistent/mysqld.sock\n"
        "[mysqld]\nuser = nobody\ndatadir = /nonexistent\nskip-networking\n"
        "[mariadb]\ninit-file = /nonexistent/init.sql\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    (home / ".my.cnf").write_text(poison)
    (home / "my.cnf").write_text(poison)
    with bootstrap(tmp_path / "wh", env={"HOME": str(home), "MYSQL_HOME": str(home)}) as wh:
        proc = wh.started()
        assert "initialising and starting our own MariaDB" in proc.stdout
        assert wh.query("select @@port, @@skip_networking, @@datadir") == [(wh.port, 0, f"{wh.data}/db/")]


def test_mysql_host_set_and_nothing_answers_starts_nothing(tmp_path: Path) -> None:
    wh = Bootstrap(tmp_path / "wh", free_port())
    proc = wh.sh(MYSQL_HOST="127.0.0.1")
    assert proc.returncode == 1 and proc.stdout == ""
    assert f"nothing answers on MYSQL_HOST=127.0.0.1 port {wh.port}" in proc.stderr
    assert not wh.data.exists() and not answers(wh.port)


@needs_mariadb
def test_mysql_host_set_and_a_server_answers_is_used(ours: Bootstrap, tmp_path: Path) -> None:
    wh = Bootstrap(tmp_path / "wh", ours.port)
    proc = wh.sh(MYSQL_HOST="127.0.0.1")
    assert proc.returncode == 0, proc.stderr
    assert (
        proc.stdout
        == f"warehouse: using the server at 127.0.0.1:{ours.port} (MYSQL_HOST is set: nothing started)\n"
    )
    assert not wh.data.exists()


def test_port_taken_by_something_else_is_refused(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:  # accepts connections, never speaks
        wh = Bootstrap(tmp_path / "wh", listener.getsockname()[1])
        proc = wh.sh()
    assert proc.returncode == 1
    assert f"127.0.0.1:{wh.port} is taken by something that is not a MySQL/MariaDB server" in proc.stderr
    assert not wh.data.exists()


def stand_in_apt_get(folder: Path) -> Path:
    """An apt-get first on PATH that only appends its arguments to folder/apt-get.calls."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(mode=0o755)
    apt = bin_dir / "apt-get"
    apt.write_text(f"#!/bin/sh\necho \"$*\" >> '{folder}/apt-get.calls'\n")
    apt.chmod(0o755)
    return bin_dir


@pytest.mark.skipif(not shutil.which("setpriv") and IS_ROOT, reason="needs setpriv to drop root")
def test_not_installed_for_an_ordinary_user_says_what_to_do() -> None:
    with shared_tmp() as folder:
        path = f"{stand_in_apt_get(folder)}:{os.environ['PATH']}"
        missing = {"MARIADBD": f"{folder}/none/mariadbd", "MARIADB_INSTALL_DB": f"{folder}/none/install-db"}
        wh = Bootstrap(
            folder / "wh",
            free_port(),
            {"PATH": path, **missing},
            AS_NOBODY if IS_ROOT else [],
            public_script(folder),
        )
        proc = wh.sh()
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "MariaDB is not installed" in proc.stderr
        assert "sudo apt-get install mariadb-server-core mariadb-client-core" in proc.stderr
        assert "export MYSQL_HOST=… MYSQL_PORT=… MYSQL_USER=… MYSQL_PASSWORD=…" in proc.stderr
        assert "DBT_TARGET=mysql" in proc.stderr
        assert not (folder / "apt-get.calls").exists() and not wh.data.exists()


@needs_mariadb
@needs_root
def test_not_installed_as_root_installs_the_binaries_then_starts_ours(tmp_path: Path) -> None:
    """install_binaries with a stand-in apt-get: it asks for the right packages, then ours starts."""
    path = f"{stand_in_apt_get(tmp_path)}:{os.environ['PATH']}"
    missing = {"MARIADBD": f"{tmp_path}/none/mariadbd", "MARIADB_INSTALL_DB": f"{tmp_path}/none/install-db"}
    with bootstrap(tmp_path / "wh", env={"PATH": path, **missing}) as wh:
        proc = wh.started()
        assert proc.stdout.splitlines() == [
            "warehouse: MariaDB is not installed: apt-get install mariadb-server-core mariadb-client-core",
            f"warehouse: initialising and starting our own MariaDB on 127.0.0.1:{wh.port} "
            f"(data in {wh.data})",
        ]
        assert (tmp_path / "apt-get.calls").read_text().splitlines() == [
            "update -qq",
            "install -y -qq --no-install-recommends mariadb-server-core mariadb-client-core",
        ]
        assert wh.query("select 1") == [(1,)]


@needs_mariadb
@needs_root
def test_ordinary_user_gets_its_own_server() -> None:
    with (
        shared_tmp() as folder,
        bootstrap(folder / "wh", prefix=AS_NOBODY, script=public_script(folder)) as wh,
    ):
        proc = wh.started()
        assert "initialising and starting our own MariaDB" in proc.stdout
        assert psutil.Process(wh.pid()).username() == "nobody"
        assert wh.query("select @@local_infile") == [(1,)]
        assert "already running" in wh.started().stdout
        assert wh.sh("stop").stdout.startswith("warehouse: stopped our MariaDB")


def test_unknown_subcommand_is_refused(tmp_path: Path) -> None:
    wh = Bootstrap(tmp_path / "wh", free_port())
    proc = wh.sh("restart")
    assert proc.returncode == 1 and "usage: scripts/warehouse.sh [start|stop]" in proc.stderr
    assert not wh.data.exists()
