"""The suite runs with RuntimeWarnings as errors, and no test quietly switches that off (issue 8).

Checks the configuration (pyproject's filterwarnings, the Makefile's `pytest -W error::RuntimeWarning`)
and scans every test module (AST) for what would silence a NumPy RuntimeWarning: `np.errstate(...="ignore")`,
`np.seterr`, `warnings.simplefilter/filterwarnings` with a non-error action for RuntimeWarning (or for
everything), `@pytest.mark.filterwarnings("ignore…")`, `pytest.warns(RuntimeWarning)`. The few
deliberate exceptions are listed with their reason. Also: the docs table names only tests that exist.
"""

from __future__ import annotations

import ast
import re
import tomllib

import pytest

from .conftest import REPO

TESTS = REPO / "tests"

#: (test file, enclosing function) → why silencing is right there
ALLOWED = {
    ("training/test_training_callbacks.py", "test_terminate_on_nan_off_lets_the_cost_become_non_finite"): (
        "the user switched divergence detection off (terminate_on_nan=False): NumPy's overflow warnings are "
        "then the library's expected behaviour, and the test checks that the cost does go non-finite"
    ),
    ("engine/test_losses.py", "test_course_random_x10_initialization_cost_is_finite_where_the_course_gets_inf"): (
        "the test computes the course's naive log(a) itself, to show it is inf; no library code runs inside"
    ),
    ("reliability/test_properties.py", "_cast"): (
        "builds the test's own float16/float32 input from float64 values (overflow to inf is the point); "
        "no library code runs inside"
    ),
}

SILENT_ACTIONS = {"ignore", "default", "always", "module", "once"}  # anything but "error" undoes -W error
SILENT_ERRSTATE = {"ignore", "print", "log", "call"}


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "?"


def _string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def silencers(source: str, filename: str = "<test>") -> list[tuple[str, int, str]]:
    """(enclosing function, line, what) for every construct that would silence a RuntimeWarning."""
    tree = ast.parse(source, filename)
    found = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and _dotted(deco.func).endswith("mark.filterwarnings"):
                    spec = _string(deco.args[0]) if deco.args else None
                    if (
                        spec
                        and spec.split(":")[0] in SILENT_ACTIONS
                        and ("RuntimeWarning" in spec or spec.count(":") == 0 or spec.split(":")[2:3] in ([], [""]))
                    ):
                        found.append((function, deco.lineno, f"@filterwarnings({spec!r})"))
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.split(".")[-1]
            if last == "errstate":
                for kw in node.keywords:
                    if _string(kw.value) in SILENT_ERRSTATE:
                        found.append((function, node.lineno, f"np.errstate({kw.arg}={_string(kw.value)!r})"))
            elif last == "seterr" and name.split(".")[0] in ("np", "numpy"):
                found.append((function, node.lineno, "np.seterr"))
            elif name in ("warnings.simplefilter", "warnings.filterwarnings", "simplefilter", "filterwarnings"):
                action = (
                    _string(node.args[0])
                    if node.args
                    else _string(next((k.value for k in node.keywords if k.arg == "action"), None))
                )
                category = next((a for a in node.args[1:2]), None) if last == "simplefilter" else None
                category = category or next((k.value for k in node.keywords if k.arg == "category"), None)
                cat = _dotted(category) if category is not None else None
                if action in SILENT_ACTIONS and (
                    cat is None
                    or cat.endswith("RuntimeWarning")
                    or cat.endswith("Warning")
                    and cat in ("Warning", "builtins.Warning")
                ):
                    found.append((function, node.lineno, f"{name}({action!r}, {cat})"))
            elif name in ("pytest.warns", "warns") and node.args and _dotted(node.args[0]).endswith("RuntimeWarning"):
                found.append((function, node.lineno, "pytest.warns(RuntimeWarning)"))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "<module>")
    return found


def test_pyproject_turns_runtime_warnings_into_errors():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    filters = config.get("filterwarnings", [])
    assert "error::RuntimeWarning" in filters
    # a later entry wins in pytest: nothing after it may loosen RuntimeWarning again
    after = filters[filters.index("error::RuntimeWarning") + 1 :]
    assert not [f for f in after if "RuntimeWarning" in f or f.split(":")[0] in SILENT_ACTIONS and f.count(":") < 2]
    addopts = config.get("addopts", "")
    assert "-p no:warnings" not in addopts and "-W ignore" not in addopts


def test_make_test_runs_pytest_with_runtime_warnings_as_errors():
    makefile = (REPO / "Makefile").read_text()
    lines = [line for line in makefile.splitlines() if "pytest" in line and not line.lstrip().startswith("#")]
    assert lines and all("-W error::RuntimeWarning" in line for line in lines), lines


def test_scanner_finds_silencers():
    code = """
import warnings, numpy as np, pytest
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a():
    with np.errstate(all="ignore"):
        pass
    np.seterr(over="ignore")
    warnings.simplefilter("ignore")
    warnings.filterwarnings("default", category=RuntimeWarning)
    with pytest.warns(RuntimeWarning):
        pass
def test_fine():
    warnings.simplefilter("error")
    warnings.simplefilter("ignore", DeprecationWarning)
    with np.errstate(over="raise"):
        pass
"""
    found = silencers(code)
    assert [f for f, *_ in found] == ["test_a"] * 6, found


def test_no_test_silences_runtime_warnings():
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        rel = path.relative_to(TESTS).as_posix()
        if rel == "reliability/test_suite_config.py":
            continue  # the scanner's own examples
        for function, line, what in silencers(path.read_text(), rel):
            if (rel, function) not in ALLOWED:
                offenders.append(f"tests/{rel}:{line} in {function}: {what}")
    assert offenders == [], (
        "these tests silence RuntimeWarning (the suite runs with -W error::RuntimeWarning); "
        "fix the warning, or add the test to ALLOWED with the reason:\n" + "\n".join(offenders)
    )


def test_allowed_exceptions_still_exist():
    """An exception whose test was renamed or removed must leave the list too."""
    for rel, function in ALLOWED:
        path = TESTS / rel
        if not path.exists():
            pytest.fail(f"tests/{rel} no longer exists: remove it from ALLOWED")
        assert any(f == function for f, *_ in silencers(path.read_text(), rel)), (rel, function)


# --------------------------------------------------------------------------- docs/reliability.md
def test_every_test_named_in_the_reliability_table_exists():
    doc = (REPO / "docs" / "reliability.md").read_text()
    referenced = set(re.findall(r"`(test_\w+\.py)::(test_\w+)(?:\[([^\]`]+)\])?`", doc))
    assert len(referenced) >= 40
    from . import test_api_errors, test_cli_errors

    api_ids = {c.id for c in test_api_errors.CASES}
    cli_ids = {c.id for c in test_cli_errors.CASES}
    missing = []
    for module, function, param in referenced:
        path = TESTS / "reliability" / module
        if not path.exists() or f"def {function}(" not in path.read_text():
            missing.append(f"{module}::{function}")
        elif param and function == "test_bad_input" and param not in api_ids:
            missing.append(f"{module}::{function}[{param}]")
        elif param and function == "test_cli_mistake" and param not in cli_ids:
            missing.append(f"{module}::{function}[{param}]")
    assert missing == [], missing
