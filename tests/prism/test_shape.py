"""The shape of the code (ARCHITECTURE.md): layers whose imports only go down, no
import cycles, and modules small enough to be named for one thing."""

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from django.conf import settings

PACKAGES = ("prism", "core", "donors", "lines", "distribution", "pages", "demo", "bench", "tests")
MAX_LINES = 600


def python_modules():
    for package in PACKAGES:
        for path in sorted((Path(settings.BASE_DIR) / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_no_module_outside_migrations_is_over_600_lines():
    too_long = {
        str(path.relative_to(settings.BASE_DIR)): count
        for path in python_modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"split these along a seam (more than {MAX_LINES} lines): {too_long}"


def test_imports_only_go_down_and_no_module_is_imported_in_a_circle():
    # The contracts live in pyproject.toml ([tool.importlinter]); lint-imports
    # prints the offending import chain when one breaks.
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def typed_modules():
    """The modules mypy checks ([tool.mypy] files): each layer's actions and selectors."""
    config = tomllib.loads((Path(settings.BASE_DIR) / "pyproject.toml").read_text(encoding="utf-8"))
    for name in config["tool"]["mypy"]["files"]:
        path = Path(settings.BASE_DIR) / name
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def test_every_public_function_of_the_actions_and_selectors_is_annotated():
    missing = []
    for path in typed_modules():
        name = path.relative_to(settings.BASE_DIR)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        scopes = [
            tree,
            *(node for node in tree.body if isinstance(node, ast.ClassDef) and not node.name.startswith("_")),
        ]
        for scope in scopes:
            for node in scope.body:
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("_"):
                    continue
                arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                if scope is not tree and arguments and arguments[0].arg in ("self", "cls"):
                    arguments = arguments[1:]
                if node.returns is None or any(argument.annotation is None for argument in arguments):
                    missing.append(f"{name}:{node.lineno} {node.name}")
    assert missing == [], "public functions without type hints: " + ", ".join(missing)
