"""The architecture of docs/architecture.md, checked: no import cycles, functions a reader can hold in mind.

The layers themselves are import-linter's contract in pyproject.toml (`make lint`); these tests add what it
does not check: cycles inside a package, and the length of every function in src/.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import grimp

SRC = Path(__file__).resolve().parents[2] / "src" / "gradwise"
#: the longest a function may be (lines of code: no blank lines, comments or docstrings)
MAX_LINES = 80
#: the training loop reads like the seeds' loop: shorter still
MAX_FIT_LINES = 60


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that import each other, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            groups.append(group)

    for node in list(edges):
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycles():
    graph = grimp.build_graph("gradwise", include_external_packages=False, exclude_type_checking_imports=True)
    edges = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    assert len(edges) > 50  # the graph saw the package
    # A package's __init__ re-exports its modules: a module importing its own package is a cycle too.
    cycles = [sorted(group) for group in _strongly_connected(edges) if len(group) > 1]
    assert cycles == []


def _code_lines(source: str) -> set[int]:
    lines: set[int] = set()
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER)
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return lines


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def function_lengths() -> dict[str, int]:
    """{"path:line name": lines of code} for every function in src/gradwise."""
    lengths = {}
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text()
        tree = ast.parse(source)
        code = _code_lines(source) - _docstring_lines(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                span = range(node.lineno, (node.end_lineno or node.lineno) + 1)
                lengths[f"{path.relative_to(SRC)}:{node.lineno} {node.name}"] = len(code.intersection(span))
    return lengths


def test_functions_are_short_enough_to_hold_in_mind():
    lengths = function_lengths()
    assert len(lengths) > 300  # the scan saw the code base
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert too_long == {}
    fit = [n for name, n in lengths.items() if name.startswith("training.py:") and name.endswith(" fit")]
    assert fit and fit[0] <= MAX_FIT_LINES
