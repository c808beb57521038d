"""`manage.py rebuild_str_index`: re-create the STR search index from every line,
donor and Cellosaurus reference profile (after a restore, or a bulk write that
bypassed lines.str.store.reindex)."""

import time

from django.core.management.base import BaseCommand

from lines.str.store import rebuild_index


class Command(BaseCommand):
    help = "Rebuild the STR similarity search index from the lines, donors and reference profiles."

    def handle(self, *args, **options):
        started = time.perf_counter()
        counts = rebuild_index(log=self.stdout.write)
        total = sum(counts.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"STR index rebuilt: {total} profiles ({', '.join(f'{n} {k}' for k, n in counts.items())}) "
                f"in {time.perf_counter() - started:.1f} s"
            )
        )
