"""`manage.py load_vocabularies DIR [--download]`: load the official vocabulary files.

DIR is laid out like the shared reference data folder:

    duo/duo_terms.tsv                          DUO, flattened (id, label, shorthand, …, obsolete, branch, iri)
    genes_diseases/hgnc_entries_*.tsv.gz       HGNC complete set (HGNC ID, Approved symbol, …)
    genes_diseases/mondo_als_related_terms.tsv MONDO terms (mondo_id, label, direct_parents, synonyms, deprecated)
    ontologies/cl_*_terms.tsv.gz               Cell Ontology (id, label, direct_parents, synonyms, deprecated)
    ontologies/hp_*_terms.tsv.gz               HPO (id, label, direct_parents, synonyms, obsolete)

With --download the official files are fetched first into DIR (official sites:
purl.obolibrary.org for DUO, MONDO and CL as OBO Graphs JSON, HGNC's public
download bucket for the complete set), and those are loaded instead. Loading is
idempotent (insert or update by id, in bulk) and never deletes a term: a term
that left the official file may still be named by stored consent or donors.
"""

import csv
import gzip
import json
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.models import CellType, DiseaseTerm, DuoTerm, Gene, PhenotypeTerm
from core.vocabulary import compute_ancestors

OFFICIAL_SOURCES = {
    "duo/duo.json": "http://purl.obolibrary.org/obo/duo.json",
    "genes_diseases/hgnc_complete_set.txt": "https://storage.googleapis.com/public-download-files/hgnc/tsv/tsv/hgnc_complete_set.txt",
    "ontologies/mondo.json": "http://purl.obolibrary.org/obo/mondo.json",
    "ontologies/cl.json": "http://purl.obolibrary.org/obo/cl.json",
    "ontologies/hp.json": "http://purl.obolibrary.org/obo/hp.json",
}
DOWNLOAD_TIMEOUT = 60
BATCH = 2000
csv.field_size_limit(sys.maxsize)


def _open_text(path):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")  # noqa: SIM115 — closed by the caller's with


def _tsv_rows(path):
    with _open_text(path) as handle:
        yield from csv.DictReader(handle, delimiter="\t")


def _split(value, separators="|,"):
    if not value:
        return []
    return [part.strip() for part in re.split(f"[{re.escape(separators)}]", value) if part.strip()]


def _true(value):
    return str(value).strip().lower() in ("true", "1", "yes")


def _curie(raw, prefix):
    """A CURIE with 7 digits from an id or IRI (DUO:0000044's IRI has 8 digits upstream)."""
    if not raw:
        return None
    match = re.search(rf"{prefix}[:_](\d+)", raw)
    if not match:
        return None
    digits = match.group(1)
    if len(digits) > 7 and digits.startswith("0"):
        digits = digits[-7:]
    return f"{prefix}:{digits.zfill(7)}"


def _first(directory, *patterns):
    for pattern in patterns:
        found = sorted(directory.glob(pattern))
        if found:
            return found[-1]
    return None


# --- OBO Graphs JSON (the official DUO/MONDO/CL release format) -------------------------


def obograph_terms(path, prefix):
    """(curie, label, parents, synonyms, deprecated, shorthand) for every class of `prefix`."""
    with _open_text(path) as handle:
        data = json.load(handle)
    terms, parents = {}, {}
    for graph in data.get("graphs", []):
        for node in graph.get("nodes", []):
            curie = _curie(node.get("id", ""), prefix)
            if not curie or node.get("type", "CLASS") != "CLASS":
                continue
            meta = node.get("meta") or {}
            shorthand = next(
                (p.get("val") for p in meta.get("basicPropertyValues", []) if p.get("pred", "").endswith("shorthand")),
                "",
            )
            terms[curie] = {
                "label": node.get("lbl") or "",
                "synonyms": [s.get("val") for s in meta.get("synonyms", []) if s.get("val")],
                "deprecated": bool(meta.get("deprecated")),
                "definition": (meta.get("definition") or {}).get("val", ""),
                "shorthand": shorthand or "",
            }
        for edge in graph.get("edges", []):
            if edge.get("pred") != "is_a":
                continue
            child, parent = _curie(edge.get("sub", ""), prefix), _curie(edge.get("obj", ""), prefix)
            if child and parent:
                parents.setdefault(child, []).append(parent)
    for curie, term in terms.items():
        yield curie, term, parents.get(curie, [])


# --- loaders ------------------------------------------------------------------------------


def _bulk_upsert(model, objects, unique_field, update_fields):
    for start in range(0, len(objects), BATCH):
        model.objects.bulk_create(
            objects[start : start + BATCH],
            update_conflicts=True,
            unique_fields=[unique_field],
            update_fields=update_fields,
        )
    return len(objects)


_DUO_BRANCHES = {
    "data use permission": DuoTerm.Branch.PERMISSION,
    "data use modifier": DuoTerm.Branch.MODIFIER,
}


