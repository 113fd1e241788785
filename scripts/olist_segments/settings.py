"""Warehouse settings, read from the same dbt profile that dbt uses (one source of truth)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROFILE_NAME = "olist_segments"
# adapters/mysql_python's types (Python models), then dbt-mysql's own (they read but cannot build the project)
ADAPTER_TYPES = ("mariadb_python", "mysql_python", "mariadb", "mysql")


class SettingsError(RuntimeError):
    """The dbt profile is missing or does not describe a MySQL/MariaDB target."""


@dataclass(frozen=True)
class Warehouse:
    """Connection settings of one dbt target. `repr` never shows the password."""

    adapter: str  # one of ADAPTER_TYPES
    host: str
    port: int
    user: str
    password: str
    schema: str  # dbt's base schema; custom schemas are <schema>_<name>
    unix_socket: str | None = None
    charset: str = "utf8mb4"
    collation: str = "utf8mb4_unicode_ci"

    def __repr__(self) -> str:
        return f"Warehouse({self.adapter}://{self.user}@{self.host}:{self.port}, schema={self.schema})"

    def schema_for(self, name: str) -> str:
        """The MySQL database dbt uses for custom schema `name` (e.g. `ml` → `olist_ml`)."""
        return f"{self.schema}_{name}"


def profiles_dir() -> Path:
    """Where dbt looks for profiles.yml: DBT_PROFILES_DIR, then the project folder, then ~/.dbt."""
    if env := os.environ.get("DBT_PROFILES_DIR"):
        return Path(env)
    for folder in (Path.cwd(), PROJECT_ROOT, Path.home() / ".dbt"):
        if (folder / "profiles.yml").is_file():
            return folder
    raise SettingsError(
        "no profiles.yml found (DBT_PROFILES_DIR, the project folder, ~/.dbt): "
        "copy profiles.yml.example to profiles.yml (make does it)"
    )


def _render(value: object, env: jinja2.Environment) -> object:
    if isinstance(value, dict):
        return {k: _render(v, env) for k, v in value.items()}
    if isinstance(value, str) and "{{" in value:
        return env.from_string(value).render()
    return value


def _jinja() -> jinja2.Environment:
    """The subset of dbt's profile Jinja that profiles use: env_var and the as_* filters."""

    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise SettingsError(f"profiles.yml needs environment variable {name}, which is not set")
        return default

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals["env_var"] = env_var
    for name in ("as_number", "as_text", "as_bool", "as_native"):
        env.filters[name] = lambda v: v
    return env


def load(target: str | None = None) -> Warehouse:
    """The warehouse of `target` (default: DBT_TARGET, else the profile's own default target)."""
    path = profiles_dir() / "profiles.yml"
    try:
        profiles = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"cannot read {path}: {exc}") from exc
    if PROFILE_NAME not in profiles:
        raise SettingsError(f"{path} has no profile named {PROFILE_NAME!r}")
    env = _jinja()
    profile = profiles[PROFILE_NAME]
    name = target or os.environ.get("DBT_TARGET") or str(_render(profile.get("target", ""), env))
    outputs = profile.get("outputs", {})
    if name not in outputs:
        raise SettingsError(f"{path}: profile {PROFILE_NAME!r} has no target {name!r}")
    out = _render(outputs[name], env)
    assert isinstance(out, dict)
    if out.get("type") not in ADAPTER_TYPES:
        raise SettingsError(
            f"{path}: target {name!r} has type {out.get('type')!r}; need {' or '.join(ADAPTER_TYPES[:2])}"
        )
    return Warehouse(
        adapter=out["type"],
        host=str(out.get("server") or out.get("host") or "127.0.0.1"),
        port=int(out.get("port") or 3306),
        user=str(out.get("username") or out.get("user") or ""),
        password=str(out.get("password") or ""),
        schema=str(out["schema"]),
        unix_socket=out.get("unix_socket") or None,
        charset=str(out.get("charset") or "utf8mb4"),
        collation=str(out.get("collation") or "utf8mb4_unicode_ci"),
    )
