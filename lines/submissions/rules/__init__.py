"""The rules of the submission protocol (PROTOCOL.md), one module per family.

    schema         SCHEMA      the JSON Schema pass
    references     REF-*       donors and parental lines the document names
    names          NAME-*      hPSCreg names and donor numbers
    donors         DONOR-*     disease and ALS clinical data
    variants       VAR-*       HGNC symbols and HGVS (hgvs: the syntax)
    consent        CONSENT-*   DUO codes, withdrawal, genetic data
    lines          LINE-*      parental lines, dates, passages
    qc             QC-*        the panel (its verdict: lines.qc) and each test's thresholds
    str_identity   STR-*       identity profiles, donor/parent match, holdings

`catalog` reads what the rules need from the database, as the depositor may see
it; `context` is the document indexed once and where findings go;
lines.submissions.validation runs the families in order.
"""
