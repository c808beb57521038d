"""CONSENT-1, CONSENT-2 and CONSENT-3: the donor's DUO codes, withdrawn consent
(of a donor in the document or of the catalog donor a line names), and genetic
data given against a consent that opens none."""

from lines.submissions.rules.findings import DUO_RE, MONDO_RE, as_dict, as_list, as_text, pointer


def check_consent(ctx, index, donor):
    """CONSENT-1, -2 and -3 of a donor in the document."""
    donor_id = as_text(donor.get("local_id"))
    consent = donor.get("consent")
    if not isinstance(consent, dict):
        return
    at = lambda *parts: pointer("donors", index, "consent", *parts)  # noqa: E731
    codes = [c for c in as_list(consent.get("codes")) if isinstance(c, str)]
    permissions = set(ctx.setting("permission_codes", []))
    known_codes = []
    for c_index, code in enumerate(as_list(consent.get("codes"))):
        if not isinstance(code, str):
            continue
        if not DUO_RE.match(code):
            curie = ctx.catalog.duo_by_shorthand.get(code.strip().upper())
            hint = f"; write {curie} for {code}" if curie else ""
            ctx.add(
                "CONSENT-1",
                at("codes", c_index),
                f"{code!r} is not a DUO id (DUO: and 7 digits){hint}. Store CURIEs, not shorthands",
                donor=donor_id,
            )
        elif code not in ctx.catalog.duo:
            ctx.add(
                "CONSENT-1",
                at("codes", c_index),
                f"{code} is not a term of the Data Use Ontology loaded in the catalog",
                donor=donor_id,
            )
        elif ctx.catalog.duo[code][1]:
            ctx.add(
                "CONSENT-1",
                at("codes", c_index),
                f"{code} is obsolete in DUO; use the current term",
                donor=donor_id,
            )
        else:
            known_codes.append(code)
    if not permissions & set(known_codes):
        ctx.add(
            "CONSENT-1",
            at("codes"),
            "no DUO data use permission: give one of NRES (DUO:0000004), GRU (DUO:0000042), "
            "HMB (DUO:0000006), DS (DUO:0000007) or POA (DUO:0000011); modifiers such as NCU "
            "only restrict a permission",
            donor=donor_id,
        )
    consent_disease = consent.get("disease")
    if ctx.setting("disease_specific_code") in codes and not (isinstance(consent_disease, str) and consent_disease):
        ctx.add(
            "CONSENT-1",
            at("disease"),
            "DS (disease-specific research, DUO:0000007) needs the consented disease as a MONDO id",
            donor=donor_id,
        )
    if isinstance(consent_disease, str) and consent_disease and not MONDO_RE.match(consent_disease):
        ctx.add(
            "CONSENT-1",
            at("disease"),
            f"consented disease {consent_disease!r} is not a MONDO id (MONDO: and 7 digits)",
            donor=donor_id,
        )

    withdrawn = as_text(consent.get("withdrawn_on"))
    if withdrawn:
        count = len(ctx.lines_of_donor.get(donor_id, []))
        ctx.add(
            "CONSENT-2",
            at("withdrawn_on"),
            f"consent was withdrawn on {withdrawn}: this donor's lines ({count} in this document) may "
            "not be deposited for distribution; remove them from the submission",
            donor=donor_id,
        )

    if consent.get("genetic_data") == "none":
        has_variants = bool(as_list(donor.get("variants")))
        has_str = bool(as_dict(donor.get("str_profile"))) or any(
            as_dict(qc).get("str_profile")
            for _i, line in ctx.lines_of_donor.get(donor_id, [])
            for qc in as_list(line.get("qc"))
        )
        if has_variants or has_str:
            given = " and ".join(x for x, present in (("variants", has_variants), ("STR profiles", has_str)) if present)
            ctx.add(
                "CONSENT-3",
                at("genetic_data"),
                f"genetic_data is 'none' but {given} are given: they will be stored curator-only "
                "and never shown to researchers",
                donor=donor_id,
            )


def check_catalog_donor_consent(ctx, view):
    """CONSENT-2 for a line of a catalog donor who withdrew consent."""
    if view.donor_in_catalog and view.withdrawn_on:
        view.add(
            "CONSENT-2",
            view.at("donor"),
            f"catalog donor {view.donor_ref} withdrew consent on {view.withdrawn_on}: new lines of this donor may not "
            "be deposited for distribution",
        )
