"""`manage.py import_cellosaurus FILE [--all-categories]`: load Cellosaurus text
(cellosaurus.txt, plain or gzip) into the catalog. See lines.cellosaurus.importer."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lines.cellosaurus.importer import import_cellosaurus


class Command(BaseCommand):
    help = (
        "Import human iPSC lines from a Cellosaurus text file (plain or gzip); with "
        "--all-categories also keep every entry's STR profile as a reference profile. "
        "Re-running updates; malformed entries are reported with their line number and skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="cellosaurus.txt or cellosaurus.txt.gz")
        parser.add_argument(
            "--all-categories",
            action="store_true",
            help="also keep the STR profile of every entry (any category or species) as a "
            "reference profile for STR identity checks",
        )
        parser.add_argument("--batch-size", type=int, default=500, help="entries per transaction")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        progress = self.stdout.write if options["verbosity"] >= 2 else None
        report = import_cellosaurus(
            path,
            all_categories=options["all_categories"],
            batch_size=options["batch_size"],
            progress=progress,
        )
        for problem in report.skipped:
            self.stderr.write(f"{path}: skipped {problem.describe()}")
        for line in report.summary():
            self.stdout.write(line)
        if report.read_error:
            raise CommandError(
                f"{path}: {report.read_error}. Everything before it was imported; re-run with an intact file to finish."
            )
        if not report.entries_read and not report.skipped:
            raise CommandError(f"{path}: no Cellosaurus entries found (is this cellosaurus.txt?)")
        if report.skipped:
            self.stdout.write(
                self.style.WARNING(f"{len(report.skipped)} malformed entries skipped; the rest was imported.")
            )
        else:
            self.stdout.write(self.style.SUCCESS("Import finished."))
