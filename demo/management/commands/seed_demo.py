import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from demo.catalog import DEMO_USERS, DemoConflict, catalog_has_lines, seed_demo


class Command(BaseCommand):
    help = (
        "Build the demo catalog: an invented ALS consortium (9 institutions on 6 continents, "
        "176 donors, over 350 lines with isogenic sets, QC panels, distribution requests) and one "
        "demo user per role, whose credentials are printed at the end. The same catalog every "
        "run (fixed seed, dates relative to a fixed day), written in one transaction. "
        "Safe to run again: it replaces exactly what an earlier run wrote (same line names, "
        "donor codes and demo users) and leaves other data alone. It refuses, changing nothing, "
        "when other data refers to demo objects, and when the catalog holds lines that are not "
        "the demo's (the invented lines would mix with real ones) unless --force. With --if-empty "
        "it does nothing when the catalog already holds any line (what `make run` uses)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and say so) when the catalog already holds lines.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Add the demo even though the catalog holds other lines (e.g. a Cellosaurus import).",
        )

    def handle(self, *args, **options):
        if options["if_empty"] and catalog_has_lines():
            self.stdout.write("The catalog already holds lines; the demo catalog was not loaded (--if-empty).")
            self._remind_demo_users()
            return
        started = time.perf_counter()
        try:
            summary = seed_demo(alongside_other_lines=options["force"])
        except DemoConflict as exc:
            raise CommandError(f"demo catalog not built, nothing changed: {exc}") from exc
        elapsed = time.perf_counter() - started
        replaced = f" (replaced {summary.replaced_lines} lines of an earlier run)" if summary.replaced_lines else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalog: {summary.institutions} institutions, {summary.donors} donors, "
                f"{summary.lines} lines, {summary.qc_records} QC records, {summary.variants} variants, "
                f"{summary.requests} distribution requests, {summary.stock.get('lots', 0)} lots with "
                f"{summary.stock.get('vials', 0)} vials, {summary.datasets} results datasets, "
                f"{summary.visits} clinical visits in {elapsed:.1f} s{replaced}."
            )
        )
        self.stdout.write("Demo users (username / password, role):")
        for username, password, role, institution in summary.credentials:
            where = f" at {institution}" if institution else ""
            self.stdout.write(f"  {username} / {password}  ({role}{where})")
        if not settings.DEBUG:
            self.stdout.write(
                self.style.WARNING(
                    "These passwords are published in the README: do not load the demo on a server others can reach."
                )
            )

    def _remind_demo_users(self):
        """A second `make run` still tells people how to sign in, if the demo users exist."""
        existing = set(get_user_model().objects.filter(username__in=DEMO_USERS).values_list("username", flat=True))
        if not existing:
            return
        self.stdout.write("Demo users (username / password, role):")
        for username, (role, password, institution) in DEMO_USERS.items():
            if username in existing:
                where = f" at {institution}" if institution else ""
                self.stdout.write(f"  {username} / {password}  ({role}{where})")
