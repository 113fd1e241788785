"""The `olist-harness` console script: the test and benchmark tools, one subcommand each."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# subcommand → (module exposing add_arguments(parser) and main(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "generate-sample": ("sample", "write the deterministic synthetic Olist-shaped sample CSVs into a folder"),
    "scale-data": ("scaled_data", "write an Olist-shaped folder N times the real size (deterministic)"),
    "synth-features": ("synth", "generate a synthetic customer_features table of N customers"),
    "reliability": ("reliability", "run the fault-injection scenarios and write docs/reliability.md"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="olist-harness", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name in argv:
            mod = importlib.import_module(f"olist_harness.{module}")
            mod.add_arguments(cmd)
            cmd.set_defaults(handler=mod.main)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(message)s",
        datefmt="%H:%M:%S",
    )
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
