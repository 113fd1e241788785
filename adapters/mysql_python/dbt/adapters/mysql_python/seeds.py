"""Seeds loaded by the server: `LOAD DATA LOCAL INFILE` of the CSV itself, and no reload of an unchanged file.

dbt's seed materialization parses every row into an agate table in Python, then INSERTs it: 20 to 40 s for the
Olist files, reloaded on every run. When every column of a seed has a configured type, the seed
materialization of this package (macros/seeds/seed.sql) instead creates `<seed>__dbt_tmp` with those types and
has the server parse the file, converting values as dbt would (empty or `null` → NULL, text kept as text:
leading zeros survive), then swaps it in like a table model. The file's SHA-256 and the seed's definition are
recorded in `<schema>.seed_file_checksums`; the next run skips a seed whose file, definition and row count
are unchanged (`--full-refresh` reloads).

LOAD DATA LOCAL turns conversion errors into warnings: any warning fails the load, naming the file and row
(notes, such as decimals rounded to the column's scale, are accepted as an INSERT accepts them).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import mysql.connector
from mysql.connector import errorcode
from mysql.connector.abstracts import MySQLConnectionAbstract

from .bulk_load import quote

CHECKSUMS = "seed_file_checksums"
_CR, _LF = "char(13 using utf8mb4)", "char(10 using utf8mb4)"
_CRLF = f"concat({_CR}, {_LF})"
_BLOCK = 1 << 20


class SeedFileError(Exception):
    """The file cannot be loaded as configured; the message names the file."""


@dataclass(frozen=True)
class SeedFile:
    path: Path
    columns: list[str]
    line_terminator: str
    sha256: str


def inspect(path: Path, delimiter: str = ",") -> SeedFile:
    """The file's header, line terminator and SHA-256 (one read of the file)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        first = f.readline()
        digest.update(first)
        while block := f.read(_BLOCK):
            digest.update(block)
    try:
        header = next(csv.reader([first.decode("utf-8-sig")], delimiter=delimiter))
    except (StopIteration, UnicodeDecodeError) as exc:
        raise SeedFileError(f"{path}: no UTF-8 header line") from exc
    terminator = "\r\n" if first.endswith(b"\r\n") else "\n"
    return SeedFile(path, [c.strip() for c in header], terminator, digest.hexdigest())


def local_infile_enabled(conn: MySQLConnectionAbstract) -> bool:
    cur = conn.cursor()
    cur.execute("select @@local_infile")
    (on,) = cur.fetchone()  # type: ignore[misc]
    cur.close()
    return bool(int(on))


def load(conn: MySQLConnectionAbstract, schema: str, table: str, seed: SeedFile, delimiter: str = ",") -> int:
    """LOAD DATA LOCAL INFILE the file into `schema`.`table` (whose columns are the header's); rows loaded."""
    names = [f"@v{i}" for i in range(len(seed.columns))]
    # As dbt's agate reader: its null values ('' and 'null', stripped, any case) become NULL, and line breaks
    # inside quoted values are read in universal-newline mode (CRLF and CR become LF).
    sets = ", ".join(
        f"{quote(c)} = case when trim({v}) in ('', 'null') then null"
        f" else replace(replace({v}, {_CRLF}, {_LF}), {_CR}, {_LF}) end"
        for c, v in zip(seed.columns, names, strict=True)
    )
    sql = (
        f"load data local infile %s into table {quote(schema)}.{quote(table)} character set utf8mb4"
        " fields terminated by %s optionally enclosed by '\"' escaped by ''"
        f" lines terminated by %s ignore 1 lines ({', '.join(names)}) set {sets}"
    )
    cur = conn.cursor()
    try:
        cur.execute(sql, (str(seed.path), delimiter, seed.line_terminator))
        rows = cur.rowcount
        cur.execute("show warnings")
        warnings = [w for w in cur.fetchall() if str(w[0]) != "Note"]  # Note: decimals rounded, as INSERT
    finally:
        cur.close()
    if warnings:
        shown = "; ".join(str(w[2]) for w in warnings[:5]) + " (row n = the n-th data row)"
        raise SeedFileError(f"{seed.path}: the server could not load it as configured: {shown}")
    return int(rows)


def unchanged(conn: MySQLConnectionAbstract, schema: str, seed: str, sha256: str, definition: str) -> bool:
    """True when `seed` was last loaded from this file with this definition and still has its rows."""
    cur = conn.cursor()
    try:
        cur.execute(
            "select rows_loaded from information_schema.tables t join "
            f"{quote(schema)}.{CHECKSUMS} c on c.seed_name = t.table_name"
            " where t.table_schema = %s and t.table_name = %s and c.sha256 = %s and c.definition_sha256 = %s",
            (schema, seed, sha256, _sha(definition)),
        )
        row = cur.fetchone()
        if row is None:
            return False
        cur.execute(f"select count(*) from {quote(schema)}.{quote(seed)}")
        (count,) = cur.fetchone()  # type: ignore[misc]
        return bool(int(count) == int(row[0]))  # type: ignore[call-overload]
    except mysql.connector.Error as exc:
        if exc.errno == errorcode.ER_NO_SUCH_TABLE:  # no checksum table yet
            return False
        raise
    finally:
        cur.close()


def record(
    conn: MySQLConnectionAbstract, schema: str, seed: str, sha256: str, definition: str, rows: int
) -> None:
    cur = conn.cursor()
    cur.execute(
        f"create table if not exists {quote(schema)}.{CHECKSUMS} (seed_name varchar(64) primary key,"
        " sha256 char(64) not null, definition_sha256 char(64) not null, rows_loaded bigint not null,"
        " loaded_at datetime not null)"
    )
    cur.execute(
        f"replace into {quote(schema)}.{CHECKSUMS} values (%s, %s, %s, %s, utc_timestamp())",
        (seed, sha256, _sha(definition), rows),
    )
    cur.close()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
