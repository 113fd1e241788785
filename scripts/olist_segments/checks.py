"""`olist-segments check-data DIR`: refuse a broken folder of Olist CSVs before anything is loaded.

The expected files, columns and types come from the column_types in models/staging/olist/_olist__seeds.yml
(the one place that configures the Olist seeds: one source of truth); the keys, foreign keys and value rules
below are what the models rely on. Every problem names the file, the column and (where it makes sense) the
line; per problem a few examples are shown with the total count.
"""

from __future__ import annotations

import argparse
import csv
import difflib
import gc
import hashlib
import io
import json
import os
import re
import sys
import time
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml

from .settings import PROJECT_ROOT

BOM = b"\xef\xbb\xbf"
EXAMPLES = 5  # examples shown per problem
GEOLOCATION = "olist_geolocation_dataset"
# The Olist seeds' properties: descriptions, indexes and the column_types dbt creates the raw tables with.
SEEDS_FILE = PROJECT_ROOT / "models" / "staging" / "olist" / "_olist__seeds.yml"

# Primary keys (reviews have none: the real data repeats review_id and order_id).
KEYS: dict[str, tuple[str, ...]] = {
    "olist_customers_dataset": ("customer_id",),
    "olist_orders_dataset": ("order_id",),
    "olist_order_items_dataset": ("order_id", "order_item_id"),
    "olist_order_payments_dataset": ("order_id", "payment_sequential"),
    "olist_products_dataset": ("product_id",),
    "olist_sellers_dataset": ("seller_id",),
    "product_category_name_translation": ("product_category_name",),
}
# (child table, column, parent table, parent column)
FOREIGN_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("olist_orders_dataset", "customer_id", "olist_customers_dataset", "customer_id"),
    ("olist_order_items_dataset", "order_id", "olist_orders_dataset", "order_id"),
    ("olist_order_items_dataset", "product_id", "olist_products_dataset", "product_id"),
    ("olist_order_items_dataset", "seller_id", "olist_sellers_dataset", "seller_id"),
    ("olist_order_payments_dataset", "order_id", "olist_orders_dataset", "order_id"),
    ("olist_order_reviews_dataset", "order_id", "olist_orders_dataset", "order_id"),
)
_FOREIGN_KEY_COLUMNS: dict[str, dict[str, None]] = {}  # table -> its columns in FOREIGN_KEYS (ordered set)
for _child, _col, _parent, _parent_col in FOREIGN_KEYS:
    _FOREIGN_KEY_COLUMNS.setdefault(_child, {})[_col] = None
    _FOREIGN_KEY_COLUMNS.setdefault(_parent, {})[_parent_col] = None
MONEY: dict[str, tuple[str, ...]] = {
    "olist_order_items_dataset": ("price", "freight_value"),
    "olist_order_payments_dataset": ("payment_value",),
}
# Tables the marts can do without: a header-only file is a note, not an error.
MAY_BE_EMPTY = frozenset({"olist_order_reviews_dataset", "product_category_name_translation"})
# A header of one field that splits on one of these into the expected columns: the wrong dialect.
OTHER_DELIMITERS = (";", "\t", "|")
PLAUSIBLE_HOW = "the range is dbt var check_data_plausible in dbt_project.yml"


@dataclass(frozen=True)
class Plausible:
    """Values that parse but no real Olist export holds: refused before loading (dbt var check_data_plausible:
    earliest timestamp, latest timestamp (null: a year from today), largest amount of one price, freight or
    payment)."""

    earliest: pd.Timestamp
    latest: pd.Timestamp
    max_amount: float

    @classmethod
    def from_project(cls, project_file: Path = PROJECT_ROOT / "dbt_project.yml") -> Plausible:
        project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
        ranges = (project.get("vars") or {}).get("check_data_plausible") or {}
        latest = ranges.get("latest_timestamp")
        return cls(
            pd.Timestamp(str(ranges.get("earliest_timestamp", "2016-01-01"))),
            pd.Timestamp(str(latest)) if latest else pd.Timestamp.now().normalize() + pd.Timedelta(days=365),
            float(ranges.get("max_amount", 100_000)),
        )


_TYPE = re.compile(r"(char|varchar|int|decimal|datetime|text|double)(?:\((\d+)(?:,\s*(\d+))?\))?")
_INT = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?")
_ZIP = re.compile(r"\d{5}")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # how surrogateescape decodes a byte that is not UTF-8
INT_RANGE = (-(2**31), 2**31 - 1)
TEXT_BYTES = 65_535