def load_duo(directory):
    tsv = _first(directory, "duo/duo_terms.tsv")
    objects = []
    if tsv:
        for row in _tsv_rows(tsv):
            curie = _curie(row.get("id"), "DUO") or _curie(row.get("iri"), "DUO")
            if not curie:
                continue
            objects.append(
                DuoTerm(
                    curie=curie,
                    label=(row.get("label") or "")[:200],
                    shorthand=(row.get("shorthand") or "")[:20],
                    definition=row.get("definition") or "",
                    obsolete=_true(row.get("obsolete")),
                    branch=_DUO_BRANCHES.get((row.get("branch") or "").strip(), DuoTerm.Branch.OTHER),
                )
            )
    else:
        graph = _first(directory, "duo/duo.json")
        if not graph:
            return None
        terms = list(obograph_terms(graph, "DUO"))
        parents = {curie: set(p) for curie, _t, p in terms}
        ancestors = compute_ancestors({k: sorted(v) for k, v in parents.items()})
        for curie, term, _p in terms:
            branch = DuoTerm.Branch.OTHER
            if "DUO:0000001" in ancestors.get(curie, []):
                branch = DuoTerm.Branch.PERMISSION
            elif "DUO:0000017" in ancestors.get(curie, []):
                branch = DuoTerm.Branch.MODIFIER
            objects.append(
                DuoTerm(
                    curie=curie,
                    label=term["label"][:200],
                    shorthand=term["shorthand"][:20],
                    definition=term["definition"],
                    obsolete=term["deprecated"],
                    branch=branch,
                )
            )
    return _bulk_upsert(DuoTerm, objects, "curie", ["label", "shorthand", "definition", "obsolete", "branch"])


def load_genes(directory):
    path = _first(
        directory,
        "genes_diseases/hgnc_entries_*.tsv.gz",
        "genes_diseases/hgnc_entries_*.tsv",
        "genes_diseases/hgnc_complete_set.txt",
    )
    if not path:
        return None
    objects, seen = [], set()
    for row in _tsv_rows(path):
        hgnc_id = (row.get("HGNC ID") or row.get("hgnc_id") or "").strip()
        symbol = (row.get("Approved symbol") or row.get("symbol") or "").strip()
        status = (row.get("Status") or row.get("status") or "Approved").strip()
        if not hgnc_id or not symbol or status.lower() != "approved" or symbol in seen:
            continue
        seen.add(symbol)
        objects.append(
            Gene(
                hgnc_id=hgnc_id,
                symbol=symbol[:40],
                name=(row.get("Approved name") or row.get("name") or "")[:300],
                previous_symbols=_split(row.get("Previous symbols") or row.get("prev_symbol")),
                alias_symbols=_split(row.get("Alias symbols") or row.get("alias_symbol")),
            )
        )
    # A symbol can move between HGNC ids across releases; free it first so the unique
    # constraint on symbol does not stop the upsert.
    with transaction.atomic():
        current = {g.symbol: g.hgnc_id for g in objects}
        stale = [
            pk
            for pk, symbol in Gene.objects.filter(symbol__in=current).values_list("hgnc_id", "symbol")
            if current[symbol] != pk
        ]
        if stale:
            Gene.objects.filter(hgnc_id__in=stale).delete()
        return _bulk_upsert(Gene, objects, "hgnc_id", ["symbol", "name", "previous_symbols", "alias_symbols"])


def load_diseases(directory):
    path = _first(directory, "genes_diseases/mondo_*terms.tsv", "genes_diseases/mondo*.tsv")
    rows = []
    if path:
        for row in _tsv_rows(path):
            curie = _curie(row.get("mondo_id") or row.get("id"), "MONDO")
            if curie:
                rows.append(
                    (
                        curie,
                        row.get("label") or "",
                        _split(row.get("synonyms"), "|"),
                        [p for p in (_curie(x, "MONDO") for x in _split(row.get("direct_parents"), "|")) if p],
                        _true(row.get("deprecated")),
                    )
                )
    else:
        graph = _first(directory, "ontologies/mondo.json", "genes_diseases/mondo.json")
        if not graph:
            return None
        rows = [
            (curie, t["label"], t["synonyms"], parents, t["deprecated"])
            for curie, t, parents in obograph_terms(graph, "MONDO")
        ]
    with transaction.atomic():
        count = _bulk_upsert(
            DiseaseTerm,
            [
                DiseaseTerm(curie=c, label=label[:300], synonyms=synonyms, obsolete=deprecated)
                for c, label, synonyms, _parents, deprecated in rows
            ],
            "curie",
            ["label", "synonyms", "obsolete"],
        )
        known = set(DiseaseTerm.objects.values_list("curie", flat=True))
        through = DiseaseTerm.parents.through
        links = {(c, p) for c, _l, _s, parents, _d in rows for p in parents if p in known and p != c}
        existing = set(through.objects.values_list("from_diseaseterm_id", "to_diseaseterm_id"))
        through.objects.bulk_create(
            [through(from_diseaseterm_id=c, to_diseaseterm_id=p) for c, p in links - existing],
            batch_size=BATCH,
        )
        _refresh_disease_ancestors()
    return count


