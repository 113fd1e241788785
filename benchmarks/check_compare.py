"""check-data against a plain pandas parse of the same files (issue 12, goal 6), at 1x and 10x Olist.

- check-data: `olist-segments check-data DIR` as a user runs it (a new process: wall and peak RSS);
- floor: `pandas.read_csv(path, dtype=str, keep_default_na=False)` of the same 8 CSVs in a new process (the C
  parser, every field as text: what any check has to read first).

The 10x folder comes from `olist-harness scale-data --factor 10` (deterministic), in a temporary folder.

Standalone: `.venv/bin/python benchmarks/check_compare.py [--data-dir DIR]`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from _common import OLIST_SEGMENTS, OLIST_TABLES, data_dir, progress, run, scaled_folder

PARSE = (
    "import sys, pandas as pd\n"
    "for path in sys.argv[1:]:\n"
    "    pd.read_csv(path, dtype=str, keep_default_na=False)\n"
)


@dataclass
class Measure:
    label: str
    bytes: int
    check_seconds: float
    check_rss: int
    parse_seconds: float
    parse_rss: int

    @property
    def ratio(self) -> float:
        return self.check_seconds / self.parse_seconds


def measure(label: str, folder: Path) -> Measure:
    files = [str(folder / f"{t}.csv") for t in OLIST_TABLES]
    environment = {**os.environ, "OLIST_LOAD_GEOLOCATION": "0"}
    progress(f"check-data {label} ({folder})")
    check = run([OLIST_SEGMENTS, "check-data", str(folder)], environment, log=f"check_{label}")
    progress(f"pandas parse {label}")
    parse = run([sys.executable, "-c", PARSE, *files], environment, log=f"parse_{label}")
    size = sum(Path(f).stat().st_size for f in files)
    return Measure(label, size, check.seconds, check.peak_rss, parse.seconds, parse.peak_rss)


def compare(real: Path, factor: float = 10) -> list[Measure]:
    results = [measure("1x", real)]
    with scaled_folder(factor) as scaled:
        results.append(measure(f"{factor:g}x", scaled))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", help="Olist CSVs (default OLIST_DATA_DIR, else ../shared/olist)")
    args = parser.parse_args()
    for m in compare(data_dir(args.data_dir)):
        print(
            f"{m.label}: check-data {m.check_seconds:.1f} s ({m.check_rss / 2**20:,.0f} MiB), pandas parse"
            f" {m.parse_seconds:.1f} s ({m.parse_rss / 2**20:,.0f} MiB): {m.ratio:.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
