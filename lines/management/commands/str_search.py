"""`manage.py str_search`: search the catalog's STR profiles from the command line.

    manage.py str_search Amelogenin=X CSF1PO=12,13 D5S818=10,13 TH01=7,9 ...
    manage.py str_search --file batch.csv --format csv > results.csv

The command line is an operator's tool: it searches every profile, whatever its
visibility on the web.
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lines.str.batch import BatchError, BatchSample, batch_csv, read_batch, run_batch
from lines.str.matching import (
    ALGORITHMS,
    DEFAULT_MAX_RESULTS,
    DEFAULT_MIN_MARKERS,
    DEFAULT_SCORE_FILTER,
    MODES,
    check_profile,
    similarity_band,
)


class Command(BaseCommand):
    help = "Search the STR profiles of lines, donors and Cellosaurus references (CLASTR-compatible)."

    def add_arguments(self, parser):
        parser.add_argument("alleles", nargs="*", metavar="MARKER=ALLELES", help="e.g. TH01=7,9.3 (Amel=X,Y)")
        parser.add_argument("--file", help="CSV/TSV/XLSX in CLASTR's batch layout (Sample Name, markers …)")
        parser.add_argument("--algorithm", choices=ALGORITHMS, default="tanabe")
        parser.add_argument("--mode", choices=MODES, default="non_empty")
        parser.add_argument("--include-amelogenin", action="store_true")
        parser.add_argument("--min-markers", type=int, default=DEFAULT_MIN_MARKERS)
        parser.add_argument("--score-filter", type=float, default=DEFAULT_SCORE_FILTER)
        parser.add_argument("--max-results", type=int, default=DEFAULT_MAX_RESULTS)
        parser.add_argument("--format", choices=["table", "csv", "json"], default="table")

    def handle(self, *args, **options):
        if bool(options["alleles"]) == bool(options["file"]):
            raise CommandError("give a profile as MARKER=ALLELES arguments, or --file, not both")
        parameters = {
            "algorithm": options["algorithm"],
            "mode": options["mode"],
            "include_amelogenin": options["include_amelogenin"],
            "min_markers": options["min_markers"],
            "score_filter": options["score_filter"],
            "max_results": options["max_results"],
        }
        if options["file"]:
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                samples = read_batch(path.read_bytes(), path.name)
            except BatchError as error:
                raise CommandError("\n".join([f"{path}:", *error.problems])) from error
        else:
            raw = {}
            for argument in options["alleles"]:
                marker, sep, alleles = argument.partition("=")
                if not sep:
                    raise CommandError(f"{argument!r}: expected MARKER=ALLELES, e.g. TH01=7,9.3")
                raw[marker] = alleles
            profile, problems = check_profile(raw, keep_empty_markers=True)
            if problems:
                raise CommandError("\n".join(f"{marker}: {problem}" for marker, problem in problems.items()))
            samples = [BatchSample(1, "query", profile)]
        results = run_batch(samples, **parameters)
        if options["format"] == "json":
            self.stdout.write(json.dumps({"parameters": parameters, "results": results}, indent=2))
        elif options["format"] == "csv":
            self.stdout.write(batch_csv(results, options["algorithm"]), ending="")
        else:
            self._table(results, options["algorithm"])

    def _table(self, results, algorithm):
        for sample in results:
            flag = "  (possible mixture)" if sample["mixture"] else ""
            self.stdout.write(self.style.MIGRATE_HEADING(f"{sample['sample']}{flag}"))
            if sample["error"]:
                self.stdout.write(self.style.ERROR(f"  {sample['error']}"))
                continue
            if not sample["results"]:
                self.stdout.write("  no profile scores above the filter")
            for rank, hit in enumerate(sample["results"], start=1):
                spread = (
                    f"  best {hit['best']['score']:.1f} / worst {hit['worst']['score']:.1f}" if hit.get("best") else ""
                )
                self.stdout.write(
                    f"  {rank:>3}. {hit['score']:6.2f} %  {similarity_band(hit['score'], algorithm):<9}  "
                    f"{hit['kind']:<9} {hit['name']} {hit['accession'] or ''}  "
                    f"({hit['markers']} markers, {hit['shared_alleles']} shared alleles){spread}"
                    f"{'  mixture?' if hit['mixture'] else ''}"
                )
