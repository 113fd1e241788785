"""`olist-harness synth-features --customers N`: a synthetic customer_features mart of N customers, for scale
tests of the segmentation step (benchmarks/scale.py) on data far larger than Olist's ~95k customers.

The rows are made IN the warehouse by set-based INSERT … SELECT, a batch of row numbers per statement: every
value is a deterministic function of (seed, row number n) through md5, so the same N and seed give the same
table (same CHECKSUM TABLE) on every run. Two md5 digests per row are sliced into uniforms and shaped like the
real mart: frequency geometric (~97 % one order) with a few heavy buyers of 5-50 orders, log-normal spend,
skewed recency, Olist's state mix. Columns, types and primary key are those of the contract.

Keys are `<n as 8 hex digits><24 hex digits of md5>`: 32 lowercase hex characters like Olist's ids, in
ascending order of n, so every batch appends to the end of the clustered primary key (random keys would make
InnoDB insert all over a B-tree larger than its buffer pool). Portable to MySQL 8 and MariaDB: a digits CTE
cross join makes the row numbers (no MariaDB sequence engine), `derived_merge=off` keeps the two digests
computed once per row.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from mysql.connector.abstracts import MySQLConnectionAbstract

from olist_segments import contract, db, settings
from olist_segments.settings import PROJECT_ROOT, Warehouse

log = logging.getLogger(__name__)

TABLE = "customer_features"
NEW, OLD, NUMBERS = f"{TABLE}__synth_new", f"{TABLE}__synth_old", f"{TABLE}__synth_numbers"
COMMENT = "synthetic: olist-harness synth-features"
AS_OF = "2018-09-04"
DEFINITIONS = "segment_definitions"
DEFINITIONS_CSV = PROJECT_ROOT / "seeds" / "reference" / "segment_definitions.csv"
DEFAULT_BATCH = 250_000
DEFAULT_JOBS = 2  # concurrent batches (connections)
TMP_TABLE_BYTES = 256 * 2**20  # session limit for in-memory derived tables
MAX_CUSTOMERS = 16**8 - 1  # the 8-hex-digit key prefix

# Customer share per state (Olist's mix, in ‰ of customers) and the state capital.
STATES: tuple[tuple[str, float, str], ...] = (
    ("SP", 419, "sao paulo"), ("RJ", 129, "rio de janeiro"), ("MG", 117, "belo horizonte"),
    ("RS", 55, "porto alegre"), ("PR", 51, "curitiba"), ("SC", 37, "florianopolis"), ("BA", 34, "salvador"),
    ("DF", 22, "brasilia"), ("ES", 20, "vitoria"), ("GO", 20, "goiania"), ("PE", 17, "recife"),
    ("CE", 13, "fortaleza"), ("PA", 10, "belem"), ("MT", 9, "cuiaba"), ("MA", 8, "sao luis"),
    ("MS", 7, "campo grande"), ("PB", 5, "joao pessoa"), ("PI", 5, "teresina"), ("RN", 5, "natal"),
    ("AL", 4, "maceio"), ("SE", 3, "aracaju"), ("TO", 3, "palmas"), ("RO", 2.5, "porto velho"),
    ("AM", 1.5, "manaus"), ("AC", 0.8, "rio branco"), ("AP", 0.7, "macapa"), ("RR", 0.5, "boa vista"),
)  # fmt: skip

DDL = contract.ddl(TABLE)  # customer_features as its dbt contract declares it


class SynthError(RuntimeError):
    """A request synth-features refuses (nothing was changed)."""


def _u16(digest: str, slot: int) -> str:
    """Uniform in [0, 1) from the 4 hex digits at `slot` (0..7) of a digest column."""
    return f"(conv(substr({digest}, {1 + 4 * slot}, 4), 16, 10) / 65536)"


def _u16_open(digest: str, slot: int) -> str:
    """Uniform in (0, 1): safe under ln()."""
    return f"((conv(substr({digest}, {1 + 4 * slot}, 4), 16, 10) + 1) / 65537)"


def _days_before(days: str, u: str) -> str:
    """A datetime `days` days before AS_OF, at a time of day drawn from uniform `u`."""
    return f"date_add(date_sub(date '{AS_OF}', interval {days} day), interval floor({u} * 86400) second)"


def _select_sql() -> str:
    """The SELECT that makes the rows n = %(base)s + 0 … %(base)s + %(count)s - 1, in three steps.

    `h`: two md5 digests of (seed, n), as ascii (a quarter of utf8mb4's width in in-memory derived tables).
    `d`: the draws, each computed once: a 32-bit uniform from digest a for frequency, 16-bit ones from
    4-hex-digit slices for the rest (digest b's first 24 hex digits also end the key). Outer select: the
    contract columns. Parameters: seed, base, count, state codes and capitals.
    """
    total = sum(w for _, w, _ in STATES)
    cumulative = ", ".join(
        f"{sum(w for _, w, _ in STATES[: i + 1]) / total:.6f}" for i in range(len(STATES) - 1)
    )
    names = ", ".join(f"%(s{i})s" for i in range(len(STATES)))
    capitals = ", ".join(f"%(c{i})s" for i in range(len(STATES)))
    uf = "(conv(substr(h.a, 1, 8), 16, 10) / 4294967296)"
    tenure = "(d.r + case when d.f = 1 then 0 else 1 + floor(d.u_span * (729 - d.r)) end)"
    monetary = "round(d.f * d.v, 2)"
    # Olist's review mix: 11.5 % 1, 3 % 2, 8 % 3, 19 % 4, 58 % 5.
    score1 = "(1 + interval((d.u_rev1 - 0.0075) / 0.9925, 0.115, 0.147, 0.23, 0.42))"
    score2 = "(1 + interval(d.u_rev2, 0.115, 0.147, 0.23, 0.42))"
    return f"""
select
    cast(concat(lpad(lower(hex(d.n)), 8, '0'), d.key_tail) as char(32)) as customer_unique_id,
    cast(elt(d.state_ix, {names}) as char(2)) as customer_state,
    cast(
        case
            when d.u_city < 0.45 then elt(d.state_ix, {capitals})
            else concat(
                'municipio ', lower(elt(d.state_ix, {names})), ' ', 1 + floor((d.u_city - 0.45) / 0.55 * 300)
            )
        end as char(100)
    ) as customer_city,
    d.f as frequency,
    cast({monetary} as decimal(14, 2)) as monetary,
    cast({monetary} * (0.95 + 0.1 * d.u_gmv) as decimal(14, 2)) as gmv,
    cast({monetary} / d.f as decimal(14, 2)) as avg_order_value,
    cast({_days_before(tenure, "case when d.f = 1 then d.u_last else d.u_first end")} as datetime)
        as first_purchase_at,
    cast({_days_before("d.r", "d.u_last")} as datetime) as last_purchase_at,
    d.r as recency_days,
    cast({tenure} as signed) as tenure_days,
    -- 0.75 % without a review; repeat buyers average two scores
    cast(
        case when d.u_rev1 < 0.0075 then null when d.f = 1 then {score1} else ({score1} + {score2}) / 2 end
        as decimal(4, 2)
    ) as avg_review_score,
    -- 2 % never delivered (NULL), 8 % with late deliveries
    cast(
        case
            when d.u_late < 0.02 then null
            when d.u_late < 0.10 then least(d.f, 1 + floor((d.u_late - 0.02) / 0.08 * d.f)) / d.f
            else 0
        end as decimal(5, 4)
    ) as late_delivery_share,
    cast(
        case when d.u_cat < 0.01 then 0 else 1 + floor(power((d.u_cat - 0.01) / 0.99, 3) * d.f) end as signed
    ) as distinct_categories,
    date '{AS_OF}' as as_of_date
from (
    select
        h.n,
        substr(h.b, 1, 24) as key_tail,
        -- geometric frequency (P(f >= 2) = 3 %, like Olist) and 0.05 % heavy buyers with 5-50 orders
        cast(
            case
                when {uf} < 0.9995 then 1 + floor(ln(1 - {uf} / 0.9995) / ln(0.03))
                else 5 + floor(({uf} - 0.9995) / 0.0005 * 46)
            end as signed
        ) as f,
        -- log-normal order value (Box-Muller): median 107 BRL, sigma 0.9
        exp(4.673 + 0.9 * sqrt(-2 * ln({_u16_open("h.a", 2)})) * cos(2 * pi() * {_u16("h.a", 3)})) as v,
        cast(1 + floor(700 * power({_u16("h.a", 5)}, 1.5)) as signed) as r,
        {_u16("h.a", 4)} as u_gmv,
        {_u16("h.a", 6)} as u_span,
        {_u16("h.a", 7)} as u_last,
        {_u16("h.b", 6)} as u_first,
        {_u16("h.b", 0)} as u_rev1,
        {_u16("h.b", 1)} as u_rev2,
        {_u16("h.b", 2)} as u_late,
        {_u16("h.b", 3)} as u_cat,
        1 + interval({_u16("h.b", 4)}, {cumulative}) as state_ix,
        {_u16("h.b", 5)} as u_city
    from (
        select
            numbers.n + %(base)s as n,
            cast(md5(concat(%(seed)s, ':a:', numbers.n + %(base)s)) as char(32) character set ascii) as a,
            cast(md5(concat(%(seed)s, ':b:', numbers.n + %(base)s)) as char(32) character set ascii) as b
        from {{numbers}} as numbers
        where numbers.n < %(count)s
    ) as h
) as d"""


_SELECT = _select_sql()


def _execute(
    conn: MySQLConnectionAbstract, sql: str, params: dict[str, object] | tuple[object, ...] = ()
) -> int:
    cur = conn.cursor()
    cur.execute(sql, params)
    if cur.with_rows:
        cur.fetchall()
    count = cur.rowcount
    cur.close()
    return count


def _fetch(
    conn: MySQLConnectionAbstract, sql: str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    cur = conn.cursor()
    cur.execute(sql, params)
    rows = list(cur.fetchall())
    cur.close()
    return rows


def _table_comment(conn: MySQLConnectionAbstract, schema: str, table: str) -> str | None:
    """The table's comment ('' when none), or None when the table does not exist."""
    rows = _fetch(
        conn,
        "select table_comment from information_schema.tables where table_schema = %s and table_name = %s",
        (schema, table),
    )
    return None if not rows else str(rows[0][0] or "")


def _make_numbers(conn: MySQLConnectionAbstract, table: str, size: int) -> None:
    """A helper table n = 0 … size - 1 (primary key, so batches read it in order)."""
    _execute(conn, f"drop table if exists {table}")
    _execute(conn, f"create table {table} (n int not null, primary key (n))")
    digits = " union all ".join(f"select {d}" + (" as d" if d == 0 else "") for d in range(10))
    places = len(str(max(size - 1, 1)))
    joins = " cross join ".join(f"digits as d{i}" for i in range(places))
    value = " + ".join(f"{10**i} * d{i}.d" for i in range(places))
    _execute(
        conn,
        f"insert into {table} (n) with digits as ({digits}) select n from"
        f" (select {value} as n from {joins}) as numbers where n < %(size)s",
        {"size": size},
    )


@dataclass(frozen=True)
class SynthResult:
    table: str
    rows: int
    seconds: float


def _worker_connection(wh: Warehouse) -> MySQLConnectionAbstract:
    conn = db.connect(wh)
    # Materialise each derived table, so a row's digests and draws are computed once (MySQL 8 and MariaDB
    # both know this switch); a 250k-row batch's derived tables then fit in memory.
    _execute(conn, "set session optimizer_switch = 'derived_merge=off'")
    _execute(
        conn, "set session tmp_table_size = %s, max_heap_table_size = %s", (TMP_TABLE_BYTES, TMP_TABLE_BYTES)
    )
    return conn


def _fill(wh: Warehouse, insert: str, seed: int, batches: list[tuple[int, int]], jobs: int) -> None:
    """Run the batches' INSERT … SELECTs on `jobs` connections at once, logging progress as they finish."""
    local = threading.local()
    connections: list[MySQLConnectionAbstract] = []
    lock = threading.Lock()

    def run(base: int, count: int) -> int:
        if not hasattr(local, "conn"):
            local.conn = _worker_connection(wh)
            with lock:
                connections.append(local.conn)
        written = _execute(local.conn, insert, _bind(seed, base, count))
        if written != count:
            raise SynthError(f"batch at row {base:,} wrote {written:,} rows instead of {count:,}")
        return count

    total, done, start = sum(c for _, c in batches), 0, time.monotonic()
    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="synth")
    try:
        for future in as_completed([pool.submit(run, base, count) for base, count in batches]):
            done += future.result()
            elapsed = time.monotonic() - start
            log.info(
                "synth-features: %s/%s rows (%s rows/s, ETA %.0f s)",
                f"{done:,}",
                f"{total:,}",
                f"{done / elapsed:,.0f}",
                (total - done) * elapsed / done,
            )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for conn in connections:
            conn.close()


def generate(
    wh: Warehouse,
    customers: int,
    *,
    seed: int = 42,
    batch: int = DEFAULT_BATCH,
    jobs: int = DEFAULT_JOBS,
    force: bool = False,
) -> SynthResult:
    """Create or replace <base>_marts.customer_features with `customers` synthetic rows (atomic swap)."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise SynthError(f"--customers must be between 1 and {MAX_CUSTOMERS:,}, got {customers:,}")
    if batch < 1 or jobs < 1:
        raise SynthError(f"--batch-size and --jobs must be at least 1, got {batch} and {jobs}")
    marts = wh.schema_for("marts")
    live, new, old, numbers = (db.qualified(marts, t) for t in (TABLE, NEW, OLD, NUMBERS))
    name = f"{marts}.{TABLE}"
    start = time.monotonic()
    conn = db.connect(wh)
    try:
        db.create_schema(conn, wh, marts)
        comment = _table_comment(conn, marts, TABLE)
        if comment is not None and not comment.startswith(COMMENT) and not force:
            raise SynthError(
                f"{name} exists and was not made by synth-features (a dbt-built mart?): "
                "use another --schema-base, or pass --force to replace it"
            )
        seed_definitions(conn, wh)
        batch = min(batch, customers)
        _make_numbers(conn, numbers, batch)
        _execute(conn, f"drop table if exists {new}")
        _execute(
            conn, f"create table {new} {DDL} comment = %s", (f"{COMMENT} customers={customers} seed={seed}",)
        )
        batches = [(base, min(batch, customers - base)) for base in range(0, customers, batch)]
        jobs = min(jobs, len(batches))
        log.info(
            "synth-features: %s customers into %s (seed %d, %d batches of <= %s rows, %d at a time)",
            f"{customers:,}",
            name,
            seed,
            len(batches),
            f"{batch:,}",
            jobs,
        )
        _fill(wh, f"insert into {new} {_SELECT.format(numbers=numbers)}", seed, batches, jobs)
        _execute(conn, f"drop table if exists {old}")
        if comment is None:
            _execute(conn, f"rename table {new} to {live}")
        else:  # atomic: readers see the old table or the new one
            _execute(conn, f"rename table {live} to {old}, {new} to {live}")
            _execute(conn, f"drop table {old}")
    finally:
        for table in (new, numbers):
            try:
                _execute(conn, f"drop table if exists {table}")
            except Exception as exc:  # the connection itself may be what failed
                log.warning("could not drop %s: %s", table, exc)
        conn.close()
    seconds = time.monotonic() - start
    log.info("synth-features: %s rows in %s in %.1f s", f"{customers:,}", name, seconds)
    return SynthResult(name, customers, seconds)


def _bind(seed: int, base: int, count: int) -> dict[str, object]:
    names = {f"s{i}": state for i, (state, _, _) in enumerate(STATES)}
    capitals = {f"c{i}": capital for i, (_, _, capital) in enumerate(STATES)}
    return {"seed": seed, "base": base, "count": count, **names, **capitals}


def seed_definitions(
    conn: MySQLConnectionAbstract, wh: Warehouse, csv_path: Path = DEFINITIONS_CSV, *, replace: bool = False
) -> bool:
    """Load <base>_raw.segment_definitions from the reference seed, as `dbt seed` would (text columns), if
    the table is missing or `replace` (the segmentation model names segments from it). Whether it loaded."""
    raw = wh.schema_for("raw")
    if _table_comment(conn, raw, DEFINITIONS) is not None and not replace:
        return False
    with csv_path.open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    table = db.qualified(raw, DEFINITIONS)
    db.create_schema(conn, wh, raw)
    _execute(conn, f"drop table if exists {table}")
    _execute(conn, f"create table {table} ({', '.join(f'{db.quote_ident(c)} text' for c in header)})")
    cur = conn.cursor()
    columns, marks = ", ".join(db.quote_ident(c) for c in header), ", ".join(["%s"] * len(header))
    cur.executemany(f"insert into {table} ({columns}) values ({marks})", rows)
    cur.close()
    log.info("loaded %d segment definitions into %s.%s from %s", len(rows), raw, DEFINITIONS, csv_path.name)
    return True


def _positive(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customers", type=_positive, required=True, metavar="N", help="rows to generate")
    parser.add_argument(
        "--schema-base", help="base schema (default: the profile's DBT_SCHEMA); writes <base>_marts"
    )
    parser.add_argument("--seed", type=int, default=42, help="same seed and N, same table (42)")
    parser.add_argument(
        "--batch-size", type=_positive, default=DEFAULT_BATCH, help="rows per INSERT … SELECT"
    )
    parser.add_argument(
        "--jobs", type=_positive, default=DEFAULT_JOBS, help=f"batches run at once ({DEFAULT_JOBS})"
    )
    parser.add_argument("--target", help="dbt target (default: DBT_TARGET or the profile's default)")
    parser.add_argument(
        "--force", action="store_true", help="replace a customer_features that synth-features did not make"
    )


def main(args: argparse.Namespace) -> int:
    try:
        wh = settings.load(args.target)
        if args.schema_base:
            db.quote_ident(args.schema_base)
            wh = replace(wh, schema=args.schema_base)
        result = generate(
            wh, args.customers, seed=args.seed, batch=args.batch_size, jobs=args.jobs, force=args.force
        )
    except (SynthError, db.IdentifierError, settings.SettingsError) as exc:
        print(f"olist-harness synth-features: error: {exc}", file=sys.stderr)
        return 1
    print(f"{result.rows:,} synthetic customers in {result.table} ({result.seconds:.1f} s)")
    return 0
