"""The import rules of docs/ARCHITECTURE.md, read from the source (``ast``), not by importing it.

- only ``scheduler/cpsat/`` imports OR-Tools (the benchmarks aside);
- ``models/`` is data and never imports ``scheduler``;
- nothing outside ``scheduler/commands/`` imports click;
- the engine never imports the commands, and imports the checker only where
  ARCHITECTURE.md lists it as a known exception (a new import of it fails here);
- the checker imports nothing of ``scheduler`` (tests/test_check.py holds that one too).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the engine: from an instance to a roster
ENGINE = ["scheduler/duties.py", "scheduler/greedy.py", "scheduler/neighbourhoods.py", "scheduler/lns.py",
          "scheduler/exchange.py", "scheduler/recommend.py",
          "scheduler/coverage.py", "scheduler/solve.py", "scheduler/calibrate.py",
          "scheduler/scenarios.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "scheduler" / "cpsat").glob("*.py"))]
#: the command layer: parses options, calls the library, writes files
COMMANDS = ("scheduler.commands", "scheduler.entry")
CHECKER = "scheduler.check"


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    found |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return found


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_only_the_cpsat_package_imports_ortools():
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in imports(p) if _under(m, "ortools"))
                 for p in [*ROOT.glob("scheduler/**/*.py"), *ROOT.glob("models/**/*.py")]
                 if "cpsat" not in p.parts}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_models_are_data_and_never_import_the_scheduler():
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in imports(p) if _under(m, "scheduler"))
                 for p in ROOT.glob("models/**/*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_workbook_reader_never_imports_the_loader():
    """The loader calls the workbook reader; the reader takes its error from models/errors.py, so
    the two do not import each other."""
    assert not [m for m in imports(ROOT / "models" / "spreadsheet.py") if _under(m, "models.loader")
                or m == "models"]


def test_the_engine_never_imports_the_commands_nor_click():
    for name in ENGINE:
        found = imports(ROOT / name)
        bad = sorted(m for m in found if any(_under(m, c) for c in COMMANDS) or _under(m, "click"))
        assert not bad, (name, bad)


def test_the_engine_never_imports_the_checker():
    callers = sorted(name for name in ENGINE if any(_under(m, CHECKER) for m in imports(ROOT / name)))
    assert callers == []


def test_only_the_commands_import_click():
    offenders = [str(p.relative_to(ROOT)) for p in [*ROOT.glob("scheduler/**/*.py"), *ROOT.glob("models/**/*.py")]
                 if "commands" not in p.parts and any(_under(m, "click") for m in imports(p))]
    assert offenders == []


def test_the_service_runs_the_engine_only_in_a_solve_process():
    """The web service never imports the engine (a solve is a ``schoolpost solve`` process: the
    command line's messages, files and Ctrl-C) nor the commands."""
    for path in (ROOT / "scheduler" / "service").rglob("*.py"):
        found = imports(path)
        engine = [m for m in found if any(_under(m, n.removesuffix(".py").replace("/", "."))
                                          for n in ENGINE if not n.endswith("duties.py"))]
        commands = [m for m in found if any(_under(m, c) for c in COMMANDS)]
        assert not engine and not commands, (path, engine, commands)


def test_the_checker_imports_nothing_of_the_scheduler():
    for path in (ROOT / "scheduler" / "check").glob("*.py"):
        assert not [m for m in imports(path) if _under(m, "scheduler") and not _under(m, CHECKER)], path


def test_every_module_has_a_room_in_the_architecture_page():
    """A new module gets a line in the table of rooms."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for path in [*ROOT.glob("scheduler/*.py"), *ROOT.glob("scheduler/commands/*.py"),
                 *ROOT.glob("scheduler/check/*.py"), *ROOT.glob("scheduler/service/*.py"), *ROOT.glob("models/*.py")]:
        if path.name in ("__init__.py", "__main__.py"):
            continue
        assert f"`{path.relative_to(ROOT)}`" in text, path


def test_every_package_is_installed():
    """pyproject.toml lists every package, so that ``pip install .`` (not editable) carries them all."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in [*ROOT.glob("scheduler/**/__init__.py"),
                                                                   *ROOT.glob("models/**/__init__.py")]}
    assert found <= listed, found - listed
