"""`make bench` (`python -m bench`): the catalog's benchmarks.

Not part of the installed package: each suite is a module of this folder with a
`run(stdout, options)` function; `--only NAME` runs one, `--quick` small sizes.
"""

import argparse
import importlib
import os
import pkgutil
import sys

import django
from django.core.management.base import OutputWrapper
from django.core.management.color import color_style


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
    for name in [options["only"]] if options["only"] else suites():
        stdout.write(style.MIGRATE_HEADING(f"== bench: {name}"))
        importlib.import_module(f"bench.{name}").run(stdout, options)


if __name__ == "__main__":
    main()
