"""The `olist-segments` console script: one subcommand per step of the chain."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

import mysql.connector

from . import __version__
from .contract import ContractError
from .db import IdentifierError
from .features import SegmentError
from .grants import GrantError
from .settings import SettingsError

# Errors a user can act on from their message alone (the server's own errors name their cause).
EXPECTED_ERRORS = (
    SegmentError,
    SettingsError,
    IdentifierError,
    ContractError,
    GrantError,
    mysql.connector.Error,
)

# subcommand → (module exposing add_arguments(parser) and main(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("pipeline", "the whole chain: check data, one dbt build (segmentation model included), report"),
    "segment": ("segment", "refit the segmentation model: dbt build -s customer_segments+ with its options"),
    "report": ("report", "plots and an HTML report of the published segments"),
    "check-data": ("checks", "validate an Olist CSV folder (names, columns, types, keys) before loading it"),
    "doctor": ("doctor", "show the settings in use, the server and the connector implementation"),
    "grants": ("grants", "create or print least-privilege pipeline and BI users for the project's schemas"),
    "lineage": ("lineage", "write the Mermaid lineage diagram (from dbt's manifest) into README.md"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported (the ML ones load scikit-learn and matplotlib)."""
    parser = argparse.ArgumentParser(prog="olist-segments", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            mod = importlib.import_module(f"olist_segments.{module}")
            mod.add_arguments(cmd)
            cmd.set_defaults(handler=mod.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if a in COMMANDS), None)
    args = build_parser(command).parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # every command's errors end here: one line, the traceback only with -v
        if args.verbose:
            logging.getLogger(__name__).exception("olist-segments %s failed", args.command)
        print(f"olist-segments {args.command}: error: {describe(exc, args.verbose)}", file=sys.stderr)
        return 1


def describe(exc: BaseException, verbose: bool) -> str:
    """An error as one line: the message of an error we expect, else its type too and where to look."""
    text = " ".join(str(exc).split())
    if isinstance(exc, EXPECTED_ERRORS):
        return text
    return f"{type(exc).__name__}: {text}" + ("" if verbose else " (run with -v for the traceback)")


if __name__ == "__main__":
    sys.exit(main())
