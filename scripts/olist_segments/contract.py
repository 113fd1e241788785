"""Model contracts read from the dbt project's YAML — the one source of a model's columns and types.

The segmentation's allowed features are customer_features' numeric columns, and the synthetic marts of the
tests and benchmarks are created from the same declarations: adding a numeric feature column to
customer_features takes its SQL and its YAML, nothing here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from .settings import PROJECT_ROOT

MODELS = PROJECT_ROOT / "models"
_NUMERIC = re.compile(r"^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double)\b")


class ContractError(RuntimeError):
    """A model's YAML does not declare the columns the caller needs."""


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    not_null: bool
    primary_key: bool

    @property
    def numeric(self) -> bool:
        return bool(_NUMERIC.match(self.data_type.strip().lower()))


@cache
def columns(model: str) -> tuple[Column, ...]:
    """The declared columns of `model`, in order, from whichever models/**/*.yml declares it."""
    for path in sorted(MODELS.rglob("*.yml")):
        for node in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            if node.get("name") != model:
                continue
            found = []
            for col in node.get("columns") or []:
                if not col.get("data_type"):
                    raise ContractError(f"{_shown(path)}: {model}.{col['name']} has no data_type")
                kinds = {c.get("type") for c in col.get("constraints") or []}
                primary = "primary_key" in kinds
                found.append(
                    Column(col["name"], str(col["data_type"]), primary or "not_null" in kinds, primary)
                )
            if not found:
                raise ContractError(f"{_shown(path)}: {model} declares no columns")
            return tuple(found)
    raise ContractError(f"no YAML under {MODELS} declares the model {model}")


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path)


def numeric_columns(model: str) -> tuple[str, ...]:
    return tuple(c.name for c in columns(model) if c.numeric)


def ddl(model: str) -> str:
    """`(column type [not null], …, primary key (…))` for CREATE TABLE, as the contract declares it."""
    cols = columns(model)
    lines = [f"`{c.name}` {c.data_type}{' not null' if c.not_null else ' null'}" for c in cols]
    keys = [f"`{c.name}`" for c in cols if c.primary_key]
    if keys:
        lines.append(f"primary key ({', '.join(keys)})")
    return "(\n    " + ",\n    ".join(lines) + "\n)"
