"""Running the venv's dbt on this project, with the same profile as the olist-segments commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import settings

DBT = Path(sys.executable).with_name("dbt")


def command(*args: str, target: str | None = None, dbt_vars: Mapping[str, Any] | None = None) -> list[str]:
    """`dbt <args>` on this project; `dbt_vars` become `--vars` (JSON is YAML)."""
    cmd = [str(DBT), "--no-use-colors", *args, "--project-dir", str(settings.PROJECT_ROOT)]
    cmd += ["--profiles-dir", str(settings.profiles_dir())]
    if target:
        cmd += ["--target", target]
    if dbt_vars:
        cmd += ["--vars", json.dumps(dict(dbt_vars))]
    return cmd


def stream(cmd: Sequence[str], prefix: str = "dbt") -> int:
    """Run `cmd` in the project folder, echoing each output line behind `prefix`; its exit status."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        list(cmd),
        cwd=settings.PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"{prefix} | {line.rstrip()}", flush=True)
    return proc.returncode
