"""`manage.py phenopacket_to_donor PACKET.json [--into DOCUMENT.json] [--output FILE]`:
read a GA4GH Phenopacket v2 into a protocol v3 donor entry (donor fields and the
`course` block), printed as JSON; with --into, merged into a submission document's
donor of the same local id (keeping its consent and lines). See donors.phenopacket_import."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from donors.phenopacket_import import PhenopacketError, donor_entry, into_document


def _read_json(path: Path) -> object:
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path}: not JSON ({exc})") from exc


class Command(BaseCommand):
    help = (
        "Read a Phenopacket v2 (JSON) into a protocol v3 donor entry; with --into, merge it into a "
        "submission document's donor of the same local id. Problems are named by their JSON path."
    )

    def add_arguments(self, parser):
        parser.add_argument("phenopacket", help="the phenopacket's JSON file")
        parser.add_argument("--into", help="a protocol 3 submission document (JSON) to merge the donor into")
        parser.add_argument("--output", help="write here instead of standard output")

    def handle(self, *args, **options):
        source = Path(options["phenopacket"])
        packet = _read_json(source)
        try:
            if not isinstance(packet, dict):
                raise PhenopacketError([("$", "a phenopacket is a JSON object")])
            result: object = donor_entry(packet)
            if options["into"]:
                document = _read_json(Path(options["into"]))
                if not isinstance(document, dict):
                    raise PhenopacketError([("$", f"{options['into']} is not a submission document")])
                result = into_document(document, result)  # type: ignore[arg-type]
        except PhenopacketError as exc:
            raise CommandError(
                f"{source}: " + "; ".join(f"{path}: {message}" for path, message in exc.problems)
            ) from exc
        text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