Severity = Literal["error", "note"]


@dataclass(frozen=True)
class ColumnType:
    kind: str  # char, varchar, int, decimal, datetime, text, double
    length: int | None = None  # char/varchar length; decimal precision
    scale: int | None = None  # decimal scale


@dataclass(frozen=True)
class Problem:
    """One finding about one file (and column). Errors refuse the folder; notes are for information."""

    file: str
    message: str
    column: str | None = None
    line: int | None = None  # first line concerned (1 = the header)
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file + (f", column {self.column}" if self.column else "")
        where += f", line {self.line}" if self.line else ""
        return f"{self.severity.upper()} {where}: {self.message}"


class DataCheckError(RuntimeError):
    """The folder has errors; the message lists them."""

    def __init__(self, folder: Path, problems: list[Problem]) -> None:
        self.problems = problems
        found = [str(p) for p in errors(problems)]
        super().__init__(f"{folder}: {len(found)} problem(s), nothing loaded:\n" + "\n".join(found))


def seed_column_types(properties_file: Path = SEEDS_FILE) -> dict[str, dict[str, str]]:
    """The column_types of every Olist seed (seed → column → SQL type), as in its properties file."""
    seeds = (yaml.safe_load(properties_file.read_text(encoding="utf-8")) or {}).get("seeds") or []
    return {
        seed["name"]: {col: str(t) for col, t in types.items()}
        for seed in seeds
        if (types := (seed.get("config") or {}).get("column_types"))
    }


def load_specs(properties_file: Path = SEEDS_FILE) -> dict[str, dict[str, ColumnType]]:
    """Expected columns and types of every Olist seed, from the seeds' column_types (_olist__seeds.yml)."""
    return {
        name: {col: _parse_type(properties_file, name, col, t) for col, t in types.items()}
        for name, types in seed_column_types(properties_file).items()
    }


def _parse_type(source: Path, table: str, column: str, text: str) -> ColumnType:
    m = _TYPE.fullmatch(text.strip().lower())
    if not m:
        raise ValueError(
            f"{source.name}: seed {table}.{column} has type {text!r}, which check-data cannot check"
        )
    kind, length, scale = m.groups()
    return ColumnType(kind, int(length) if length else None, int(scale) if scale else None)


@dataclass
class _Table:
    file: str
    frame: pd.DataFrame  # every field as str, "" when empty
    lines: np.ndarray  # line (1-based) where each row starts
    complete: bool  # every row could be read


