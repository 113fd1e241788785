"""The catalogue of broken Olist folders: each case damages a copy of the bundled sample the way exports from
other systems break, and says which file, column and words the refusal must name."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class DamageError(RuntimeError):
    """A case could not damage the folder as it says (the sample changed under it)."""


@dataclass(frozen=True)
class BadInput:
    name: str
    file: str  # the file (or model) the message must name
    column: str | None  # the column the message must name (None: a problem of the whole file)
    problem: str  # words the message must contain
    fault: str  # what was broken, for the report
    damage: Callable[[Path], None]


def _csv(folder: Path, table: str) -> Path:
    return folder / f"{table}.csv"


def _rewrite(folder: Path, table: str, edit: Callable[[list[str], list[list[str]]], list[list[str]]]) -> None:
    """Read a CSV, let `edit` change the header (in place) and return the rows, write it back."""
    path = _csv(folder, table)
    with path.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    rows = edit(header, rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])


def _set(table: str, column: str, value: str, row: int = 1) -> Callable[[Path], None]:
    def edit(header: list[str], rows: list[list[str]]) -> list[list[str]]:
        rows[row][header.index(column)] = value
        return rows

    return lambda folder: _rewrite(folder, table, edit)


def _drop_column(table: str, column: str) -> Callable[[Path], None]:
    def edit(header: list[str], rows: list[list[str]]) -> list[list[str]]:
        i = header.index(column)
        for values in (header, *rows):
            del values[i]
        return rows

    return lambda folder: _rewrite(folder, table, edit)


def _rename_column(table: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(header: list[str], rows: list[list[str]]) -> list[list[str]]:
        header[header.index(old)] = new
        return rows

    return lambda folder: _rewrite(folder, table, edit)


def _add_column(table: str, column: str, value: str) -> Callable[[Path], None]:
    def edit(header: list[str], rows: list[list[str]]) -> list[list[str]]:
        header.append(column)
        return [[*r, value] for r in rows]

    return lambda folder: _rewrite(folder, table, edit)


def _rows(table: str, change: Callable[[list[list[str]]], list[list[str]]]) -> Callable[[Path], None]:
    return lambda folder: _rewrite(folder, table, lambda _, rows: change(rows))


def _bytes(table: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = _csv(folder, table)
        data = path.read_bytes()
        if old not in data:
            raise DamageError(f"{path.name} has no {old!r} to replace")
        path.write_bytes(data.replace(old, new, 1))

    return damage


def _delimiter(table: str, sep: str) -> Callable[[Path], None]:
    """The file as a spreadsheet in a pt-BR locale saves it: every ',' between fields becomes `sep`."""

    def damage(folder: Path) -> None:
        path = _csv(folder, table)
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, delimiter=sep, lineterminator="\n").writerows(rows)

    return damage


def _keep_orders(n: int) -> Callable[[Path], None]:
    """A consistent extract: the first n delivered orders, their customers, items, payments and reviews."""

    def damage(folder: Path) -> None:
        with _csv(folder, "olist_orders_dataset").open(encoding="utf-8-sig", newline="") as f:
            orders = [r for r in csv.DictReader(f) if r["order_status"] == "delivered"][:n]
        keep = {
            "order_id": {o["order_id"] for o in orders},
            "customer_id": {o["customer_id"] for o in orders},
        }
        for table, key in (
            ("olist_orders_dataset", "order_id"),
            ("olist_customers_dataset", "customer_id"),
            ("olist_order_items_dataset", "order_id"),
            ("olist_order_payments_dataset", "order_id"),
            ("olist_order_reviews_dataset", "order_id"),
        ):

            def edit(header: list[str], rows: list[list[str]], key: str = key) -> list[list[str]]:
                return [r for r in rows if r[header.index(key)] in keep[key]]

            _rewrite(folder, table, edit)

    return damage


CUSTOMERS_CSV, ORDERS_CSV = "olist_customers_dataset", "olist_orders_dataset"
ITEMS_CSV, PAYMENTS_CSV = "olist_order_items_dataset", "olist_order_payments_dataset"
PRODUCTS_CSV, SELLERS_CSV = "olist_products_dataset", "olist_sellers_dataset"

# Refused by check-data, before anything is loaded: (name, file, column, problem, what was broken, damage).
BAD_INPUTS: tuple[BadInput, ...] = tuple(BadInput(*case) for case in (
    ("missing file", PAYMENTS_CSV, None, "missing file", "payments CSV deleted",
     lambda d: _csv(d, PAYMENTS_CSV).unlink()),
    ("renamed file", ORDERS_CSV, None, "renamed?", "orders CSV saved as 'olist_orders_dataset (1).csv'",
     lambda d: _csv(d, ORDERS_CSV).rename(d / f"{ORDERS_CSV} (1).csv")),
    ("empty file", SELLERS_CSV, None, "empty file", "sellers CSV truncated to 0 bytes",
     lambda d: _csv(d, SELLERS_CSV).write_bytes(b"")),
    ("header-only orders", ORDERS_CSV, None, "header but no rows", "orders CSV: header row only",
     _rows(ORDERS_CSV, lambda rows: [])),
    ("missing column", ITEMS_CSV, "price", "missing column", "items: column price removed",
     _drop_column(ITEMS_CSV, "price")),
    ("renamed column", CUSTOMERS_CSV, "customer_state", "missing column", "customers: customer_state renamed",
     _rename_column(CUSTOMERS_CSV, "customer_state", "customer_st")),
    ("extra column", PAYMENTS_CSV, "discount", "unexpected column", "payments: column discount added",
     _add_column(PAYMENTS_CSV, "discount", "0")),
    ("bad timestamp", ORDERS_CSV, "order_purchase_timestamp", "unparseable timestamp",
     "orders: purchase time 2018-02-30 10:00:00",
     _set(ORDERS_CSV, "order_purchase_timestamp", "2018-02-30 10:00:00")),
    ("bad decimal", ITEMS_CSV, "price", "not a number", "items: price 1.234,56 (Brazilian format)",
     _set(ITEMS_CSV, "price", "1.234,56")),
    ("bad integer", PAYMENTS_CSV, "payment_installments", "not an integer", "payments: installments 3.5",
     _set(PAYMENTS_CSV, "payment_installments", "3.5")),
    ("decimal too large", ITEMS_CSV, "price", "too large for decimal(12,2)", "items: price 12345678901.00",
     _set(ITEMS_CSV, "price", "12345678901.00")),
    ("negative money", PAYMENTS_CSV, "payment_value", "negative amount", "payments: value -10.00",
     _set(PAYMENTS_CSV, "payment_value", "-10.00")),
    ("broken quoting", ORDERS_CSV, None, "broken CSV quoting", 'orders: a field opened with " never closed',
     _bytes(ORDERS_CSV, b",delivered,", b',"delivered,')),
    ("wrong field count", CUSTOMERS_CSV, None, "wrong number of fields", "customers: unquoted comma in city",
     _bytes(CUSTOMERS_CSV, b",sao paulo,SP", b",sao paulo, sp,SP")),
    ("not UTF-8", CUSTOMERS_CSV, "customer_city", "not UTF-8", "customers: city 'são paulo' in Latin-1",
     _bytes(CUSTOMERS_CSV, b",sao paulo,", b",s\xe3o paulo,")),
    ("duplicate key", ORDERS_CSV, "order_id", "duplicate key", "orders: first order repeated",
     _rows(ORDERS_CSV, lambda rows: [*rows, rows[0]])),
    ("empty key", PRODUCTS_CSV, "product_id", "empty key value", "products: empty product_id",
     _set(PRODUCTS_CSV, "product_id", "")),
    ("orphan foreign key", ITEMS_CSV, "product_id", "orphan foreign key", "items: product_id of no product",
     _set(ITEMS_CSV, "product_id", "f" * 32)),
    ("too-long id", CUSTOMERS_CSV, "customer_unique_id", "longer than char(32)", "customers: 33-character id",
     _set(CUSTOMERS_CSV, "customer_unique_id", "0" * 33)),
    ("non-digit zip", SELLERS_CSV, "seller_zip_code_prefix", "not 5 digits", "sellers: zip prefix 8270A",
     _set(SELLERS_CSV, "seller_zip_code_prefix", "8270A")),
    ("zip lost 0", CUSTOMERS_CSV, "customer_zip_code_prefix", "not 5 digits", "customers: zip 01323 as 1323",
     _set(CUSTOMERS_CSV, "customer_zip_code_prefix", "1323", 0)),
    ("semicolon-separated", SELLERS_CSV, None, "not comma-separated", "sellers: ';' between the fields",
     _delimiter(SELLERS_CSV, ";")),
    ("timestamp before the business", ORDERS_CSV, "order_purchase_timestamp", "implausible timestamp: before",
     "orders: purchase time 1970-01-01 00:00:00 (an epoch default)",
     _set(ORDERS_CSV, "order_purchase_timestamp", "1970-01-01 00:00:00")),
    ("timestamp decades away", ORDERS_CSV, "order_delivered_customer_date", "implausible timestamp: after",
     "orders: delivered 2071-05-01 10:00:00",
     _set(ORDERS_CSV, "order_delivered_customer_date", "2071-05-01 10:00:00")),
    ("implausible amount", PAYMENTS_CSV, "payment_value", "implausible amount", "payments: value 2500000.00",
     _set(PAYMENTS_CSV, "payment_value", "2500000.00")),
))  # fmt: skip

# Accepted by check-data, refused later in the chain.
UNKNOWN_STATUS = BadInput(
    "unknown order status", "stg_olist__orders", "order_status", "accepted_values",
    "orders: status 'lost' (passes check-data, fails a dbt test)", _set(ORDERS_CSV, "order_status", "lost"),
)  # fmt: skip
TOO_FEW_CUSTOMERS = BadInput(
    "too few customers", "assert_enough_customers_to_segment", None, "FAIL",
    "an 8-order extract (passes check-data; too small to segment, refused before the marts are rebuilt)",
    _keep_orders(8),
)  # fmt: skip

# Accepted on purpose (valid exports from other systems), each giving the same marts as the bundled sample:
# tests/python/test_bad_input_chain.py and test_check_data.py show it.
ACCEPTED: tuple[str, ...] = (
    "CRLF line ends (Windows exports), and CRLF or CR inside quoted texts (read as LF, as dbt does)",
    "every field quoted, or only where needed",
    "a UTF-8 byte-order mark (Kaggle's translation file has one): a note",
    "the columns in another order: a note (seeds load by name)",
    "a header-only reviews or translation file: a note (the marts do without them)",
    "more decimals than the column keeps: a note (MySQL rounds them)",
    "a date without a time in a timestamp column",
)
