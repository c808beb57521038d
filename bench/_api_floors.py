"""The floors of the api bench: one hand-written SQL query per request, what the API
is measured against (constant SQL, no user input)."""

# -- floors: one hand-written SQL query per request ------------------------------------------
_PAGE_SQL = """
SELECT l.name, l.alternative_names, l.status, l.availability, l.qc_status, l.modification_type,
       l.reprogramming_method, l.source_cell_type, l.source_cell_type_label, l.cellosaurus_accession,
       l.released_at, i.code AS institution, p.name AS parental_line,
       d.code AS donor_code, d.sex, d.age_at_sampling, d.ancestry, d.disease, d.disease_label,
       d.family_history, d.onset_site,
       (c.id IS NOT NULL AND c.withdrawn_on IS NULL AND NOT EXISTS (
            SELECT 1 FROM donors_consent_codes cc WHERE cc.consent_id = c.id
            AND cc.duoterm_id IN ('DUO:0000046', 'DUO:0000045', 'DUO:0000018'))) AS commercial_use,
       ARRAY(SELECT v.gene FROM donors_variant v WHERE v.line_id = l.id
             UNION
             SELECT v.gene FROM donors_variant v
             WHERE v.donor_id = l.donor_id AND c.genetic_data = 'open' AND c.withdrawn_on IS NULL
             ORDER BY 1) AS genes
FROM lines_cellline l
LEFT JOIN donors_donor d ON d.id = l.donor_id
LEFT JOIN donors_consent c ON c.donor_id = d.id
LEFT JOIN prism_institution i ON i.id = l.institution_id
LEFT JOIN lines_cellline p ON p.id = l.parental_line_id
WHERE l.status = 'released' {where}
ORDER BY {order}
LIMIT 51
"""
_GENE_OPEN = """(l.id IN (SELECT v.line_id FROM donors_variant v WHERE v.gene = 'SOD1' AND v.line_id IS NOT NULL)
  OR (l.donor_id IN (SELECT v.donor_id FROM donors_variant v WHERE v.gene = 'SOD1' AND v.donor_id IS NOT NULL)
      AND c.genetic_data = 'open' AND c.withdrawn_on IS NULL))"""
_ALS_SUBTYPES = (
    "(SELECT curie FROM prism_diseaseterm WHERE curie = 'MONDO:0004976' OR ancestors::text LIKE '%\"MONDO:0004976\"%')"
)
# Constant SQL written here, no user input: the floors of the comparison.
FLOORS = {  # noqa: S608
    "default list": _PAGE_SQL.format(where="", order="l.name"),
    "filter: ALS + female + QC passed": _PAGE_SQL.format(
        where=f"AND d.disease IN {_ALS_SUBTYPES} AND d.sex = 'female' AND l.qc_status = 'passed'",
        order="l.name",
    ),
    "filter: SOD1 + commercial, newest first": _PAGE_SQL.format(
        where=f"AND {_GENE_OPEN} AND c.withdrawn_on IS NULL AND NOT EXISTS (SELECT 1 FROM donors_consent_codes cc "  # noqa: S608
        "WHERE cc.consent_id = c.id AND cc.duoterm_id IN ('DUO:0000046', 'DUO:0000045', 'DUO:0000018'))",
        order="l.released_at DESC NULLS LAST, l.id DESC",
    ),
    "filter: European 40-60 Sendai isogenic": _PAGE_SQL.format(
        where="AND d.ancestry = 'European' AND d.age_at_sampling BETWEEN 40 AND 60 "
        "AND l.reprogramming_method = 'sendai' AND (EXISTS (SELECT 1 FROM lines_cellline pp "
        "WHERE pp.id = l.parental_line_id AND pp.status = 'released') OR EXISTS (SELECT 1 FROM "
        "lines_cellline s WHERE s.parental_line_id = l.id AND s.status = 'released'))",
        order="l.name",
    ),
    "search: 'tardbp m337v'": _PAGE_SQL.format(
        where="AND l.search_text LIKE '%tardbp%' AND l.search_text LIKE '%m337v%'", order="l.name"
    ),
    "facets: ALS": f"""
WITH f AS (SELECT l.id, l.donor_id, l.reprogramming_method, l.modification_type, l.qc_status, l.availability,
                  d.sex, d.ancestry, d.disease, d.disease_label, i.code AS institution
           FROM lines_cellline l LEFT JOIN donors_donor d ON d.id = l.donor_id
           LEFT JOIN prism_institution i ON i.id = l.institution_id
           WHERE l.status = 'released' AND d.disease IN {_ALS_SUBTYPES})
SELECT 'disease', disease, COUNT(*) FROM f GROUP BY disease
UNION ALL SELECT 'sex', sex, COUNT(*) FROM f GROUP BY sex
UNION ALL SELECT 'ancestry', ancestry, COUNT(*) FROM f GROUP BY ancestry
UNION ALL SELECT 'reprogramming_method', reprogramming_method, COUNT(*) FROM f GROUP BY reprogramming_method
UNION ALL SELECT 'modification_type', modification_type, COUNT(*) FROM f GROUP BY modification_type
UNION ALL SELECT 'qc_status', qc_status, COUNT(*) FROM f GROUP BY qc_status
UNION ALL SELECT 'availability', availability, COUNT(*) FROM f GROUP BY availability
UNION ALL SELECT 'institution', institution, COUNT(*) FROM f GROUP BY institution
UNION ALL SELECT 'gene', g.gene, COUNT(DISTINCT g.id) FROM (
    SELECT v.gene, f.id FROM f JOIN donors_variant v ON v.line_id = f.id
    UNION ALL SELECT v.gene, f.id FROM f JOIN donors_consent c ON c.donor_id = f.donor_id
        AND c.genetic_data = 'open' AND c.withdrawn_on IS NULL
    JOIN donors_variant v ON v.donor_id = f.donor_id) g GROUP BY g.gene
""",  # noqa: S608
}


def _floor(cursor, sql):
    import orjson

    cursor.execute(sql)
    columns = [c[0] for c in cursor.description]
    rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return orjson.dumps(rows, default=str), len(rows)
