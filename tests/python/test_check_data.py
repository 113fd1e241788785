"""check-data refuses every kind of broken Olist folder, naming file, column and problem; good folders pass.

Each bad case copies a valid folder (the bundled sample, or a tiny folder written here while the sample is
not there) into tmp_path and breaks one thing.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from olist_segments import checks, cli
from projectkit import REAL_DATA, ROOT, requires_real_data

SAMPLE = ROOT / "seeds" / "olist_sample"
CU, OR, IT = "olist_customers_dataset", "olist_orders_dataset", "olist_order_items_dataset"
PA = "olist_order_payments_dataset"
RV, PR, SE = "olist_order_reviews_dataset", "olist_products_dataset", "olist_sellers_dataset"
TR = "product_category_name_translation"
TABLES = [CU, OR, IT, PA, RV, PR, SE, TR]


def _id(prefix: str, n: int) -> str:
    return f"{prefix}{n:031d}"


C1, C2, U1, U2 = _id("c", 1), _id("c", 2), _id("a", 1), _id("a", 2)
O1, O2, P1, P2, S1, R1, R2 = (
    _id("b", 1),
    _id("b", 2),
    _id("d", 1),
    _id("d", 2),
    _id("e", 1),
    _id("f", 1),
    _id("f", 2),
)
TINY: dict[str, list[list[str]]] = {
    CU: [
        ["customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city", "customer_state"],
        [C1, U1, "01037", "sao paulo", "SP"],
        [C2, U2, "13023", "campinas", "SP"],
    ],
    OR: [
        ["order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
         "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date"],
        [O1, C1, "delivered", "2017-10-02 10:56:33", "2017-10-02 11:07:15", "2017-10-04 19:55:00",
         "2017-10-10 21:25:13", "2017-10-18 00:00:00"],
        [O2, C2, "canceled", "2018-01-01 08:00:00", "", "", "", "2018-01-20 00:00:00"],
    ],
    IT: [
        ["order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price",
         "freight_value"],
        [O1, "1", P1, S1, "2017-10-06 11:07:15", "58.90", "13.29"],
        [O1, "2", P2, S1, "2017-10-06 11:07:15", "10.00", "5.00"],
        [O2, "1", P1, S1, "2018-01-05 08:00:00", "58.90", "0.00"],
    ],
    PA: [
        ["order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value"],
        [O1, "1", "credit_card", "8", "87.19"],
        [O1, "2", "voucher", "1", "0.00"],
        [O2, "1", "boleto", "1", "58.90"],
    ],
    RV: [  # a multi-line message, and review_id R1 twice (as in the real data)
        ["review_id", "order_id", "review_score", "review_comment_title", "review_comment_message",
         "review_creation_date", "review_answer_timestamp"],
        [R1, O1, "4", "", "Recomendo, chegou antes", "2017-10-11 00:00:00", "2017-10-12 03:43:48"],
        [R2, O2, "1", "ruim", 'nunca "chegou"\r\nlinha 2', "2018-01-21 00:00:00", ""],
        [R1, O2, "2", "", "", "2018-01-22 00:00:00", "2018-01-23 10:00:00"],
    ],
    PR: [
        ["product_id", "product_category_name", "product_name_lenght", "product_description_lenght",
         "product_photos_qty", "product_weight_g", "product_length_cm", "product_height_cm",
         "product_width_cm"],
        [P1, "beleza_saude", "40", "287", "1", "225", "16", "10", "14"],
        [P2, "", "", "", "", "", "", "", ""],
    ],
    SE: [
        ["seller_id", "seller_zip_code_prefix", "seller_city", "seller_state"],
        [S1, "13023", "campinas", "SP"],
    ],
    TR: [
        ["product_category_name", "product_category_name_english"],
        ["beleza_saude", "health_beauty"],
    ],
}  # fmt: skip


def _sample_ready() -> bool:
    return all((SAMPLE / f"{t}.csv").is_file() for t in TABLES)


def write_csv(path: Path, rows: list[list[str]], bom: bool = False) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A valid Olist folder: a copy of the bundled sample (or, while it is not there, the tiny folder)."""
    target = tmp_path / "olist"
    if _sample_ready():
        shutil.copytree(SAMPLE, target)
    else:
        target.mkdir()
        for table, rows in TINY.items():
            write_csv(target / f"{table}.csv", rows, bom=table == "product_category_name_translation")
    return target


