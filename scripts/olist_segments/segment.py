"""`olist-segments segment`: refit the segmentation model and rebuild everything built on it.

The data scientist's shortcut for `dbt build --select customer_segments+ --vars '{segment_…}'` (the model is
models/ml/customer_segments.py; its settings are the dbt vars segment_* of dbt_project.yml), then the report.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import dbt_cli, segment_options, settings
from .features import SegmentError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="dbt target (default: DBT_TARGET or the profile's default)")
    segment_options.add_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder (reports/)")
    parser.add_argument("--no-report", action="store_true", help="rebuild without drawing the report")


def main(args: argparse.Namespace) -> int:
    cmd = dbt_cli.command(
        "build", "--select", "customer_segments+", target=args.target, dbt_vars=segment_options.dbt_vars(args)
    )
    code = dbt_cli.stream(cmd)
    if code != 0:
        print(
            "olist-segments segment: error: dbt build failed (see above); a model that failed left its"
            " published table as it was",
            flush=True,
        )
        return code
    if args.no_report:
        return 0
    from . import report  # matplotlib only when drawing

    try:
        html = report.build(settings.load(args.target), args.out)
    except Exception as exc:
        raise SegmentError(f"the segments were published, but the report failed: {exc}") from exc
    print(f"report: {html}")
    return 0
