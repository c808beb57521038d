"""The QC panels of the demo lines: the core tests with realistic methods and details,
failures where a scenario asks for one, and the re-test of a released line's bank."""

from datetime import timedelta

from demo import facts
from demo.drawing import ANCHOR, weighted
from lines.models import QCRecord
from lines.str.matching import format_profile


class QCPanels:
    """Drawn by the plan (demo/plan.py) from its `self.rng`, in its fixed order."""

    def _qc_panel(self, line, day, scenario):
        rng = self.rng
        passage = line.passage_at_banking or 12
        tests = [
            "identity",
            "genomic_integrity",
            "mycoplasma",
            "sterility",
            "pluripotency",
            "trilineage",
        ]
        if line.reprogramming_method in ("sendai", "episomal"):
            tests.append("vector_clearance")
        if scenario == "draft":
            tests = tests[: rng.randint(1, 4)]
        elif scenario == "submitted" and rng.random() < 0.4:
            tests.remove(rng.choice(["trilineage", "sterility"]))
        elif scenario == "released_legacy_incomplete":
            tests.remove("trilineage")

        failing = None
        inconclusive = None
        if scenario == "submitted_failed":
            failing = weighted(
                rng,
                [
                    ("genomic_integrity", 4),
                    ("mycoplasma", 2),
                    ("identity", 1),
                    ("vector_clearance", 2),
                    ("pluripotency", 1),
                ],
            )
            if failing not in tests:
                failing = "genomic_integrity"
        elif scenario == "submitted" and rng.random() < 0.3:
            inconclusive = "pluripotency"

        lab = rng.choice(facts.TESTING_LABS)
        records = []
        for i, test in enumerate(tests):
            result = "fail" if test == failing else "inconclusive" if test == inconclusive and test in tests else "pass"
            method, details = self._qc_details(line, test, result, passage)
            records.append(
                QCRecord(
                    line=line,
                    test=test,
                    method=method,
                    result=result,
                    details=details,
                    passage=passage,
                    tested_on=day + timedelta(days=i * rng.randint(0, 6)),
                    testing_lab=lab
                    if test not in ("identity", "genomic_integrity")
                    else rng.choice(facts.TESTING_LABS[:3]),
                )
            )
        if line.modification_type == "none" and rng.random() < 0.3 and scenario.startswith("released"):
            records.append(
                QCRecord(
                    line=line,
                    test="post_thaw",
                    method="colony count 5 days after thaw",
                    result="pass",
                    details={
                        "undifferentiated_colonies": rng.randint(18, 60),
                        "differentiated_percent": rng.randint(2, 20),
                    },
                    passage=passage + 1,
                    tested_on=day + timedelta(days=rng.randint(10, 30)),
                    testing_lab=lab,
                )
            )
        return records

    def _retest(self, line, scenario, released_on):
        """The failing re-test of a released line's distribution bank, after release."""
        passage = line.passage_at_banking or 12
        later = min(released_on + timedelta(days=self.rng.randint(60, 200)), ANCHOR - timedelta(days=2))
        if scenario == "released_retest_failed":
            return [
                QCRecord(
                    line=line,
                    test="mycoplasma",
                    method="qPCR (Venor GeM)",
                    result="fail",
                    details={
                        "result": "positive",
                        "species": "Mycoplasma hyorhinis",
                        "sample": "distribution bank",
                    },
                    passage=passage + 5,
                    tested_on=later,
                    testing_lab="Minerva Biolabs",
                )
            ]
        if scenario == "withdrawn_karyotype":
            karyotype = "47,XX,+12[8]/46,XX[12]" if line.donor.sex == "female" else "47,XY,+12[8]/46,XY[12]"
            return [
                QCRecord(
                    line=line,
                    test="genomic_integrity",
                    method="G-banding",
                    result="fail",
                    details={
                        "karyotype": karyotype,
                        "band_resolution": 450,
                        "metaphases_counted": 20,
                        "abnormality": "trisomy 12 (mosaic)",
                        "sample": "distribution bank",
                    },
                    passage=passage + 10,
                    tested_on=later,
                    testing_lab="WiCell Cytogenetics Lab",
                )
            ]
        return []

    def _qc_details(self, line, test, result, passage):
        rng = self.rng
        donor = line.donor
        ok = result == "pass"
        if test == "identity":
            reference = (
                f"parental line {line.parental_line.name}"
                if line.parental_line is not None
                else f"donor {donor.code} {'blood' if rng.random() < 0.6 else 'source cell'} DNA"
            )
            profile = (
                line.str_profile
                if result != "fail"
                else self._str_profile([m for m in donor.str_profile if m != "Amelogenin"], donor.sex)
            )
            markers = len([m for m in donor.str_profile if m != "Amelogenin"])
            return "STR profiling", {
                "kit": donor._kit,
                "profile": format_profile(profile),
                "reference": reference,
                "markers_compared": markers,
                "tanabe_score": 100.0 if result != "fail" else round(rng.uniform(35, 55), 1),
                "match": result != "fail",
            }
        if test == "genomic_integrity":
            normal = "46,XX" if donor.sex == "female" else "46,XY"
            if rng.random() < 0.2 and ok:
                return "SNP array", {
                    "platform": "Illumina Infinium Global Screening Array",
                    "largest_cnv_mb": round(rng.uniform(0.1, 1.5), 2),
                    "log_r_dev": round(rng.uniform(0.1, 0.3), 2),
                    "abnormalities": [],
                }
            details = {
                "karyotype": normal,
                "band_resolution": rng.choice([400, 450, 500, 550]),
                "metaphases_counted": 20,
            }
            if not ok:
                change = rng.choice(facts.CULTURE_ABNORMALITIES)
                if change == "+12":
                    details["karyotype"] = f"47,{normal[3:]},+12[{rng.randint(5, 20)}]/{normal}[{rng.randint(0, 15)}]"
                else:
                    details["karyotype"] = f"{normal},{change}"
                details["abnormality"] = change
            return "G-banding", details
        if test == "mycoplasma":
            method = rng.choice(["qPCR (Venor GeM)", "MycoAlert luminescence", "PCR"])
            if method == "MycoAlert luminescence":
                ratio = round(rng.uniform(0.3, 0.8), 2) if ok else round(rng.uniform(1.4, 3.0), 2)
                return method, {"ratio": ratio, "result": "negative" if ok else "positive"}
            return method, {"result": "negative" if ok else "positive"}
        if test == "sterility":
            return "BacT/ALERT culture, 14 days", {
                "bacteria": "no growth",
                "fungi": "no growth",
                "days": 14,
            }
        if test == "pluripotency":
            markers = rng.sample(facts.PLURIPOTENCY_MARKERS, rng.randint(3, 5))
            if rng.random() < 0.7:
                values = {m: round(rng.uniform(85, 99.5), 1) for m in markers}
                if result != "pass":
                    values[markers[-1]] = round(rng.uniform(45, 68), 1)
                return "flow cytometry", {"markers": values, "threshold_percent": 70}
            return "immunocytochemistry", {"markers": {m: "positive" if ok else "weak" for m in markers}}
        if test == "trilineage":
            layers = {
                layer: {"markers": rng.sample(names, 2), "detected": True}
                for layer, names in facts.GERM_LAYER_MARKERS.items()
            }
            if not ok:
                layers["endoderm"]["detected"] = False
            method, protocol = rng.choice(
                [
                    ("directed differentiation + ICC", "STEMdiff Trilineage, immunostaining"),
                    ("embryoid bodies + qPCR", "hPSC ScoreCard panel"),
                ]
            )
            return method, {"germ_layers": layers, "protocol": protocol}
        if test == "vector_clearance":
            if line.reprogramming_method == "sendai":
                return "RT-qPCR (SeV genome)", {
                    "vector": "CytoTune-iPS 2.0 Sendai",
                    "passage_tested": passage,
                    "transgene_free": ok,
                    "detected": [] if ok else ["SeV"],
                }
            copies = round(rng.uniform(0.0, 0.6), 2) if ok else round(rng.uniform(2.0, 6.0), 2)
            return "qPCR (EBNA1/OriP)", {
                "vector": "Epi5 episomal plasmids",
                "passage_tested": passage,
                "plasmid_copies_per_100_cells": copies,
                "threshold": 1.0,
            }
        return "", {}
