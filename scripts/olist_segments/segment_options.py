"""The segmentation model's settings: SegmentOptions as the model reads them from its dbt config, and the
command-line options of `run` and `segment` that become the dbt vars `segment_<name>` (dbt_project.yml holds
the defaults)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import drift, features
from .features import DEFAULT_FEATURES, SegmentError

REFIT = ("never", "auto", "always")


@dataclass(frozen=True)
class SegmentOptions:
    """The model's settings: the dbt vars `segment_<name>` (dbt_project.yml); `segment --<name>` sets them."""

    features: tuple[str, ...] = DEFAULT_FEATURES
    k: int | None = None  # None: choose from k_range
    k_range: tuple[int, int] = (2, 10)
    random_state: int = 42
    n_init: int = 10
    max_iter: int = 300
    chunk_size: int = 50_000
    max_fit_rows: int = 1_000_000
    k_search_rows: int = 200_000
    silhouette_sample: int = 10_000
    refit: str = "auto"  # never | auto | always
    refit_after_days: int = 90  # refit: auto refits a model older than this (0: never for age)
    k_switch_margin: float = 0.05
    match_max_distance: float = 1.0
    max_psi: float = drift.Thresholds.max_psi
    refit_psi: float = drift.Thresholds.refit_psi
    min_ari: float = drift.Thresholds.min_ari
    max_size_change: float = drift.Thresholds.max_size_change
    accept_drift: bool = False

    def ks(self) -> list[int]:
        return [self.k] if self.k is not None else list(range(self.k_range[0], self.k_range[1] + 1))

    @property
    def thresholds(self) -> drift.Thresholds:
        return drift.Thresholds(self.max_psi, self.refit_psi, self.min_ari, self.max_size_change)

    @classmethod
    def from_config(cls, **values: Any) -> SegmentOptions:
        """Options from dbt config values (strings as dbt renders them, or None for the default)."""
        unknown = set(values) - set(PARSERS)
        if unknown:
            raise SegmentError(f"unknown segmentation setting {sorted(unknown)[0]!r}")
        parsed = {}
        for name, value in values.items():
            if value is None or str(value).strip() in ("", "None"):
                continue
            try:
                parsed[name] = PARSERS[name](str(value).strip())
            except ValueError as exc:
                raise SegmentError(f"segmentation setting {name}: {exc}") from exc
        return cls(**parsed)


def at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def between(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def parse_k(text: str) -> int | None:
    return None if text == "auto" else at_least(2)(text)


def parse_range(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    if not sep or not low.isdigit() or not high.isdigit() or not 2 <= int(low) <= int(high):
        raise ValueError(f"expected LO-HI with 2 <= LO <= HI, e.g. 2-10; got {text!r}")
    return int(low), int(high)


def parse_refit(text: str) -> str:
    if text not in REFIT:
        raise ValueError(f"expected one of {', '.join(REFIT)}; got {text!r}")
    return text


def parse_submission_method(text: str) -> str:
    if text not in ("local", "dask"):
        raise ValueError(f"expected local or dask; got {text!r}")
    return text


def parse_bool(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"expected true or false; got {text!r}")
    return text.lower() in ("true", "1", "yes")


PARSERS: dict[str, Callable[[str], Any]] = {
    "features": features.parse_features,
    "k": parse_k,
    "k_range": parse_range,
    "random_state": int,
    "n_init": at_least(1),
    "max_iter": at_least(1),
    "chunk_size": at_least(1),
    "max_fit_rows": at_least(2),
    "k_search_rows": at_least(2),
    "silhouette_sample": at_least(2),
    "refit": parse_refit,
    "refit_after_days": at_least(0),
    "k_switch_margin": between(0, 1),
    "match_max_distance": between(0, 100),
    "max_psi": between(0, 100),
    "refit_psi": between(0, 100),
    "min_ari": between(-1, 1),
    "max_size_change": between(0, 1),
    "accept_drift": parse_bool,
}


# option → dbt var, in the order of --help
OPTIONS: dict[str, tuple[Callable[[str], Any], str]] = {
    "features": (features.parse_features, "comma-separated customer_features columns"),
    "k": (parse_k, "segments: auto or a number"),
    "k_range": (parse_range, "LO-HI: the k tried when k is auto"),
    "random_state": (int, "KMeans and sampling seed"),
    "n_init": (at_least(1), "KMeans initialisations per k"),
    "max_iter": (at_least(1), "KMeans iterations"),
    "chunk_size": (at_least(1), "rows per read and per load"),
    "max_fit_rows": (at_least(2), "fit on a uniform sample of this size above it"),
    "k_search_rows": (at_least(2), "choose k on a uniform sample of the fit rows of this size above it"),
    "silhouette_sample": (at_least(2), "points for the silhouette"),
    "refit": (parse_refit, "never | auto | always: score with the approved model or refit"),
    "refit_after_days": (at_least(0), "refit: auto refits a model older than this"),
    "accept_drift": (parse_bool, "true: publish a run the drift gate would refuse"),
    "bulk_load": (str, "auto | infile (LOAD DATA LOCAL) | insert"),
    "submission_method": (parse_submission_method, "local | dask: the passes in dbt or on a Dask cluster"),
    "dask_partitions": (at_least(0), "key ranges per pass on Dask; 0: two per worker thread"),
}
# Settings of the adapter rather than of the model (not in SegmentOptions).
ADAPTER_DEFAULTS = {"bulk_load": "auto", "submission_method": "local", "dask_partitions": 0}


def _checked(parse: Callable[[str], Any]) -> Callable[[str], str]:
    """Validate the text now (a clear argparse error), pass it on to dbt as written."""

    def check(text: str) -> str:
        try:
            parse(text)
        except (SegmentError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
        return text

    return check


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SegmentOptions()
    for name, (parse, help_text) in OPTIONS.items():
        default = getattr(defaults, name, ADAPTER_DEFAULTS.get(name))
        if isinstance(default, tuple):
            default = ",".join(default) if name == "features" else "-".join(map(str, default))
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            type=_checked(parse),
            metavar=name.upper(),
            help=f"{help_text} (dbt var segment_{name}; default {'auto' if default is None else default})",
        )


def dbt_vars(args: argparse.Namespace) -> dict[str, str]:
    """The dbt vars for the options given on the command line (the others keep dbt_project.yml's values)."""
    return {
        f"segment_{name}": getattr(args, name) for name in OPTIONS if getattr(args, name, None) is not None
    }
