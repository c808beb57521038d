"""`make bench` (`python -m bench`): the catalog's benchmarks.

Not part of the installed package: each suite is a module of this folder with a
`run(stdout, options)` function; `--only NAME` runs one, `--quick` small sizes.
The configured database is migrated first (a fresh clone needs no `make migrate`);
the run ends with the table of goals (bench/_goals.py) and fails (exit 1) when a
suite failed, so that CI catches a broken benchmark (the figures are not asserted).
"""

import argparse
import importlib
import os
import pkgutil
import sys
import tempfile
import time
import traceback

import django
from django.core.management import call_command
from django.core.management.base import OutputWrapper
from django.core.management.color import color_style

from bench._goals import GOALS_FILE_VARIABLE, issues_text, summary


def suites():
    folder = os.path.dirname(__file__)
    return sorted(m.name for m in pkgutil.iter_modules([folder]) if not m.name.startswith("_"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run the benchmarks and print their figures.")
    parser.add_argument("--only", choices=suites(), help="run one suite")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness")
    options = vars(parser.parse_args(argv))

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prism.settings")
    django.setup()
    stdout, style = OutputWrapper(sys.stdout), color_style()
    call_command("migrate", verbosity=0, interactive=False)
    failed = []
    with tempfile.TemporaryDirectory() as folder:
        goals_file = os.path.join(folder, "goals.jsonl")
        # Inherited by the suites that measure in a child process.
        os.environ[GOALS_FILE_VARIABLE] = goals_file
        for name in [options["only"]] if options["only"] else suites():
            stdout.write(style.MIGRATE_HEADING(f"== bench: {name}"))
            started = time.perf_counter()
            try:
                importlib.import_module(f"bench.{name}").run(stdout, options)
            except Exception:  # noqa: BLE001 - a broken suite is reported and the run goes on
                failed.append(name)
                stdout.write(style.ERROR(f"bench {name} failed:\n{traceback.format_exc()}"))
            stdout.write(f"   ({name}: {time.perf_counter() - started:.1f} s)")
        stdout.write(
            style.MIGRATE_HEADING(
                f"== goals (issues {issues_text()})"
                + (" - quick sizes, not the goals' sizes" if options["quick"] else "")
            )
        )
        summary(stdout.write, goals_file)
    if failed:
        stdout.write(style.ERROR(f"failed suites: {', '.join(failed)}"))
        sys.exit(1)


if __name__ == "__main__":
    main()
