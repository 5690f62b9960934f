"""hookline.testing (fakes, samples, simulators) stays out of the product: outside the package, only
the top-level CLI's module that adds the commands running a fake (`hookline simulate ...`,
`hookline demo`: cli/simulators.py) and an outside provider's command hooks may import it."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "hookline"
COMMAND_HOOKS = {"register_simulator", "register_cli"}
SIMULATOR_COMMANDS = SRC / "cli" / "simulators.py"


def _imports_of_testing(tree: ast.AST) -> list[tuple[int, str | None]]:
    """(line, enclosing function) of every import of hookline.testing in a module."""
    found: list[tuple[int, str | None]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            names = []
            if isinstance(child, ast.ImportFrom) and child.module:
                names = [child.module]
            elif isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            if any(n == "hookline.testing" or n.startswith("hookline.testing.") for n in names):
                found.append((child.lineno, function))
            visit(child, function)

    visit(tree, None)
    return found


def test_only_the_command_hooks_import_hookline_testing() -> None:
    offenders, hooks = [], 0
    for path in sorted(SRC.rglob("*.py")):
        if (SRC / "testing") in path.parents:
            continue
        for line, function in _imports_of_testing(ast.parse(path.read_text(), str(path))):
            if function in COMMAND_HOOKS or path == SIMULATOR_COMMANDS:
                hooks += 1
            else:
                offenders.append(f"{path.relative_to(SRC)}:{line} (in {function or 'the module'})")
    assert not offenders, offenders
    assert hooks >= 4  # Aircall's simulate and demo, Calendly's and monday.com's: the scan does see imports


def test_no_provider_imports_hookline_testing() -> None:
    """hookline.testing imports the providers (catalogs, signatures): the reverse would be a cycle."""
    for path in sorted((SRC / "providers").rglob("*.py")):
        assert not _imports_of_testing(ast.parse(path.read_text(), str(path))), path


def test_the_fakes_left_the_product_packages() -> None:
    for name in ("fake_api.py", "samples.py", "simulator.py", "simulator"):
        assert not list((SRC / "providers").rglob(name)), name
