"""The facet lower bound of the api bench: the same counts computed by NumPy over
in-memory integer columns of the released lines (what no engine can beat by much).

The columns are read once (not timed); each timed call builds the filter masks from
the integer columns and counts every facet with `np.bincount`, a selected facet over
the lines matching the other filters, the gene facet over the (line, gene) pairs the
anonymous caller may see.
"""

import time

import numpy as np

FACET_COLUMNS = (
    "affection_status",
    "sex",
    "ancestry",
    "disease",
    "reprogramming_method",
    "modification_type",
    "qc_status",
    "availability",
    "institution",
)

_COLUMNS_SQL = """
SELECT l.id, d.affection_status, d.sex, d.ancestry, d.disease, l.reprogramming_method,
       l.modification_type, l.qc_status, l.availability, COALESCE(i.code, '')
FROM lines_cellline l LEFT JOIN donors_donor d ON d.id = l.donor_id
LEFT JOIN prism_institution i ON i.id = l.institution_id
WHERE l.status = 'released'
"""
# The variants an anonymous caller sees: the line's own, and the donor's where its
# consent makes genetic data open and is not withdrawn (donors.disclosure).
_GENES_SQL = """
SELECT l.id, v.gene FROM lines_cellline l JOIN donors_variant v ON v.line_id = l.id WHERE l.status = 'released'
UNION
SELECT l.id, v.gene FROM lines_cellline l JOIN donors_consent c ON c.donor_id = l.donor_id
    AND c.genetic_data = 'open' AND c.withdrawn_on IS NULL
JOIN donors_variant v ON v.donor_id = l.donor_id WHERE l.status = 'released'
"""
_ALS_SQL = (
    "SELECT curie FROM prism_diseaseterm WHERE curie = 'MONDO:0004976' OR ancestors::text LIKE '%\"MONDO:0004976\"%'"
)


class Columns:
    """Integer-coded columns: codes[name] (one per line) and the value of each code."""

    def __init__(self, cursor):
        cursor.execute(_COLUMNS_SQL)
        rows = cursor.fetchall()
        ids = np.array([row[0] for row in rows], dtype=np.int64)
        self.n = len(rows)
        self.codes, self.values = {}, {}
        for position, name in enumerate(FACET_COLUMNS, start=1):
            values, codes = np.unique(
                np.array([row[position] or "" for row in rows], dtype=object), return_inverse=True
            )
            self.values[name] = list(values)
            self.codes[name] = codes.astype(np.int32)
        cursor.execute(_GENES_SQL)
        pairs = cursor.fetchall()
        position_of = {int(line_id): index for index, line_id in enumerate(ids)}
        genes, gene_codes = np.unique(np.array([gene for _, gene in pairs], dtype=object), return_inverse=True)
        self.values["gene"] = list(genes)
        self.pair_line = np.array([position_of[line_id] for line_id, _ in pairs], dtype=np.int64)
        self.pair_gene = gene_codes.astype(np.int32)
        cursor.execute(_ALS_SQL)
        self.als = [row[0] for row in cursor.fetchall()]

    def _mask(self, name, wanted):
        codes = [self.values[name].index(v) for v in wanted if v in self.values[name]]
        return np.isin(self.codes[name], np.array(codes, dtype=np.int32))

    def _gene_mask(self, gene):
        mask = np.zeros(self.n, dtype=bool)
        if gene in self.values["gene"]:
            mask[self.pair_line[self.pair_gene == self.values["gene"].index(gene)]] = True
        return mask

    def counts(self, filters):
        """{facet: counts by code} for `filters` ({name: [values]}, disease expanded to
        its subtypes), each selected facet over the other filters."""
        masks = {}
        for name, wanted in filters.items():
            if name == "gene":
                masks[name] = self._gene_mask(wanted[0])
            elif name == "disease":
                masks[name] = self._mask("disease", self.als if wanted == ["MONDO:0004976"] else wanted)
            else:
                masks[name] = self._mask(name, wanted)
        every = np.ones(self.n, dtype=bool)
        for mask in masks.values():
            every &= mask
        result = {}
        for name in (*FACET_COLUMNS, "gene"):
            mask = every
            if name in masks:
                mask = np.ones(self.n, dtype=bool)
                for other, other_mask in masks.items():
                    if other != name:
                        mask &= other_mask
            if name == "gene":
                result[name] = np.bincount(self.pair_gene[mask[self.pair_line]], minlength=len(self.values["gene"]))
            else:
                result[name] = np.bincount(self.codes[name][mask], minlength=len(self.values[name]))
        return result


def lower_bound_ms(columns, filters, repeats=20):
    """The median time of `columns.counts(filters)`, in ms."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        columns.counts(filters)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return times[len(times) // 2]