def edit(folder: Path, table: str, change: Callable[[list[list[str]]], None]) -> None:
    """Rewrite one CSV after `change` edited its rows in place (rows[0] is the header)."""
    path = folder / f"{table}.csv"
    rows = read_csv(path)
    change(rows)
    write_csv(path, rows)


def set_value(table: str, column: str, value: str, row: int = 1) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        def change(rows: list[list[str]]) -> None:
            rows[row][rows[0].index(column)] = value

        edit(folder, table, change)

    return apply


def run(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["check-data", str(folder)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def error_lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith("ERROR ")]


def assert_refused(output: str, code: int, file: str, column: str | None, *words: str) -> str:
    """Exit code 1 and one ERROR line naming the file, the column and the problem; returns that line."""
    assert code == 1, output
    prefix = f"ERROR {file}" + (f", column {column}" if column else "")
    hits = [ln for ln in error_lines(output) if ln.startswith(prefix) and all(w in ln for w in words)]
    assert hits, f"no error line starting {prefix!r} with {words}:\n{output}"
    assert "refused" in output and "nothing was loaded" in output
    return hits[0]


def drop_file(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / f"{name}.csv").unlink()


def rename_file(name: str, new: str) -> Callable[[Path], None]:
    return lambda folder: (folder / f"{name}.csv").rename(folder / new)


def drop_column(table: str, column: str) -> Callable[[Path], None]:
    def change(rows: list[list[str]]) -> None:
        i = rows[0].index(column)
        for r in rows:
            del r[i]

    return lambda folder: edit(folder, table, change)


def rename_column(table: str, column: str, new: str) -> Callable[[Path], None]:
    return set_value(table, column, new, row=0)


def add_column(table: str, column: str) -> Callable[[Path], None]:
    def change(rows: list[list[str]]) -> None:
        rows[0].append(column)
        for r in rows[1:]:
            r.append("x")

    return lambda folder: edit(folder, table, change)


def duplicate_row(table: str, row: int = 1) -> Callable[[Path], None]:
    return lambda folder: edit(folder, table, lambda rows: rows.append(list(rows[row])))


def replace_bytes(table: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / f"{table}.csv"
        data = path.read_bytes()
        assert old in data
        path.write_bytes(data.replace(old, new, 1))

    return apply


def first_value(folder: Path, table: str, column: str) -> str:
    rows = read_csv(folder / f"{table}.csv")
    return rows[1][rows[0].index(column)]


def latin1_city(folder: Path) -> None:
    city = first_value(folder, "olist_customers_dataset", "customer_city").encode()
    replace_bytes("olist_customers_dataset", b"," + city + b",", b",s\xe3o " + city + b",")(folder)


def append_bytes(table: str, data: bytes) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        with (folder / f"{table}.csv").open("ab") as f:
            f.write(data)

    return apply


def truncate(table: str, keep_header: bool) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / f"{table}.csv"
        path.write_bytes(path.read_bytes().split(b"\n")[0] + b"\n" if keep_header else b"")

    return apply


def orphan(table: str, column: str) -> Callable[[Path], None]:
    return set_value(table, column, "f" * 32)


def unterminated_quote_mid_file(folder: Path) -> None:
    """Line 2 of sellers opens a quote that never closes; more rows follow."""
    edit(folder, "olist_sellers_dataset", lambda rows: rows.insert(2, ["e" * 32, *rows[1][1:]]))
    path = folder / "olist_sellers_dataset.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[1] = lines[1].replace(",", ',"', 1)
    path.write_text("\n".join(lines), encoding="utf-8")


UNTERMINATED = b"c" * 32 + b',"abc\n'  # a last row whose quote never closes

# (case id, how to break the folder, table, column or None, words the error line must contain, expected line)
CASES: list[tuple[str, Callable[[Path], None], str, str | None, tuple[str, ...], int | None]] = [
    ("missing_file", drop_file(OR), OR, None, ("missing file",), None),
    ("renamed_file", rename_file(OR, "olist_order_dataset.csv"), OR, None,
     ("missing file", "'olist_order_dataset.csv'", "renamed?"), None),
    ("missing_column", drop_column(CU, "customer_state"), CU, "customer_state", ("missing column",), 1),
    ("renamed_column", rename_column(OR, "order_status", "order_state"), OR, "order_status",
     ("missing column", "'order_state'", "renamed?"), 1),
    ("extra_column", add_column(SE, "seller_phone"), SE, "seller_phone", ("unexpected column",), 1),
    ("bad_timestamp", set_value(OR, "order_purchase_timestamp", "2017-13-45 10:00:00"), OR,
     "order_purchase_timestamp", ("unparseable timestamp", "'2017-13-45 10:00:00'"), 2),
    ("us_date", set_value(OR, "order_approved_at", "10/02/2017 11:07"), OR, "order_approved_at",
     ("unparseable timestamp",), 2),
    ("non_numeric_price", set_value(IT, "price", "58,90"), IT, "price", ("not a number", "'58,90'"), 2),
    ("non_integer", set_value(IT, "order_item_id", "1.5"), IT, "order_item_id",
     ("not an integer", "'1.5'"), 2),
    ("int_overflow", set_value(PR, "product_weight_g", "99999999999"), PR, "product_weight_g",
     ("not an integer",), 2),
    ("unterminated_quote_at_end", append_bytes(CU, UNTERMINATED), CU, None,
     ("broken CSV quoting", "unterminated quote"), None),
    ("unterminated_quote_mid_file", unterminated_quote_mid_file, SE, None, ("broken CSV quoting",), 2),
    ("wrong_field_count", append_bytes(PA, b"x,1,boleto,1,10.00,extra\n"), PA, None,
     ("wrong number of fields", "has 6"), None),
    ("non_utf8_offset", latin1_city, CU, None, ("not UTF-8", "0xE3", "offset", "(line 2)"), None),
    ("non_utf8_column", latin1_city, CU, "customer_city", ("not UTF-8",), 2),
    ("empty_file", truncate(PR, keep_header=False), PR, None, ("empty file",), None),
    ("header_only", truncate(OR, keep_header=True), OR, None, ("header but no rows",), None),
    ("duplicate_key", duplicate_row(CU), CU, "customer_id", ("duplicate key", "of line 2"), None),
    ("duplicate_composite_key", duplicate_row(IT), IT, "order_id, order_item_id",
     ("duplicate key (order_id, order_item_id)",), None),
    ("duplicate_translation", duplicate_row(TR), TR, "product_category_name", ("duplicate key",), None),
    ("empty_key", set_value(PR, "product_id", ""), PR, "product_id", ("empty key value",), 2),
    ("orphan_order_customer", orphan(OR, "customer_id"), OR, "customer_id",
     ("orphan foreign key", f"{CU}.csv"), 2),
    ("orphan_item_order", orphan(IT, "order_id"), IT, "order_id", ("orphan foreign key", f"{OR}.csv"), 2),
    ("orphan_item_product", orphan(IT, "product_id"), IT, "product_id",
     ("orphan foreign key", f"{PR}.csv"), 2),
    ("orphan_item_seller", orphan(IT, "seller_id"), IT, "seller_id", ("orphan foreign key", f"{SE}.csv"), 2),
    ("orphan_payment_order", orphan(PA, "order_id"), PA, "order_id", ("orphan foreign key", f"{OR}.csv"), 2),
    ("orphan_review_order", orphan(RV, "order_id"), RV, "order_id", ("orphan foreign key", f"{OR}.csv"), 2),
    ("negative_price", set_value(IT, "price", "-58.90"), IT, "price", ("negative amount", "'-58.90'"), 2),
    ("negative_freight", set_value(IT, "freight_value", "-0.01"), IT, "freight_value",
     ("negative amount",), 2),
    ("negative_payment", set_value(PA, "payment_value", "-1.00"), PA, "payment_value",
     ("negative amount",), 2),
    ("too_large_decimal", set_value(IT, "freight_value", "12345678901.00"), IT, "freight_value",
     ("too large for decimal(12,2)",), 2),
    ("id_too_long", set_value(SE, "seller_id", "e" * 33), SE, "seller_id", ("longer than char(32)",), 2),
    ("state_too_long", set_value(CU, "customer_state", "SPX"), CU, "customer_state",
     ("longer than char(2)", "'SPX'"), 2),
    ("zip_too_long", set_value(SE, "seller_zip_code_prefix", "130230"), SE, "seller_zip_code_prefix",
     ("longer than varchar(5)",), 2),
    ("zip_not_digits", set_value(CU, "customer_zip_code_prefix", "0103A"), CU, "customer_zip_code_prefix",
     ("not 5 digits", "'0103A'"), 2),
    ("zip_lost_leading_zero", set_value(CU, "customer_zip_code_prefix", "1037"), CU,
     "customer_zip_code_prefix", ("leading zeros lost?",), 2),
]  # fmt: skip


@pytest.mark.parametrize(("break_it", "table", "column", "words", "line"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_bad_input_is_refused(
    folder: Path,
    capsys: pytest.CaptureFixture[str],
    break_it: Callable[[Path], None],
    table: str,
    column: str | None,
    words: tuple[str, ...],
    line: int | None,
) -> None:
    break_it(folder)
    code, output = run(folder, capsys)
    hit = assert_refused(output, code, f"{table}.csv", column, *words)
    if line is not None:
        assert f", line {line}:" in hit, hit


def careful_read(data: bytes) -> tuple[list[str], pd.DataFrame, list[int]]:
    """What the csv module reads: header, rows, the line each row starts on."""
    out = checks._Collector("x.csv")
    text, _ = checks._decode(data, out)
    records, starts, _ = checks._records(text, out)
    rows, lines, _ = checks._rows(records, starts, out)
    return records[0], pd.DataFrame(rows, columns=records[0], dtype=object), lines


def plain_files(folder: Path) -> list[Path]:
    tiny = folder / "tiny"
    tiny.mkdir()
    for table, rows in TINY.items():
        write_csv(tiny / f"{table}.csv", rows)
    crlf = tiny / "crlf.csv"  # Windows line ends, quoted fields with commas, doubled quotes, line breaks
    crlf.write_bytes(b'a,b,c\r\n"1,5","say ""hi""",\r\n"","x\r\ny\n""z""",3\r\nlast,,row')
    real = sorted(REAL_DATA.glob("*.csv")) if REAL_DATA.is_dir() else []
    return sorted(folder.glob("*.csv")) + sorted(tiny.glob("*.csv")) + real


def test_plain_files_are_read_by_pandas_as_the_csv_module_reads_them(folder: Path) -> None:
    for path in plain_files(folder):
        data = path.read_bytes().removeprefix(checks.BOM)
        plain = checks._plain(data)
        assert plain is not None, path
        header, frame, lines = careful_read(data)
        assert plain[0] == header, path
        pd.testing.assert_frame_equal(plain[1], frame, check_index_type=False)
        assert plain[2].tolist() == lines, path


NOT_PLAIN = {
    "text after a closing quote": b'a,b\n"x"y,1\n',
    "a quote inside an unquoted field": b'a,b\nx"y,1\n',
    "an unterminated quote": b'a,b\n"x,1\n2,3\n',
    "a quote closing mid-field": b'a,b\n"x"",1\n',
    "a bare carriage return": b"a,b\rx,1\n",
    "a blank line": b"a,b\n\nx,1\n",
    "a short row": b"a,b,c\nx,1\n",
    "a long row": b"a,b\nx,1,2\n",
    "not UTF-8": b"a,b\ns\xe3o,1\n",
    "one column": b"a;b\nx;1\n",
    "no rows": b"a,b\n",
}


@pytest.mark.parametrize("data", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_files_pandas_could_read_otherwise_are_left_to_the_csv_module(data: bytes) -> None:
    assert checks._plain(data) is None


def test_valid_folder_passes(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, output = run(folder, capsys)
    assert code == 0, output
    assert not error_lines(output) and "OK" in output


def test_the_plausible_ranges_are_the_projects_and_apply(folder: Path, tmp_path: Path) -> None:
    """check_data_plausible in dbt_project.yml sets the ranges; a tighter one refuses the sample's values."""
    project = tmp_path / "dbt_project.yml"
    project.write_text(
        "vars:\n  check_data_plausible:\n    earliest_timestamp: '2017-01-01'\n"
        "    latest_timestamp: '2018-12-31'\n    max_amount: 500\n",
        encoding="utf-8",
    )
    tight = checks.Plausible.from_project(project)
    assert (tight.earliest, tight.latest, tight.max_amount) == (
        pd.Timestamp("2017-01-01"),
        pd.Timestamp("2018-12-31"),
        500.0,
    )
    assert not checks.errors(checks.check_folder(folder))  # the project's own ranges
    refused = [str(p) for p in checks.errors(checks.check_folder(folder, plausible=tight))]
    assert any(
        "olist_order_payments_dataset.csv, column payment_value" in p and "more than 500.00" in p
        for p in refused
    )
    assert any("column order_purchase_timestamp" in p and "before 2017-01-01" in p for p in refused)


def test_bom_is_accepted_with_a_note(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = folder / "olist_sellers_dataset.csv"
    path.write_bytes(checks.BOM + path.read_bytes().removeprefix(checks.BOM))
    code, output = run(folder, capsys)
    assert code == 0, output
    assert "NOTE olist_sellers_dataset.csv: starts with a UTF-8 byte-order mark: accepted" in output


def test_optional_tables_may_be_header_only(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truncate("olist_order_reviews_dataset", keep_header=True)(folder)
    code, output = run(folder, capsys)
    assert code == 0, output
    assert "NOTE olist_order_reviews_dataset.csv: header but no rows: accepted" in output


def test_reviews_may_repeat_ids_and_span_lines(folder: Path) -> None:
    duplicate_row("olist_order_reviews_dataset")(folder)
    assert checks.errors(checks.check_folder(folder)) == []


def test_keys_compare_as_the_warehouse_compares_them(folder: Path) -> None:
    """utf8mb4_unicode_ci ignores case: a customer_id that differs from another only so is a duplicate key
    (named with the line of the first), and an order referencing its customer in upper case is no orphan."""
    customers = read_csv(folder / "olist_customers_dataset.csv")
    first = customers[1][customers[0].index("customer_id")]
    orders = read_csv(folder / "olist_orders_dataset.csv")
    row = next(i for i, r in enumerate(orders) if r[orders[0].index("customer_id")] == first)
    set_value("olist_orders_dataset", "customer_id", first.upper(), row)(folder)
    assert checks.errors(checks.check_folder(folder)) == []

    edit(folder, "olist_customers_dataset", lambda rows: rows.append([first.upper(), *rows[1][1:]]))
    refused = [str(p) for p in checks.errors(checks.check_folder(folder))]
    assert len(refused) == 1 and "olist_customers_dataset.csv, column customer_id" in refused[0], refused
    repeat = f"line {len(customers) + 1} repeats '{first.upper()}' of line 2"
    assert f"duplicate key (customer_id): 1 row, e.g. {repeat}" in refused[0]


def test_foreign_keys_fold_and_show_text_beyond_ascii(folder: Path) -> None:
    """A reference differing from its key by accents only is found (utf8mb4_unicode_ci); one that exists
    nowhere is named as written."""
    seller = first_value(folder, "olist_sellers_dataset", "seller_id")
    accented = seller.translate(str.maketrans("ae", "áé"))
    assert accented != seller
    set_value("olist_order_items_dataset", "seller_id", accented)(folder)
    set_value("olist_order_items_dataset", "product_id", "produto-não-existe", row=2)(folder)
    refused = [str(p) for p in checks.errors(checks.check_folder(folder))]
    assert len(refused) == 1, refused
    assert "column product_id, line 3: orphan foreign key: no such product_id" in refused[0]
    assert "e.g. line 3 'produto-não-existe'" in refused[0]


def test_extra_decimals_are_a_note_not_an_error(folder: Path) -> None:
    set_value("olist_order_payments_dataset", "payment_value", "87.195")(folder)
    problems = checks.check_folder(folder)
    assert checks.errors(problems) == []
    assert any(p.column == "payment_value" and "more than 2 decimals" in p.message for p in problems)


def test_many_bad_values_are_counted_with_five_examples(folder: Path) -> None:
    def change(rows: list[list[str]]) -> None:
        col = rows[0].index("order_status")
        for r in rows[1:]:
            r[col] = "x" * 21  # varchar(20)

    edit(folder, "olist_orders_dataset", change)
    n_rows = len(read_csv(folder / "olist_orders_dataset.csv")) - 1
    (problem,) = [p for p in checks.errors(checks.check_folder(folder)) if p.column == "order_status"]
    assert f"{n_rows:,} rows" in problem.message or n_rows == 1
    assert problem.message.count("line ") == min(n_rows, checks.EXAMPLES)
    assert problem.line == 2


def test_every_problem_is_reported_not_just_the_first(folder: Path) -> None:
    drop_file("olist_sellers_dataset")(folder)
    set_value("olist_orders_dataset", "order_purchase_timestamp", "yesterday")(folder)
    set_value("olist_order_payments_dataset", "payment_value", "-5")(folder)
    add_column("olist_products_dataset", "colour")(folder)
    found = {(p.file, p.column) for p in checks.errors(checks.check_folder(folder))}
    assert {
        ("olist_sellers_dataset.csv", None),
        ("olist_orders_dataset.csv", "order_purchase_timestamp"),
        ("olist_order_payments_dataset.csv", "payment_value"),
        ("olist_products_dataset.csv", "colour"),
    } <= found


def test_missing_folder_and_stray_files(
    tmp_path: Path, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = run(tmp_path / "nope", capsys)
    assert code == 1 and "folder not found" in output
    (folder / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    code, output = run(folder, capsys)
    assert code == 0 and "NOTE notes.csv: not an Olist table" in output


def test_geolocation_is_skipped_unless_asked(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLIST_LOAD_GEOLOCATION", raising=False)
    assert any("skipped" in p.message for p in checks.check_folder(folder) if "geolocation" in p.file)
    (folder / "olist_geolocation_dataset.csv").unlink(missing_ok=True)
    monkeypatch.setenv("OLIST_LOAD_GEOLOCATION", "1")
    (problem,) = [p for p in checks.errors(checks.check_folder(folder)) if "geolocation" in p.file]
    assert problem.message.startswith("missing file")
    write_csv(folder / "olist_geolocation_dataset.csv", [
        ["geolocation_zip_code_prefix", "geolocation_lat", "geolocation_lng", "geolocation_city",
         "geolocation_state"],
        ["01037", "-23.54562128115268", "-4.367379244740171e-05", "sao paulo", "SP"],
        ["01046", "north", "-46.64", "sao paulo", "SP"],
    ])  # fmt: skip
    (problem,) = [p for p in checks.errors(checks.check_folder(folder)) if "geolocation" in p.file]
    assert (problem.column, problem.line) == ("geolocation_lat", 3) and "not a number" in problem.message


def test_expected_columns_come_from_the_seed_properties(tmp_path: Path) -> None:
    specs = checks.load_specs()
    assert set(TABLES) <= set(specs)
    assert specs["olist_order_items_dataset"]["price"] == checks.ColumnType("decimal", 12, 2)
    assert specs["olist_customers_dataset"]["customer_zip_code_prefix"] == checks.ColumnType("varchar", 5)
    properties = tmp_path / checks.SEEDS_FILE.name
    text = checks.SEEDS_FILE.read_text(encoding="utf-8")
    properties.write_text(text.replace("customer_state: char(2)", "customer_state: money"), encoding="utf-8")
    with pytest.raises(ValueError, match=r"olist_customers_dataset\.customer_state has type 'money'"):
        checks.load_specs(properties)


def test_require_valid_raises_for_the_pipeline(folder: Path) -> None:
    assert checks.errors(checks.require_valid(folder)) == []
    duplicate_row("olist_sellers_dataset")(folder)
    with pytest.raises(
        checks.DataCheckError, match=r"olist_sellers_dataset\.csv, column seller_id.*duplicate key"
    ):
        checks.require_valid(folder)


def test_a_folder_that_passed_is_not_read_again_until_a_byte_changes(folder: Path, tmp_path: Path) -> None:
    record = tmp_path / "target" / "check_data_passed.json"
    first, skipped = checks.check_folder_remembered(folder, record)
    assert not skipped and checks.errors(first) == [] and record.is_file()
    again, skipped = checks.check_folder_remembered(folder, record)
    assert skipped and again == first  # the notes of the check that passed
    assert not checks.check_folder_remembered(folder, record, recheck=True)[1]
    sellers = folder / "olist_sellers_dataset.csv"
    good = sellers.read_bytes()
    duplicate_row("olist_sellers_dataset")(folder)
    refused, skipped = checks.check_folder_remembered(folder, record)
    assert not skipped and "duplicate key" in str(checks.errors(refused)[0])
    assert not checks.check_folder_remembered(folder, record)[1]  # a refused folder: checked every time
    sellers.write_bytes(good)
    assert checks.check_folder_remembered(folder, record) == (first, True)  # back to what passed


def test_console_script_exit_code(folder: Path) -> None:
    drop_column("olist_orders_dataset", "order_status")(folder)
    script = Path(sys.executable).with_name("olist-segments")
    proc = subprocess.run([str(script), "check-data", str(folder)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "ERROR olist_orders_dataset.csv, column order_status, line 1: missing column" in proc.stderr


@pytest.mark.skipif(not _sample_ready(), reason="seeds/olist_sample not generated yet (make sample)")
def test_bundled_sample_passes() -> None:
    assert checks.errors(checks.check_folder(SAMPLE)) == []


@requires_real_data()
@pytest.mark.real_data
def test_real_folder_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """(How long it takes is measured by `make bench`, not here.)"""
    monkeypatch.delenv("OLIST_LOAD_GEOLOCATION", raising=False)
    problems = checks.check_folder(REAL_DATA)
    assert checks.errors(problems) == [], "\n".join(map(str, problems))
    notes = {(p.file, p.message.split(":")[0]) for p in problems}
    assert ("product_category_name_translation.csv", "starts with a UTF-8 byte-order mark") in notes


@pytest.mark.parametrize("collide", [False, True], ids=["digests", "every_digest_colliding"])
def test_foreign_key_lookup_is_exact(collide: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Children found in the parent keys exactly as numpy's isin finds them, also when digests collide."""
    if collide:
        monkeypatch.setattr(checks._KeySet, "_MIX", np.zeros(4, np.uint64))
    rng = np.random.default_rng(7)
    parent = np.array([f"{n:032x}" for n in rng.integers(0, 2**62, 2000)] + ["x", "x"], dtype=np.bytes_)
    near = [p[:-1] + b"0" if p[-1:] != b"0" else p[:-1] + b"1" for p in parent[:50]]
    child = np.concatenate([parent[::3], near, [b"", b"x", b"x" * 40, parent[0][:31]]]).astype(np.bytes_)
    keys = checks._KeySet(parent)
    assert (keys.keys is None) == collide
    assert keys.contains(child).tolist() == np.isin(child, parent).tolist()