def _refresh_disease_ancestors():
    """Every term's ancestors from the stored parent links (built-in and loaded alike)."""
    through = DiseaseTerm.parents.through
    parents = {curie: [] for curie in DiseaseTerm.objects.values_list("curie", flat=True)}
    for child, parent in through.objects.values_list("from_diseaseterm_id", "to_diseaseterm_id"):
        parents[child].append(parent)
    ancestors = compute_ancestors(parents)
    terms = list(DiseaseTerm.objects.only("curie", "ancestors"))
    changed = [t for t in terms if t.ancestors != ancestors.get(t.curie, [])]
    for term in changed:
        term.ancestors = ancestors.get(term.curie, [])
    DiseaseTerm.objects.bulk_update(changed, ["ancestors"], batch_size=BATCH)


def load_cell_types(directory):
    path = _first(directory, "ontologies/cl_*_terms.tsv.gz", "ontologies/cl_*_terms.tsv")
    objects = []
    if path:
        for row in _tsv_rows(path):
            curie = _curie(row.get("id"), "CL")
            if curie and not _true(row.get("deprecated")):
                objects.append(CellType(curie=curie, label=(row.get("label") or "")[:300]))
    else:
        graph = _first(directory, "ontologies/cl.json")
        if not graph:
            return None
        objects = [
            CellType(curie=c, label=t["label"][:300]) for c, t, _p in obograph_terms(graph, "CL") if not t["deprecated"]
        ]
    return _bulk_upsert(CellType, objects, "curie", ["label"])


def load_phenotypes(directory):
    """HPO, like MONDO: the flattened TSV, else the official OBO Graphs JSON. Obsolete
    terms are kept and marked (a stored donor may still name one: COURSE-4 warns)."""
    path = _first(directory, "ontologies/hp_*_terms.tsv.gz", "ontologies/hp_*_terms.tsv")
    objects = []
    if path:
        for row in _tsv_rows(path):
            curie = _curie(row.get("id"), "HP")
            if curie:
                objects.append(
                    PhenotypeTerm(
                        curie=curie,
                        label=(row.get("label") or "")[:300],
                        obsolete=_true(row.get("obsolete")) or _true(row.get("deprecated")),
                    )
                )
    else:
        graph = _first(directory, "ontologies/hp.json")
        if not graph:
            return None
        objects = [
            PhenotypeTerm(curie=c, label=t["label"][:300], obsolete=t["deprecated"])
            for c, t, _p in obograph_terms(graph, "HP")
        ]
    return _bulk_upsert(PhenotypeTerm, objects, "curie", ["label", "obsolete"])


LOADERS = (
    ("DUO terms", load_duo),
    ("HGNC genes", load_genes),
    ("MONDO disease terms", load_diseases),
    ("Cell Ontology terms", load_cell_types),
    ("HPO phenotype terms", load_phenotypes),
)


def download_official_files(directory, *, sources=None, timeout=DOWNLOAD_TIMEOUT, log=None):
    """Fetch the official files into `directory`. Raises CommandError naming the file and
    the reason when a site cannot be reached; a file is written only once complete."""
    for relative, url in (sources or OFFICIAL_SOURCES).items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        request = urllib.request.Request(  # noqa: S310
            url, headers={"User-Agent": "prism-catalog load_vocabularies"}
        )
        if log:
            log(f"downloading {url}")
        try:
            with (
                urllib.request.urlopen(request, timeout=timeout) as response,  # noqa: S310
                partial.open("wb") as out,
            ):
                shutil.copyfileobj(response, out, length=1024 * 1024)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            partial.unlink(missing_ok=True)
            reason = getattr(error, "reason", error)
            raise CommandError(
                f"could not download {url} ({reason}). Without network access, copy the official files into "
                f"{directory} by hand (layout: duo/, genes_diseases/, ontologies/) and run without --download."
            ) from error
        partial.replace(target)


class Command(BaseCommand):
    help = "Load the official DUO, HGNC, MONDO, Cell Ontology and HPO files into the vocabulary tables."

    def add_arguments(self, parser):
        parser.add_argument(
            "directory",
            help="folder laid out like shared/data (duo/, genes_diseases/, ontologies/)",
        )
        parser.add_argument(
            "--download",
            action="store_true",
            help="fetch the official files from their sites into DIRECTORY first",
        )

    def handle(self, *args, directory, download, **options):
        directory = Path(directory)
        if download:
            directory.mkdir(parents=True, exist_ok=True)
            download_official_files(directory, log=self.stdout.write)
        elif not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        loaded_any = False
        for label, loader in LOADERS:
            started = time.monotonic()
            count = loader(directory)
            if count is None:
                self.stdout.write(f"{label}: no file found in {directory}, skipped")
                continue
            loaded_any = True
            self.stdout.write(f"{label}: {count:,} loaded in {time.monotonic() - started:.1f} s")
        if not loaded_any:
            raise CommandError(f"no vocabulary file found in {directory} (expected duo/, genes_diseases/, ontologies/)")
