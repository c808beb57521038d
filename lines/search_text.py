"""Free-text search over lines: what the denormalised search columns hold, and how
a query is matched against them.

CellLine.search_text holds everything anyone who may see the line may search
(names, synonyms, accessions, disease id, label and synonyms, engineered variants,
and germline variants whose consent opens genetic data to everyone, as
donors.disclosure decides), lower-cased.
CellLine.search_text_restricted holds the other germline variants; only curators'
searches read it, so that searching "A4V" cannot reveal a donor whose consent keeps
variants to curators.

Writers must call `refresh_search_text(lines)` (a queryset, one line or many)
after they create or change a line, its variants, or its donor's variants or
consent (the submission approval, the consent withdrawal flow, the admin). There are
no signals: the call is explicit.

On PostgreSQL a trigram GIN index (pg_trgm, migration 0004) serves the
`LIKE '%term%'` lookups on search_text; SQLite scans, which is fine at its sizes.
"""

import re

from django.db.models import Q

from core.bulk_copy import update_columns
from core.models import DiseaseTerm, Gene
from donors.affection import search_words
from donors.disclosure import genetic_data_is_public, sees_all_genetic_data
from donors.models import Donor
from lines.models import CellLine

MAX_SEARCH_TERMS = 8
MAX_SEARCH_LENGTH = 200


def _variant_words(variant):
    return [
        variant.gene,
        variant.hgvs,
        variant.protein,
        variant.legacy_name,
        f"{variant.gene} {variant.legacy_name}" if variant.legacy_name else "",
    ]


def _gene_aliases():
    aliases = {}
    for symbol, previous, alias in Gene.objects.values_list("symbol", "previous_symbols", "alias_symbols"):
        aliases[symbol.upper()] = [*previous, *alias]
    return aliases


def _disease_words():
    return {
        curie: [label, *synonyms]
        for curie, label, synonyms in DiseaseTerm.objects.values_list("curie", "label", "synonyms")
    }


def _join(words):
    seen = []
    for word in words:
        word = (word or "").strip().lower()
        if word and word not in seen:
            seen.append(word)
    return " | ".join(seen)


def search_texts(line, *, gene_aliases, disease_words):
    """(public, restricted) search text of one line, its donor and variants loaded."""
    donor = line.donor
    return _texts(
        line,
        donor,
        line.variants.all(),
        donor.variants.all() if donor is not None else [],
        gene_aliases=gene_aliases,
        disease_words=disease_words,
    )


def _texts(line, donor, line_variants, donor_variants, *, gene_aliases, disease_words):
    public = [
        line.name,
        *line.alternative_names,
        line.hpscreg_name,
        line.cellosaurus_accession or "",
        line.disease_note,
        line.institution.code if line.institution else "",
    ]
    restricted = []
    if donor is not None:
        public += [
            donor.code,
            donor.disease,
            donor.disease_label,
            *disease_words.get(donor.disease, []),
            *search_words(donor.affection_status, genetic_data_public=genetic_data_is_public(donor)),
        ]
        if not genetic_data_is_public(donor):
            restricted += search_words(donor.affection_status)
    genes_public, genes_restricted = set(), set()
    for variant in line_variants:
        public += _variant_words(variant)
        genes_public.add(variant.gene.upper())
    if donor is not None:
        open_data = genetic_data_is_public(donor)
        for variant in donor_variants:
            (public if open_data else restricted).extend(_variant_words(variant))
            (genes_public if open_data else genes_restricted).add(variant.gene.upper())
    for gene in genes_public:
        public += gene_aliases.get(gene, [])
    for gene in genes_restricted - genes_public:
        restricted += gene_aliases.get(gene, [])
    return _join(public), _join(restricted)


def refresh_search_text(lines, batch_size=2000):
    """Recompute search_text and search_text_restricted for a queryset of lines."""
    gene_aliases, disease_words = _gene_aliases(), _disease_words()
    queryset = (
        lines.select_related("donor__consent", "institution")
        .prefetch_related("variants", "donor__variants")
        .order_by("pk")
    )
    pks, public, restricted = [], [], []
    for line in queryset.iterator(chunk_size=batch_size):
        texts = search_texts(line, gene_aliases=gene_aliases, disease_words=disease_words)
        pks.append(line.pk)
        public.append(texts[0])
        restricted.append(texts[1])
    # One UPDATE … FROM unnest(…) on PostgreSQL (bulk_update's CASE WHEN grows with the batch).
    update_columns(CellLine, pks, {"search_text": public, "search_text_restricted": restricted})


def search_donors(donor_ids):
    """The donors new_line_texts reads: consent and variants loaded, by pk."""
    return Donor.objects.select_related("consent").prefetch_related("variants").in_bulk(set(donor_ids))


def new_line_texts(lines, donors):
    """(public, restricted) search text of lines about to be written (an approval), so
    they are inserted with it: `lines` is [(unsaved CellLine, its engineered Variants)],
    `donors` {pk: Donor} from search_donors, read after their affection status was set."""
    gene_aliases, disease_words = _gene_aliases(), _disease_words()
    texts = []
    for line, variants in lines:
        donor = donors.get(line.donor_id)
        texts.append(
            _texts(
                line,
                donor,
                variants,
                donor.variants.all() if donor is not None else [],
                gene_aliases=gene_aliases,
                disease_words=disease_words,
            )
        )
    return texts


def search_terms(text):
    """The words of a query, lower-cased; quotes keep a phrase together."""
    terms = [a or b for a, b in re.findall(r'"([^"]+)"|(\S+)', text.lower()[:MAX_SEARCH_LENGTH])]
    return [t for t in terms if t][:MAX_SEARCH_TERMS]


def search_q(text, user):
    """A Q matching lines whose search text contains every term of the query."""
    q = Q()
    for term in search_terms(text):
        term_q = Q(search_text__contains=term)
        if sees_all_genetic_data(user):
            term_q |= Q(search_text_restricted__contains=term)
        q &= term_q
    return q
