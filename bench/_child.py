"""The child process a bench suite measures in: `python -m bench.<suite>` with
DATABASE_URL pointing at the suite's own database, so that the catalog the command
was started on is never touched.

One launcher for the suites on the 200,000-line API bench catalog (api, pages,
cohorts): the bench database's URL (`--quick`: `<name>_quick`, the small catalog),
the child's environment (DEBUG off, a bench-only secret key, the quick flag), its
output streamed line by line, and a failed child raised as a failed suite.
"""

import os
import subprocess
import sys
from pathlib import Path

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/prism_apibench"
# The project folder (bench/ sits at its top).
BASE_DIR = Path(__file__).resolve().parent.parent


def bench_database_url(options, variable="PRISM_APIBENCH_DATABASE_URL", default=DEFAULT_URL):
    """The bench catalog's URL; with `--quick` its own `_quick` database, so that a
    quick check never replaces the full catalog."""
    url = os.environ.get(variable, default)
    return url + "_quick" if options.get("quick") else url


def run_child(module, stdout, options, *, quick_variable="PRISM_APIBENCH_QUICK", url=None, **env):
    """Run `python -m <module>` on the bench database, writing its output to `stdout`
    as it comes; RuntimeError when the child fails. `env` adds or overrides
    variables of the child's environment (LOG_LEVEL defaults to WARNING)."""
    child_env = dict(
        os.environ,
        DATABASE_URL=url or bench_database_url(options),
        DJANGO_SETTINGS_MODULE="prism.settings",
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-only-secret-key-not-for-production",
        LOG_LEVEL="WARNING",
    )
    child_env[quick_variable] = "1" if options.get("quick") else "0"
    child_env.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=BASE_DIR,
        env=child_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for line in process.stdout:
        stdout.write(line.rstrip("\n"))
    if process.wait() != 0:
        raise RuntimeError(f"the {module.rsplit('.', 1)[-1]} bench child failed (exit {process.returncode})")
