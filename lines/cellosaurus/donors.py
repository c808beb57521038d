"""Who is the same person in Cellosaurus, and what the catalog keeps of them.

Cellosaurus has no donor records: lines of one person are linked by "originate
from same individual" (OI) and parent (HI) references. The importer groups them
into one pseudonymous Donor with these functions; none touches the database
except `disease_lookup`, which reads the MONDO table once.
"""

from core.models import DiseaseTerm


def donor_groups(infos):
    """Union-find over accessions: [(line infos, every accession of the person)]."""
    parent = {}

    def find(a):
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for info in infos:
        for other in (*info.same_donor, *info.parents):
            root_a, root_b = find(info.accession), find(other)
            if root_a != root_b:
                parent[max(root_a, root_b)] = min(root_a, root_b)
        find(info.accession)
    members, accessions = {}, {}
    for accession in parent:
        accessions.setdefault(find(accession), []).append(accession)
    for info in infos:
        members.setdefault(find(info.accession), []).append(info)
    return [(sorted(group, key=lambda i: i.accession), accessions[root]) for root, group in sorted(members.items())]


def disease_lookup():
    """Lower-cased MONDO label or synonym → curie, from the vocabulary table.
    Cellosaurus gives NCIt/ORDO ids; a disease is mapped only when its name is a MONDO
    label or synonym, never guessed."""
    by_label, by_synonym = {}, {}
    for curie, label, synonyms in DiseaseTerm.objects.filter(obsolete=False).values_list("curie", "label", "synonyms"):
        by_label.setdefault(label.lower(), (curie, label))
        for synonym in synonyms or []:
            by_synonym.setdefault(str(synonym).lower(), (curie, label))
    return {**by_synonym, **by_label}


def donor_values(infos, disease_terms):
    sexes = [i.sex for i in infos if i.sex != "unknown"]
    ages = [i.age_years for i in infos if i.age_years is not None]
    diseases = [d for i in infos for d in i.diseases]
    mapped = next((disease_terms[d.label.lower()] for d in diseases if d.label.lower() in disease_terms), None)
    labels = list(dict.fromkeys(d.label for d in diseases))
    return {
        "sex": sexes[0] if sexes else "unknown",
        # Lines of one person may be sampled years apart; the donor keeps the earliest.
        "age_at_sampling": min(ages) if ages else None,
        "disease": mapped[0] if mapped else "",
        "disease_label": mapped[1] if mapped else truncate("; ".join(labels), 300),
    }


def variant_key(gene, hgvs, protein, legacy_name):
    return (
        gene.upper(),
        hgvs or "",
        protein or "",
        "" if (hgvs or protein) else (legacy_name or ""),
    )


def truncate(text, length):
    text = text or ""
    return text if len(text) <= length else text[: length - 1] + "…"
