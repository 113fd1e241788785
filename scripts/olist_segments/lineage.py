"""`olist-segments lineage`: the Mermaid lineage diagram of the chain, generated from dbt's manifest.

Seeds → staging → intermediate → marts → the Python model customer_segments → the models and snapshot built
on it → the dashboard exposure. Tests, and seeds no model uses (the optional geolocation seed), are left out,
so the diagram does not depend on which optional seeds are enabled.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import settings

log = logging.getLogger(__name__)

START, END = "<!-- lineage:start -->", "<!-- lineage:end -->"
DBT = Path(sys.executable).with_name("dbt")
README = settings.PROJECT_ROOT / "README.md"
# subgraph id → title, in the order of the chain
GROUPS = {
    "seeds": "seeds",
    "staging": "staging",
    "intermediate": "intermediate",
    "marts": "marts",
    "ml": "ML (dbt Python model)",
    "sources": "sources",
    "downstream": "downstream (customer_segments+)",
    "bi": "BI (exposure)",
}
Node = tuple[str, str, str]  # group, resource type, name
Edge = tuple[str, str]  # parent unique_id, child unique_id


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--write", metavar="FILE", type=Path, help="put the diagram between FILE's lineage markers"
    )
    mode.add_argument(
        "--check",
        metavar="FILE",
        type=Path,
        nargs="?",
        const=README,
        help="exit 1 if FILE's diagram (default: README.md) is not the current one",
    )
    parser.add_argument("--manifest", type=Path, help="read this manifest.json instead of running dbt parse")


def parse_manifest() -> dict:
    """`dbt parse` into a throwaway target folder (never another run's manifest) and load the result."""
    with tempfile.TemporaryDirectory(prefix="olist_lineage_") as tmp:
        env = {**os.environ, "DBT_TARGET_PATH": tmp, "DBT_LOG_PATH": tmp}
        cmd = [str(DBT), "--no-use-colors", "--quiet", "parse", "--project-dir", str(settings.PROJECT_ROOT)]
        cmd += ["--profiles-dir", str(settings.profiles_dir())]
        proc = subprocess.run(cmd, cwd=settings.PROJECT_ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"dbt parse failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return json.loads((Path(tmp) / "manifest.json").read_text(encoding="utf-8"))


def graph(manifest: dict) -> tuple[dict[str, Node], set[Edge]]:
    """The diagram's nodes (unique_id → group, type, name) and edges."""
    resources = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("seed", "model", "snapshot")
    }
    resources |= manifest["sources"] | manifest["exposures"]
    edges: set[Edge] = set()
    for uid, node in resources.items():
        edges |= {
            (parent, uid) for parent in node.get("depends_on", {}).get("nodes", []) if parent in resources
        }
    used = {uid for edge in edges for uid in edge}
    python = {uid for uid in used if resources[uid].get("language") == "python"}
    downstream = _reachable(python, edges)
    nodes = {
        uid: (_group(resources[uid], uid in python, uid in downstream), *_kind_name(resources[uid]))
        for uid in used
    }
    return nodes, edges


def _reachable(start: set[str], edges: set[Edge]) -> set[str]:
    """Everything below `start` (excluding `start` itself)."""
    found: set[str] = set()
    frontier = start
    while frontier:
        frontier = {child for parent, child in edges if parent in frontier} - found
        found |= frontier
    return found


def _kind_name(node: dict) -> tuple[str, str]:
    return node["resource_type"], node["name"]


def _group(node: dict, python: bool, downstream: bool) -> str:
    kind = node["resource_type"]
    if kind == "exposure":
        return "bi"
    if kind in ("seed", "source"):
        return f"{kind}s"
    if python:
        return "ml"
    if downstream:
        return "downstream"
    return node["fqn"][1]  # models/<staging|intermediate|marts>/…


def _node_id(unique_id: str) -> str:
    kind, _project, *name = unique_id.split(".")
    return "_".join([kind, *name])


def _shape(kind: str, name: str) -> str:
    if kind in ("seed", "source"):
        return f"[({name})]"
    if kind == "snapshot":
        return f"[[{name}]]"
    if kind == "exposure":
        return "{{" + name + "}}"
    return f"[{name}]"


def mermaid(nodes: dict[str, Node], edges: set[Edge]) -> str:
    lines = ["flowchart LR"]
    for group, title in GROUPS.items():
        members = sorted((name, kind, uid) for uid, (g, kind, name) in nodes.items() if g == group)
        if members:
            lines.append(f'  subgraph {group}["{title}"]')
            lines += [f"    {_node_id(uid)}{_shape(kind, name)}" for name, kind, uid in members]
            lines.append("  end")
    lines += [
        f"  {parent} --> {child}" for parent, child in sorted((_node_id(p), _node_id(c)) for p, c in edges)
    ]
    return "\n".join(lines)


def block(diagram: str) -> str:
    """The text between (and including) the markers."""
    note = "_Generated from dbt's manifest by `olist-segments lineage --write README.md` (`make lineage`)._"
    return f"{START}\n{note}\n\n```mermaid\n{diagram}\n```\n{END}"


def replace_block(text: str, new_block: str) -> str:
    """`text` with its lineage block replaced; without markers, a "## Lineage" section is appended."""
    start, end = text.find(START), text.find(END)
    if start == -1 or end < start:
        return f"{text.rstrip()}\n\n## Lineage\n\n{new_block}\n".lstrip()
    return text[:start] + new_block + text[end + len(END) :]


def main(args: argparse.Namespace) -> int:
    manifest = json.loads(args.manifest.read_text(encoding="utf-8")) if args.manifest else parse_manifest()
    new_block = block(mermaid(*graph(manifest)))
    path: Path | None = args.check or args.write
    if path is None:
        print(new_block)
        return 0
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    updated = replace_block(text, new_block)
    if args.check:
        if updated != text:
            log.error("%s: the lineage diagram is stale; run `olist-segments lineage --write %s`", path, path)
            return 1
        log.info("%s: the lineage diagram is current", path)
    elif updated != text:
        path.write_text(updated, encoding="utf-8")
        log.info("%s: lineage diagram updated", path)
    else:
        log.info("%s: lineage diagram already current", path)
    return 0
