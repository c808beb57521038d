"""DONOR-1 and DONOR-2: a donor's disease and ALS clinical data."""

from lines.submissions.rules.findings import MONDO_RE, as_int, as_text, pointer


def check_donor(ctx, index, donor):
    """DONOR-1 (the disease id) and DONOR-2 (the ALS clinical block) of one donor."""
    donor_id = as_text(donor.get("local_id"))
    at = lambda *parts: pointer("donors", index, *parts)  # noqa: E731

    def add(rule, location, message, severity=None):
        ctx.add(rule, location, message, donor=donor_id, severity=severity)

    disease = donor.get("disease")
    if isinstance(disease, str):
        if not MONDO_RE.match(disease):
            add(
                "DONOR-1",
                at("disease"),
                f"disease {disease!r} is not a MONDO id; write MONDO: and 7 digits, e.g. MONDO:0004976 "
                "for ALS (leave null for a healthy control)",
            )
        elif disease not in ctx.catalog.diseases:
            add(
                "DONOR-1",
                at("disease"),
                f"{disease} is not in the catalog's disease vocabulary; check the id, or ask a curator "
                "to load the current MONDO release",
                severity="warning",
            )
        elif ctx.catalog.diseases[disease][1]:
            add(
                "DONOR-1",
                at("disease"),
                f"{disease} is obsolete in MONDO; use its replacement",
                severity="warning",
            )

    als = donor.get("als")
    if isinstance(als, dict) and any(v is not None for v in als.values()):
        roots = set(ctx.setting("als_disease_roots", []))
        ancestors = set(ctx.catalog.diseases.get(disease, ([], False))[0]) if isinstance(disease, str) else set()
        if not isinstance(disease, str) or not ({disease} | ancestors) & roots:
            add(
                "DONOR-2",
                at("als"),
                f"an 'als' clinical block is given but the donor's disease ({disease or 'none'}) is not ALS "
                "or FTD/ALS; correct the disease or remove the block",
            )
        onset, sampled = as_int(als.get("age_at_onset")), as_int(donor.get("age_at_sampling"))
        if onset is not None and sampled is not None and onset > sampled:
            add(
                "DONOR-2",
                at("als", "age_at_onset"),
                f"age at onset ({onset}) is above age at sampling ({sampled}); onset cannot follow sampling",
            )
        score = as_int(als.get("alsfrs_r"))
        low, high = ctx.setting("alsfrs_r_min", 0), ctx.setting("alsfrs_r_max", 48)
        if score is not None and not low <= score <= high:
            add("DONOR-2", at("als", "alsfrs_r"), f"ALSFRS-R {score} is outside {low}–{high}")
