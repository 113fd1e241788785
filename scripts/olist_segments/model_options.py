"""The segmentation model's settings as command-line options (`run` and `segment`) and as the dbt vars
`segment_<name>` they become (dbt_project.yml holds the defaults)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from . import features
from .segmentation import SegmentOptions, at_least, parse_bool, parse_k, parse_range, parse_refit

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
    "silhouette_sample": (at_least(2), "points for the silhouette"),
    "refit": (parse_refit, "never | auto | always: score with the approved model or refit"),
    "refit_after_days": (at_least(0), "refit: auto refits a model older than this"),
    "accept_drift": (parse_bool, "true: publish a run the drift gate would refuse"),
    "bulk_load": (str, "auto | infile (LOAD DATA LOCAL) | insert"),
}


def _checked(parse: Callable[[str], Any]) -> Callable[[str], str]:
    """Validate the text now (a clear argparse error), pass it on to dbt as written."""

    def check(text: str) -> str:
        try:
            parse(text)
        except (features.SegmentError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
        return text

    return check


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SegmentOptions()
    for name, (parse, help_text) in OPTIONS.items():
        default = getattr(defaults, name, "auto")
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
