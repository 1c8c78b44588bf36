"""pyproject.toml declares what the code imports, and imports what it declares."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"tsrnn", "tsrnn_cli", "cli"}


def project() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def name_of(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")


def imported(*folders: str) -> dict[str, str]:
    """Each third-party top-level module imported under ``folders``, with one file that
    imports it."""
    found = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OURS:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def distribution(module: str) -> str:
    return name_of(packages_distributions().get(module, [module])[0])


def test_every_import_of_the_package_is_declared():
    meta = project()
    runtime = {name_of(r) for r in meta["dependencies"]}
    extras = {name_of(r) for group in meta["optional-dependencies"].values() for r in group}
    undeclared = {
        module: where
        for module, where in imported("tsrnn", "cli").items()
        if distribution(module) not in runtime | extras
    }
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_every_declared_dependency_is_imported():
    meta = project()
    modules = {distribution(m) for m in imported("tsrnn", "cli", "benchmarks")}
    unused = [r for r in meta["dependencies"] if name_of(r) not in modules]
    assert not unused, f"declared but imported nowhere: {unused}"


def test_tomli_is_declared_for_the_pythons_without_tomllib():
    tomli = [r for r in project()["dependencies"] if name_of(r) == "tomli"]
    assert tomli and "python_version < '3.11'" in tomli[0].replace('"', "'")
