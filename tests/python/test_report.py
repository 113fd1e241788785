"""The report: PNGs and report.html drawn from the published tables in the warehouse."""

from __future__ import annotations

import argparse
import re
from html import escape
from pathlib import Path

import pytest
from PIL import Image

import segfixtures as sf
from olist_segments import cli, report
from olist_segments.settings import Warehouse

FILES = {"elbow.png", "silhouette.png", "segments.png", "profile.png", "report.html"}


@pytest.fixture
def wh(scratch: Warehouse) -> Warehouse:
    sf.load_definitions(scratch)
    sf.create_mart(scratch, sf.customers(3000))
    return scratch


def parse(module: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)  # type: ignore[attr-defined]
    return parser.parse_args(argv)


def test_report_shows_the_published_run(wh: Warehouse, tmp_path: Path) -> None:
    sf.run_model(wh, segment_k="auto", segment_k_range="2-6")
    page = report.build(wh, tmp_path, sample=1000)
    assert {p.name for p in tmp_path.iterdir()} == FILES
    for name in FILES - {"report.html"}:
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.width >= 700 and image.height >= 400
    html = page.read_text(encoding="utf-8")
    (run,) = sf.registry(wh)
    assert run["run_id"] in html and run["metrics"]["rule"] in html
    for name in FILES - {"report.html"}:
        assert f'<img src="{name}"' in html
    counts = sf.query(
        wh, f"select segment_id, segment_name, count(*) from {sf.segments_table(wh)} group by 1, 2 order by 1"
    )
    for sid, name, n in counts:
        profile = next(c["profile"] for c in run["centroids"] if c["segment_id"] == sid)
        assert re.search(rf"<tr><td>{sid}</td><td>{name}</td><td>{profile}</td><td>{n:,}</td>", html)
    actions = [c["suggested_action"] for c in run["centroids"]]
    assert len(actions) == run["k"] and all(a and escape(a) in html for a in actions)
    assert "agreement with the previous run" not in html  # a first run has none


def test_report_reads_the_warehouse_and_escapes_what_it_finds(wh: Warehouse, tmp_path: Path) -> None:
    sf.run_model(wh)
    sf.execute(
        wh, f"update {sf.segments_table(wh)} set segment_name = '<b>Renamed</b> & co' where segment_id = 1"
    )
    html = report.build(wh, tmp_path).read_text(encoding="utf-8")
    assert "&lt;b&gt;Renamed&lt;/b&gt; &amp; co" in html and "<b>Renamed" not in html


def test_report_command_redraws_the_report(
    wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DBT_SCHEMA", wh.schema)
    sf.run_model(wh)
    assert report.main(parse(report, ["--out", str(tmp_path / "again")])) == 0
    assert {p.name for p in (tmp_path / "again").iterdir()} == FILES
    assert f"report: {tmp_path / 'again' / 'report.html'}" in capsys.readouterr().out


def test_report_without_published_segments_is_a_clear_error(
    scratch: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DBT_SCHEMA", scratch.schema)
    assert cli.main(["report", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"olist-segments report: error: no published segments: {scratch.schema}_ml.customer_segments"
        " not found (run olist-segments segment)\n"
    )
    assert not any(tmp_path.iterdir())
