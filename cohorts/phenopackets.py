"""A saved cohort as a zip of GA4GH Phenopackets v2: one per member donor, each as the
caller may see it (donors.phenopackets, which asks donors.disclosure), and a manifest.

A member whose line the caller may not see is left out and only counted; a donor whose
consent keeps the clinical course from the caller is listed as withheld with the reason,
so the zip says what is missing rather than silently holding fewer donors."""

import datetime
import io
import json
import zipfile
from typing import Any

from django.db.models import Prefetch

from cohorts.models import Cohort
from donors.models import Variant
from donors.phenopackets import NotDisclosed, donor_phenopacket, phenopacket_json
from lines.models import CellLine

MANIFEST = "cohort.json"


def cohort_phenopackets_zip(cohort: Cohort, user: Any, *, created: datetime.datetime | None = None) -> bytes:
    """The zip (bytes) of the cohort's phenopackets as `user` may see them: `<donor>.json`
    per member donor (once, however many of its lines are members) and `cohort.json`."""
    members = list(cohort.members.order_by("position"))
    visible = (
        CellLine.objects.visible_to(user)
        .filter(pk__in=[m.line_id for m in members])
        .select_related("donor__consent")
        .prefetch_related(
            "donor__visits",
            "donor__clinical_events",
            Prefetch("donor__variants", queryset=Variant.objects.order_by("gene", "pk")),
        )
    )
    lines = {line.pk: line for line in visible}
    created = created or datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    manifest: dict[str, Any] = {
        "cohort": cohort.label,
        "name": cohort.name,
        "seed": cohort.seed,
        "created": created.isoformat(),
        "members": [],
        "phenopackets": [],
        "withheld": [],
        "members_not_visible": 0,
    }
    packets: dict[str, dict] = {}
    for member in members:
        line = lines.get(member.line_id)
        if line is None:
            manifest["members_not_visible"] += 1
            continue
        donor = line.donor
        manifest["members"].append(
            {"line": line.name, "arm": member.arm, "role": member.role, "donor": donor.code if donor else None}
        )
        if donor is None or donor.code in packets or any(w["donor"] == donor.code for w in manifest["withheld"]):
            continue
        try:
            packets[donor.code] = phenopacket_json(donor_phenopacket(donor, user, created=created))
        except NotDisclosed as exc:
            manifest["withheld"].append({"donor": donor.code, "reason": str(exc)})
    manifest["phenopackets"] = [f"{code}.json" for code in packets]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        for code, packet in packets.items():
            archive.writestr(f"{code}.json", json.dumps(packet, indent=2, ensure_ascii=False))
    return buffer.getvalue()
