"""`make bench`: the catalog's benchmarks. Each suite is a module in prism/bench/
with a `run(stdout, options)` function; `--only NAME` runs one."""

import importlib
import pkgutil

from django.core.management.base import BaseCommand

import prism.bench


def suites():
    return sorted(m.name for m in pkgutil.iter_modules(prism.bench.__path__) if not m.name.startswith("_"))


class Command(BaseCommand):
    help = "Run the benchmarks and print their figures."

    def add_arguments(self, parser):
        parser.add_argument("--only", choices=suites(), help="run one suite")
        parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness")

    def handle(self, *args, **options):
        names = [options["only"]] if options["only"] else suites()
        for name in names:
            self.stdout.write(self.style.MIGRATE_HEADING(f"== bench: {name}"))
            importlib.import_module(f"prism.bench.{name}").run(self.stdout, options)
