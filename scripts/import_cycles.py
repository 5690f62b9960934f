"""Import cycles between the top-level parts of src/hookline, `if TYPE_CHECKING:` imports aside.

    .venv/bin/python scripts/import_cycles.py [--edges] [--among runtime,ingest,pipeline,forwarding,store]

Counts every import (lint-imports' acyclic contract ignores the edges listed in pyproject.toml); prints
the strongly connected groups of parts, the number of elementary cycles, and with --among the cycles
within those parts only.
"""

from __future__ import annotations

import sys
from collections import defaultdict

import grimp


def top(module: str) -> str:
    return ".".join(module.split(".")[:2])


def main(argv: list[str]) -> None:
    graph = grimp.build_graph("hookline", exclude_type_checking_imports=True)
    edges: dict[str, set[str]] = defaultdict(set)
    examples: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = top(module), top(imported)
            if a != b:
                edges[a].add(b)
                examples[a, b].append(f"{module} -> {imported}")
    parts = sorted(set(edges) | {b for bs in edges.values() for b in bs})

    def cycles_within(members: set[str]) -> set[tuple[str, ...]]:
        found: set[tuple[str, ...]] = set()

        def walk(start: str, at: str, path: list[str]) -> None:
            for nxt in edges[at] & members:
                if nxt == start:
                    found.add(tuple(path))
                elif nxt not in path and nxt > start:
                    walk(start, nxt, [*path, nxt])

        for part in members:
            walk(part, part, [part])
        return found

    groups = _strongly_connected(parts, edges)
    short = [sorted(p.removeprefix("hookline.") for p in g) for g in groups if len(g) > 1]
    print(f"groups of top-level parts in a cycle: {len(short)} {short}")
    print(f"elementary cycles between top-level parts: {len(cycles_within(set(parts)))}")
    if "--among" in argv:
        among = {f"hookline.{p}" for p in argv[argv.index("--among") + 1].split(",")}
        found = cycles_within(among)
        print(f"cycles among {sorted(p.removeprefix('hookline.') for p in among)}: {len(found)}")
        for cycle in sorted(found):
            print("  " + " -> ".join(p.removeprefix("hookline.") for p in (*cycle, cycle[0])))
    if "--edges" in argv:
        for group in groups:
            for a in sorted(group):
                for b in sorted(edges[a] & set(group)):
                    print(f"  {a} -> {b}: {len(examples[a, b])}, e.g. {examples[a, b][0]}")


def _strongly_connected(parts: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (the graph of parts is small)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            groups.append(group)

    for part in parts:
        if part not in index:
            visit(part)
    return groups


if __name__ == "__main__":
    main(sys.argv[1:])