class _Collector:
    """The problems of one file."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(
        self, message: str, column: str | None = None, line: int | None = None, note: bool = False
    ) -> None:
        self.problems.append(Problem(self.file, message, column, line, "note" if note else "error"))

    def rows(self, t: _Table, column: str, mask: np.ndarray, what: str, note: bool = False) -> None:
        """One problem for the rows in `mask`: the count, then line and value of the first few."""
        self.rows_of(t.frame[column].to_numpy(), t.lines, column, mask, what, note)

    def rows_of(
        self,
        values: np.ndarray,
        lines: np.ndarray,
        column: str,
        mask: np.ndarray,
        what: str,
        note: bool = False,
    ) -> None:
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return
        shown = ", ".join(f"line {lines[i]} {_show(_text(values[i]))}" for i in idx[:EXAMPLES])
        self.add(f"{what}: {_rows_count(len(idx))}, e.g. {shown}", column, int(lines[idx[0]]), note)


@dataclass
class _Keys:
    """The columns of one file the foreign-key checks read, kept while the other files are checked: UTF-8
    bytes in numpy arrays, as written and as the warehouse compares them. Keeping the parsed str objects
    instead pinned the memory of every file read (10x Olist: 3.1 GiB; a str per row in 1 MiB arenas)."""

    file: str
    lines: np.ndarray
    complete: bool
    written: dict[str, np.ndarray]
    compared: dict[str, np.ndarray]

    @classmethod
    def of(cls, t: _Table, columns: Iterable[str]) -> _Keys:
        written, compared = {}, {}
        for c in (c for c in columns if c in t.frame):
            written[c] = _utf8(t.frame[c])
            if _folded_already(written[c]):
                compared[c] = written[c]
            else:
                compared[c] = _utf8(_warehouse_key(t.frame[c]))
        return cls(t.file, t.lines, t.complete, written, compared)


def _utf8(values: pd.Series) -> np.ndarray:
    try:
        return values.to_numpy().astype(np.bytes_)  # ASCII (Olist's ids): in C
    except UnicodeEncodeError:
        return np.array([v.encode("utf-8", errors="surrogateescape") for v in values], dtype=np.bytes_)


def _folded_already(keys: np.ndarray) -> bool:
    """ASCII keys without capitals or trailing spaces (Olist's hex ids): _warehouse_key changes nothing."""
    if keys.dtype.kind != "S" or not keys.size:
        return False
    chars = keys.view(np.uint8)
    if (chars >= 0x80).any() or ((chars >= ord("A")) & (chars <= ord("Z"))).any():
        return False
    return not np.char.endswith(keys, b" ").any()


def _text(value: str | bytes) -> str:
    return value.decode("utf-8", errors="surrogateescape") if isinstance(value, bytes) else value


def _rows_count(n: int) -> str:
    return f"{n:,} rows" if n != 1 else "1 row"


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


def _decode(data: bytes, out: _Collector) -> tuple[str, bool]:
    """The text and whether it is UTF-8; bad bytes are reported (offset, line) and kept as surrogates."""
    start = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[start:].decode("utf-8"), True
    except UnicodeDecodeError:
        text = data[start:].decode("utf-8", errors="surrogateescape")
    bad = [m.start() for m in _NOT_UTF8.finditer(text)]
    shown = []
    for pos in bad[:EXAMPLES]:
        offset = start + len(text[:pos].encode("utf-8", errors="surrogateescape"))
        line = text.count("\n", 0, pos) + 1
        shown.append(f"byte 0x{ord(text[pos]) - 0xDC00:02X} at offset {offset:,} (line {line})")
    out.add(
        f"not UTF-8: {len(bad):,} invalid byte(s), e.g. {', '.join(shown)}; save the file as UTF-8", line=None
    )
    return text, False


def _plain(body: bytes) -> tuple[list[str], pd.DataFrame, np.ndarray] | None:
    """Header, rows (str) and the line each row starts on, read by pandas' C parser, when the file is plain
    CSV: UTF-8, every quote opens or closes a field or is doubled inside one, every \\r ends a line with \\n,
    every record exactly as wide as the header. On such a file pandas and the csv module read the same fields
    (tests compare them). Anything else gives None: the csv module reads it and says what is wrong where."""
    b = np.frombuffer(body, np.uint8)
    quotes = np.flatnonzero(b == ord('"'))
    if len(quotes) % 2 or ((cr := body.count(b"\r")) and cr != body.count(b"\r\n")):
        return None  # an unterminated quote, or a line break the two parsers count differently
    adjacent = np.diff(quotes) == 1  # a doubled quote inside a quoted field
    before = b[np.maximum(quotes[0::2] - 1, 0)]  # quotes that enter a quoted stretch must open a field
    opens = (quotes[0::2] == 0) | (before == ord(",")) | (before == ord("\n"))
    opens[1:] |= adjacent[1::2]
    after = b[np.minimum(quotes[1::2] + 1, len(b) - 1)]  # the quotes that leave one must close the field
    closes = (quotes[1::2] == len(b) - 1) | (after == ord(",")) | (after == ord("\n")) | (after == ord("\r"))
    closes[:-1] |= adjacent[1::2]
    if not (opens.all() and closes.all()):
        return None
    del before, after, opens, closes, adjacent
    # Quotes pair up: a byte lies inside a quoted field when an odd number of quotes precede it.
    breaks = np.flatnonzero(b == ord("\n"))
    ends = np.flatnonzero(np.searchsorted(quotes, breaks) % 2 == 0)  # the line breaks outside quotes
    commas = np.flatnonzero(b == ord(","))
    commas = commas[np.searchsorted(quotes, commas) % 2 == 0]
    records = len(ends) + (not body.endswith(b"\n"))
    per_record = np.bincount(np.searchsorted(breaks[ends], commas), minlength=records)
    if records < 2 or per_record[0] == 0 or (per_record != per_record[0]).any():
        return None  # no rows, one column (another delimiter?), a blank line or a row of the wrong width
    del commas, per_record, quotes
    try:
        frame = pd.read_csv(io.BytesIO(body), header=None, dtype=object, na_filter=False, engine="c")
    except (pd.errors.ParserError, UnicodeDecodeError):
        return None
    if len(frame) != records:
        return None
    # a record starts on the line after the break that ends the one before it
    starts = np.concatenate(([1], ends[: records - 1] + 2))
    header = [str(c) for c in frame.iloc[0]]
    frame = frame.iloc[1:].reset_index(drop=True)
    frame.columns = header
    return header, frame, starts[1:].astype(np.int64)


def _records(text: str, out: _Collector) -> tuple[list[list[str]], list[int], bool]:
    """CSV records, the line where each starts, and whether the whole file could be read (strict quoting)."""
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        records = []
    if records:
        newlines = text.count("\n")
        if newlines in (len(records), len(records) - 1) and text.count("\r") in (0, newlines):
            return records, list(range(1, len(records) + 1)), True  # one line per record
        # A record starts one line after the previous one, plus the line breaks inside its fields
        # (counted as the csv reader counts lines: \r\n, \r or \n).
        spans = [1 + r.count("\n") + r.count("\r") - r.count("\r\n") for r in map(",".join, records)]
        return records, np.concatenate(([1], np.cumsum(spans[:-1]) + 1)).tolist(), True
    # Broken quoting: read up to the error, following the reader's line count.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records, starts, end = [], [], 0
    try:
        for record in reader:
            records.append(record)
            starts.append(end + 1)
            end = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            what = (
                "unterminated quote: a quoted field of this row never closes (it runs to the end of the file)"
            )
        else:
            what = f"stray quote ({exc}, at line {reader.line_num}): quote the field and double inner quotes"
        out.add(f"broken CSV quoting, {what}; the rows after it were not checked", line=end + 1)
        return records, starts, False
    return records, starts, True


def _rows(
    records: list[list[str]], starts: list[int], out: _Collector
) -> tuple[list[list[str]], list[int], bool]:
    """The data rows with as many fields as the header; the others are reported."""
    width = len(records[0])
    if all(n == width for n in map(len, records)):
        return records[1:], starts[1:], True
    rows, lines, wrong, blank = [], [], [], []
    for record, start in zip(records[1:], starts[1:], strict=True):
        if len(record) == width:
            rows.append(record)
            lines.append(start)
        elif record:
            wrong.append((start, len(record)))
        else:
            blank.append(start)
    if wrong:
        shown = ", ".join(f"line {s} has {n}" for s, n in wrong[:EXAMPLES])
        out.add(
            f"{len(wrong):,} row(s) with the wrong number of fields (the header has {width}): {shown} "
            "(an unquoted comma or a stray quote?)",
            line=wrong[0][0],
        )
    if blank:
        out.add(f"{len(blank):,} blank line(s) skipped, e.g. line {blank[0]}", line=blank[0], note=True)
    return rows, lines, not wrong


def _check_header(table: str, header: list[str], expected: dict[str, ColumnType], out: _Collector) -> bool:
    """Problems of the header; False when the file is not in Olist's CSV dialect (nothing else to check)."""
    if len(header) == 1 < len(expected):
        for sep in OTHER_DELIMITERS:
            if sep in header[0] and len(header[0].split(sep)) == len(expected):
                out.add(
                    f"not comma-separated: the header splits into {len(expected)} columns on {sep!r}"
                    " (saved by a spreadsheet with another list separator?); Olist files use ','",
                    line=1,
                )
                return False
    seen: set[str] = set()
    for col in header:
        if col in seen:
            out.add("column appears twice in the header", col, 1)
        seen.add(col)
    missing = [c for c in expected if c not in seen]
    extra = [c for c in dict.fromkeys(header) if c not in expected]
    for col in missing:
        near = difflib.get_close_matches(col, extra, n=1, cutoff=0.6)
        hint = f" (the header has {near[0]!r}: renamed?)" if near else ""
        out.add(f"missing column{hint}; {table} needs {', '.join(expected)}", col, 1)
    for col in extra:
        out.add("unexpected column (not in the seed's column_types in _olist__seeds.yml)", col, 1)
    if not missing and not extra and [c for c in header if c in expected] != list(expected):
        out.add("columns are in an unusual order: accepted (seeds load by name)", note=True)
    return True


# A column's findings: (problem, mask over its distinct non-empty values, is_note).
Findings = list[tuple[str, np.ndarray, bool]]


def _mask(values: Iterable[bool], n: int) -> np.ndarray:
    return np.fromiter(values, bool, n)


def _datetimes(u: np.ndarray) -> pd.Series:
    """The values as timestamps (NaT where they do not parse); a date alone is a valid datetime too."""
    when = pd.to_datetime(pd.Series(u), format="%Y-%m-%d %H:%M:%S", errors="coerce")
    if (bad := when.isna()).any():
        when[bad] = pd.to_datetime(
            pd.Series(u[bad.to_numpy()]), format="%Y-%m-%d", errors="coerce"
        ).to_numpy()
    return when


def _decimal_findings(u: np.ndarray, ctype: ColumnType, money: bool) -> Findings:
    precision, scale = ctype.length or 10, ctype.scale or 0
    found = (_DECIMAL.fullmatch(v) for v in u)
    # (sign, integer digits without leading zeros, decimals without trailing zeros), None if not a number
    parts = [
        (m[1], m[2].lstrip("0"), (m[3] or "").rstrip("0")) if m and (m[2] or m[3]) else None for m in found
    ]
    n = len(u)
    nan = _mask((p is None for p in parts), n)
    findings: Findings = [("not a number (digits, an optional . and decimals)", nan, False)]
    wide = (p is not None and len(p[1]) > precision - scale for p in parts)
    findings.append((f"too large for decimal({precision},{scale})", _mask(wide, n), False))
    long = (p is not None and len(p[2]) > scale for p in parts)
    findings.append((f"more than {scale} decimals: accepted, MySQL rounds them", _mask(long, n), True))
    if money:
        negative = (p is not None and p[0] == "-" and bool(p[1] or p[2]) for p in parts)
        findings.append(("negative amount", _mask(negative, n), False))
    return findings


def _timestamp_range_findings(when: pd.Series, plausible: Plausible) -> Findings:
    """Timestamps that parse but lie outside the plausible range (one far away moves the as-of date)."""
    early = (when < plausible.earliest).to_numpy(dtype=bool)
    late = (when > plausible.latest).to_numpy(dtype=bool)
    return [
        (f"implausible timestamp: before {plausible.earliest:%Y-%m-%d} ({PLAUSIBLE_HOW})", early, False),
        (f"implausible timestamp: after {plausible.latest:%Y-%m-%d} ({PLAUSIBLE_HOW})", late, False),
    ]


def _too_long(ctype: ColumnType) -> str:
    return f"longer than {ctype.kind}({ctype.length})"


def _findings(table: str, col: str, ctype: ColumnType, u: np.ndarray, plausible: Plausible) -> Findings:
    """What is wrong with the distinct non-empty values `u` of one column."""
    n = len(u)
    findings: Findings = []
    if ctype.kind in ("char", "varchar") and ctype.length:
        long = np.fromiter(map(len, u), np.int64, n) > ctype.length
        findings.append((_too_long(ctype), long, False))
    elif ctype.kind == "text":
        big = (len(v) > TEXT_BYTES // 4 and len(v.encode("utf-8", "surrogateescape")) > TEXT_BYTES for v in u)
        findings.append((f"longer than {TEXT_BYTES:,} bytes (text)", _mask(big, n), False))
    elif ctype.kind == "int":
        bad = (_INT.fullmatch(v) is None or not INT_RANGE[0] <= int(v) <= INT_RANGE[1] for v in u)
        findings.append(("not an integer (digits only, in the int range)", _mask(bad, n), False))
    elif ctype.kind == "double":
        numbers = pd.to_numeric(pd.Series(u), errors="coerce").to_numpy(dtype=float)
        findings.append(("not a number", ~np.isfinite(numbers), False))
    elif ctype.kind == "datetime":
        when = _datetimes(u)
        findings.append(
            ("unparseable timestamp (expected YYYY-MM-DD HH:MM:SS)", when.isna().to_numpy(), False)
        )
        findings += _timestamp_range_findings(when, plausible)
    elif ctype.kind == "decimal":
        money = col in MONEY.get(table, ())
        findings += _decimal_findings(u, ctype, money)
        if money:
            amounts = pd.to_numeric(pd.Series(u), errors="coerce").to_numpy(dtype=float)
            limit = plausible.max_amount
            findings.append(
                (f"implausible amount: more than {limit:,.2f} ({PLAUSIBLE_HOW})", amounts > limit, False)
            )
    if col.endswith("_zip_code_prefix"):
        bad = (_ZIP.fullmatch(v) is None for v in u)
        findings.append(("zip prefix is not 5 digits (leading zeros lost?)", _mask(bad, n), False))
    return findings


def _isin(values: pd.Series, members: Iterable[str]) -> np.ndarray:
    """values.isin(members), faster for strings through a Python set."""
    found = members if isinstance(members, set) else set(members)
    return np.fromiter(map(found.__contains__, values.to_numpy()), bool, len(values))


def _warehouse_key(values: pd.Series) -> pd.Series:
    """Keys as the warehouse compares them: utf8mb4_unicode_ci ignores case, accents and trailing spaces."""
    joined = "\n".join(values) + "\n"
    if joined.isascii() and joined == joined.lower() and " \n" not in joined:
        return values  # nothing to fold (Olist's lower-case hex ids): found in one pass in C
    return values.map(_fold)


def _fold(value: str) -> str:
    value = value.rstrip(" ").lower()
    if value.isascii():
        return value
    return "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))


def _check_values(
    table: str, t: _Table, expected: dict[str, ColumnType], out: _Collector, plausible: Plausible
) -> None:
    for col, ctype in expected.items():
        if col not in t.frame:
            continue
        values = t.frame[col]
        if ctype.kind in ("char", "varchar") and ctype.length and not col.endswith("_zip_code_prefix"):
            # a length is all there is to check: on every value, cheaper than finding the distinct ones (ids)
            long = np.fromiter(map(len, values.to_numpy()), np.int64, len(values)) > ctype.length
            out.rows(t, col, long, _too_long(ctype))
            continue
        uniques = pd.unique(values.to_numpy())
        uniques = uniques[uniques != ""]
        if len(uniques) == 0:
            continue
        for what, bad, note in _findings(table, col, ctype, uniques, plausible):
            if bad.any():
                out.rows(t, col, _isin(values, uniques[bad]), what, note)


def _check_keys(table: str, t: _Table, out: _Collector) -> None:
    key = list(KEYS.get(table, ()))
    if not key or any(c not in t.frame for c in key):
        return
    for col in key:
        out.rows(t, col, (t.frame[col] == "").to_numpy(), "empty key value")
    folded = pd.concat([_warehouse_key(t.frame[col]) for col in key], axis=1)
    dup = folded.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    keys = list(map(tuple, t.frame[key].to_numpy()))
    first: dict[tuple[str, ...], int] = {}  # folded key -> line of its first row
    for k, line in zip(map(tuple, folded.to_numpy()), t.lines, strict=True):
        first.setdefault(k, int(line))
    idx = np.flatnonzero(dup)
    shown = ", ".join(
        f"line {t.lines[i]} repeats {'/'.join(keys[i])!r} of line {first[tuple(folded.iloc[i])]}"
        for i in idx[:EXAMPLES]
    )
    out.add(
        f"duplicate key ({', '.join(key)}): {_rows_count(len(idx))}, e.g. {shown}",
        ", ".join(key),
        int(t.lines[idx[0]]),
    )


def _read_table(
    path: Path, table: str, expected: dict[str, ColumnType], out: _Collector, plausible: Plausible
) -> _Keys | None:
    """Check one file; keep what the foreign-key checks read (the parsed file is freed on return)."""
    t = _parse(path, table, expected, out)
    if t is None:
        return None
    _check_values(table, t, expected, out, plausible)
    _check_keys(table, t, out)
    return _Keys.of(t, _FOREIGN_KEY_COLUMNS.get(table, ()))


def _parse(path: Path, table: str, expected: dict[str, ColumnType], out: _Collector) -> _Table | None:
    """The file as a frame of str: by pandas when it is plain CSV, else by the csv module, whose bytes, text
    and records are freed as soon as the next form exists (10x Olist's orders: 1.9 GiB with all of them)."""
    data = path.read_bytes()
    body = data.removeprefix(BOM)
    if not body or body.isspace():  # isspace stops at the first other byte
        out.add("empty file (not even a header row)")
        return None
    if body is not data:
        out.add(
            "starts with a UTF-8 byte-order mark: accepted (dbt strips it; Kaggle's file has one)", note=True
        )
    if (plain := _plain(body)) is not None:
        header, frame, lines = plain
        del data, body, plain
        if not _check_header(table, header, expected, out):
            return None
        return _Table(path.name, frame.loc[:, ~frame.columns.duplicated()], lines, True)
    del body
    text, utf8 = _decode(data, out)
    del data
    records, starts, complete = _records(text, out)
    del text
    if not records:
        return None
    header = records[0]
    if not _check_header(table, header, expected, out):
        return None
    rows, lines, whole = _rows(records, starts, out)
    if not rows and complete and whole:
        empty_ok = table in MAY_BE_EMPTY
        out.add(
            "header but no rows" + (": accepted, the marts do without it" if empty_ok else ""), note=empty_ok
        )
    frame = (
        pd.DataFrame(rows, columns=header, dtype=object)
        if rows
        else pd.DataFrame(columns=header, dtype=object)
    )
    # A table cut short (broken CSV, no rows) is no reference for foreign keys: its error is reported already.
    complete = complete and whole and bool(rows)
    del records, rows  # the frame holds the fields now
    t = _Table(path.name, frame.loc[:, ~frame.columns.duplicated()], np.asarray(lines, np.int64), complete)
    if not utf8:
        for col in t.frame:
            bad = t.frame[col].str.contains(_NOT_UTF8, regex=True).to_numpy(dtype=bool)
            out.rows(t, col, bad, "not UTF-8 (each invalid byte shows as \\udcXX)")
    return t


class _KeySet:
    """The distinct keys of a parent column, to look child keys up in: by a 64-bit digest of each key's bytes
    in a numpy hash table, every hit confirmed byte for byte (10x Olist: 0.3 s for the six foreign keys, not
    3.2 s hashing bytes objects). Should two distinct parent keys share a digest, it hashes the objects."""

    _MIX = np.array(
        [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], np.uint64
    )

    def __init__(self, keys: np.ndarray) -> None:
        self.width = max(8, -(-keys.dtype.itemsize // 8) * 8)
        digests, first, inverse = np.unique(self._digest(keys), return_index=True, return_inverse=True)
        self.keys: np.ndarray | None = keys[first]
        self.index = pd.Index(digests)
        if not (self.keys[inverse] == keys).all():
            self.keys, self.index = None, pd.Index(pd.unique(keys.astype(object)))

    def contains(self, values: np.ndarray) -> np.ndarray:
        if self.keys is None:
            return self.index.get_indexer(values.astype(object)) >= 0
        at = self.index.get_indexer(self._digest(values))
        hit = at >= 0
        hit[hit] = values[hit] == self.keys[at[hit]]
        return hit

    def _digest(self, keys: np.ndarray) -> np.ndarray:
        """Keys cut or padded to `width` bytes, read as 64-bit words and mixed (wrapping multiplications)."""
        words = keys.astype(f"S{self.width}").view(np.uint64).reshape(len(keys), self.width // 8)
        digest = np.zeros(len(keys), np.uint64)
        for i in range(words.shape[1]):
            digest = (digest ^ words[:, i]) * self._MIX[i % len(self._MIX)]
        return digest


def _check_foreign_keys(tables: dict[str, _Keys]) -> list[Problem]:
    problems: list[Problem] = []
    parent_keys: dict[tuple[str, str], _KeySet] = {}  # orders' order_id is the parent of three tables
    for child, col, parent, parent_col in FOREIGN_KEYS:
        c, p = tables.get(child), tables.get(parent)
        if c is None or p is None or col not in c.written or parent_col not in p.written:
            continue
        out = _Collector(c.file)
        values = c.written[col]
        empty = values == b""
        out.rows_of(values, c.lines, col, empty, f"empty (every row must reference {p.file})")
        if p.complete:  # a parent cut short would make false orphans
            if (parent, parent_col) not in parent_keys:
                parent_keys[parent, parent_col] = _KeySet(p.compared[parent_col])
            orphan = ~empty & ~parent_keys[parent, parent_col].contains(c.compared[col])
            out.rows_of(values, c.lines, col, orphan, f"orphan foreign key: no such {parent_col} in {p.file}")
        problems += out.problems
    return problems


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Millions of parsed rows and no reference cycles: the cyclic collector would rescan them again and again
    (10x Olist: 32 s of csv parsing with it, 15 s without); reference counting frees them."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check_folder(
    path: Path, *, geolocation: bool | None = None, plausible: Plausible | None = None
) -> list[Problem]:
    """Every problem of the Olist CSV folder `path` (errors and notes); no error: safe to load.

    geolocation: also check olist_geolocation_dataset.csv (default: when OLIST_LOAD_GEOLOCATION=1, like dbt).
    plausible: the ranges values must lie in (default: dbt_project.yml's var check_data_plausible).
    """
    path = Path(path)
    if not path.is_dir():
        return [Problem(str(path), "folder not found (OLIST_DATA_DIR must be a folder of the Kaggle CSVs)")]
    if geolocation is None:
        geolocation = _geolocation_loaded()
    specs = load_specs()
    plausible = plausible or Plausible.from_project()
    present = {p.name: p for p in path.glob("*.csv")}
    strays = sorted(set(present) - {f"{t}.csv" for t in specs})
    problems: list[Problem] = []
    tables: dict[str, _Keys] = {}
    with _cyclic_gc_paused():
        for table, expected in specs.items():
            out = _Collector(f"{table}.csv")
            if table == GEOLOCATION and not geolocation:
                out.add("skipped: no model uses it (OLIST_LOAD_GEOLOCATION=1 loads and checks it)", note=True)
            elif out.file not in present:
                near = difflib.get_close_matches(out.file, strays, n=1, cutoff=0.6)
                out.add("missing file" + (f" (the folder has {near[0]!r}: renamed?)" if near else ""))
            elif (keys := _read_table(present[out.file], table, expected, out, plausible)) is not None:
                tables[table] = keys
            problems += out.problems
        problems += [
            Problem(n, "not an Olist table: dbt would load it as an extra seed", severity="note")
            for n in strays
        ]
        return problems + _check_foreign_keys(tables)


def _geolocation_loaded() -> bool:
    """Whether dbt loads olist_geolocation_dataset.csv (and check-data checks it)."""
    return os.environ.get("OLIST_LOAD_GEOLOCATION", "0") == "1"


def fingerprint(path: Path, *, geolocation: bool, plausible: Plausible) -> str:
    """What a check of `path` depends on: the content of every file it reads, the names of the others, the
    seed specification, the ranges and this checker's own code."""
    digest = hashlib.sha256()
    rules = repr((plausible, geolocation)).encode()
    for part in (Path(__file__).read_bytes(), SEEDS_FILE.read_bytes(), rules):
        digest.update(hashlib.sha256(part).digest())
    for file in sorted(path.glob("*.csv")):
        digest.update(file.name.encode() + b"\0")
        if geolocation or file.stem != GEOLOCATION:
            with file.open("rb") as f:
                digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


PASSED_RECORD = (
    "check_data_passed.json"  # in dbt's target folder: the fingerprint of the last folder that passed
)


def check_folder_remembered(path: Path, record: Path, *, recheck: bool = False) -> tuple[list[Problem], bool]:
    """check_folder, skipped when nothing it depends on changed since the last check that passed (its
    fingerprint is kept in `record`): (the problems, or the notes of that check; whether it was skipped).
    A folder that fails is checked again every time; recheck: check even when unchanged."""
    path = Path(path)
    geolocation = _geolocation_loaded()
    plausible = Plausible.from_project()
    key = fingerprint(path, geolocation=geolocation, plausible=plausible)
    try:
        passed = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        passed = {}
    if not recheck and passed.get("fingerprint") == key:
        return [Problem(**note) for note in passed["notes"]], True
    problems = check_folder(path, geolocation=geolocation, plausible=plausible)
    if not errors(problems):
        record.parent.mkdir(parents=True, exist_ok=True)
        notes = [vars(p) for p in problems]
        record.write_text(json.dumps({"fingerprint": key, "notes": notes}), encoding="utf-8")
    return problems, False


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def require_valid(path: Path, *, geolocation: bool | None = None) -> list[Problem]:
    """check_folder for the pipeline: raise DataCheckError on any error, else return the notes."""
    problems = check_folder(path, geolocation=geolocation)
    if errors(problems):
        raise DataCheckError(Path(path), problems)
    return problems


def default_folder() -> Path:
    """OLIST_DATA_DIR, else the bundled sample (as dbt's seed-paths)."""
    return Path(os.environ.get("OLIST_DATA_DIR") or PROJECT_ROOT / "seeds" / "olist_sample")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        help="folder of the Kaggle CSVs (default: OLIST_DATA_DIR, else the bundled sample)",
    )
    parser.add_argument(
        "--geolocation",
        action="store_true",
        default=None,
        help="also check olist_geolocation_dataset.csv (default: when OLIST_LOAD_GEOLOCATION=1)",
    )


def main(args: argparse.Namespace) -> int:
    folder = args.folder or default_folder()
    started = time.perf_counter()
    problems = check_folder(folder, geolocation=args.geolocation)
    took = time.perf_counter() - started
    for problem in problems:
        print(problem, file=sys.stderr if problem.severity == "error" else sys.stdout)
    if found := len(errors(problems)):
        print(
            f"check-data: {folder} refused, {found} problem(s): nothing was loaded ({took:.1f} s)",
            file=sys.stderr,
        )
        return 1
    print(f"check-data: {folder} OK ({took:.1f} s)")
    return 0
