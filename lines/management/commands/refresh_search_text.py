"""Recompute every line's search columns, e.g. after a bulk import that wrote rows directly."""

from django.core.management.base import BaseCommand

from lines.models import CellLine
from lines.search_text import refresh_search_text


class Command(BaseCommand):
    help = "Recompute CellLine.search_text and search_text_restricted for every line."

    def handle(self, *args, **options):
        refresh_search_text(CellLine.objects.all())
        self.stdout.write(f"Search text refreshed for {CellLine.objects.count()} lines.")
