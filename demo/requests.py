"""The demo's distribution requests and withdrawals, made through the workflow's actions.

Each request is created, submitted, reviewed, decided, agreed, shipped and
completed by the same actions a requester and a curator call on the pages, each
step dated on the demo's calendar (`at`, drawn relative to ANCHOR) and with no
e-mail (`notify=False`: nobody is told about an invented past). The planned
withdrawals (two donors' consent, one line's failed re-test) come last, through
the withdrawal actions, which is what stops their lines and puts the request for
one of them on hold.
"""

from datetime import timedelta

from core.vocabulary import ALS
from demo.drawing import ANCHOR, aware
from distribution.actions import requests as actions
from distribution.actions.requests import purpose_of
from distribution.actions.withdrawal import withdraw_consent, withdraw_line
from distribution.eligibility import evaluate_lines
from distribution.models import DistributionRequest
from distribution.returns import return_outstanding, waive_return

# (requester, status, purpose codes, summary). The demo researcher's own requests
# cover most states, so that signing in as them shows the whole workflow.
REQUEST_SPECS = [
    (
        "researcher",
        "draft",
        ["DUO:0000007"],
        "Motor neuron TDP-43 mislocalisation in TARDBP and C9orf72 lines.",
    ),
    (
        "researcher",
        "submitted",
        ["DUO:0000006"],
        "Axonal transport in iPSC motor neurons: SOD1 vs isogenic controls.",
    ),
    (
        "researcher",
        "under_review",
        ["DUO:0000007"],
        "Nucleocytoplasmic transport defects in C9orf72 ALS.",
    ),
    (
        "researcher",
        "approved",
        ["DUO:0000042"],
        "Multi-omic reference of healthy donor iPSC motor neurons.",
    ),
    ("researcher", "shipped", ["DUO:0000007"], "FUS condensates in patient-derived motor neurons."),
    ("researcher", "completed", ["DUO:0000006"], "Astrocyte reactivity in SOD1 and sporadic ALS."),
    (
        "k.lindqvist",
        "agreement_executed",
        ["DUO:0000007"],
        "SOD1 D90A homozygous vs heterozygous motor neurons.",
    ),
    (
        "k.lindqvist",
        "completed",
        ["DUO:0000007"],
        "Electrophysiology of ALS motor neurons on MEAs.",
    ),
    (
        "a.okafor",
        "submitted",
        ["DUO:0000006"],
        "Ancestry-diverse iPSC panel for motor neuron eQTL mapping.",
    ),
    (
        "a.okafor",
        "cancelled",
        ["DUO:0000042"],
        "Pilot comparison of motor neuron differentiation protocols.",
    ),
    (
        "m.haddad",
        "under_review",
        ["DUO:0000007"],
        "Antisense oligonucleotide screening in C9orf72 motor neurons.",
    ),
    (
        "neurovance-api",
        "rejected",
        ["DUO:0000006"],
        "Compound screening for an ALS drug programme.",
    ),
    (
        "l.fernandez",
        "shipped",
        ["DUO:0000007"],
        "TBK1 and OPTN loss of function in iPSC-derived microglia.",
    ),
    (
        "l.fernandez",
        "submitted",
        ["DUO:0000007"],
        "Stress granule dynamics in sporadic ALS motor neurons.",
    ),
]
# How far each status has gone along draft → submitted → under review → approved
# → agreement → shipped → completed.
STEPS = [
    "draft",
    "submitted",
    "under_review",
    "approved",
    "agreement_executed",
    "shipped",
    "completed",
]
REJECTION = "Ethics approval (DUO:0000021, IRB) required by the donors' consent was not provided after two reminders."
APPROVAL = "Purpose matches the consent of every line; conditions accepted."
NO_VIALS = "No distribution vials of this clone are left; another clone of the same donor is offered instead."


class DemoRequests:
    """The requests of REQUEST_SPECS, in order, drawn from `rng` and made through the actions.

    The catalog (lines, consent) must be written first: eligibility is judged on
    the stored consent, exactly as for a real request."""

    def __init__(self, rng, users, plan):
        self.rng, self.users, self.curator = rng, users, users["curator"]
        lines = sorted(plan.lines, key=lambda ln: ln.name)
        stays = [ln for ln in lines if ln.status == "released" and ln._withdrawal is None]
        self.available = [ln for ln in stays if ln.availability == "available"]
        self.restricted = [ln for ln in stays if ln.availability == "restricted"]
        # Lines whose donor withdraws consent later: one is requested before that.
        self.to_be_withdrawn = [
            ln for ln in lines if ln._withdrawal and ln._withdrawal[0] == "consent" and ln.status == "released"
        ]
        self.judged = {}
        self.requests = []

    def judge(self, lines, purpose):
        key = (purpose, tuple(ln.pk for ln in lines))
        if key not in self.judged:
            self.judged[key] = dict(zip([ln.pk for ln in lines], evaluate_lines(lines, purpose), strict=True))
        return self.judged[key]

    def build(self):
        for i, spec in enumerate(REQUEST_SPECS):
            self.build_one(i, *spec)
        # created_at/updated_at are set to now on insert; the demo's requests are older.
        for request in self.requests:
            DistributionRequest.objects.filter(pk=request.pk).update(
                created_at=aware(request._created_on, self.rng),
                updated_at=aware(request._last_day, self.rng),
            )
        return len(self.requests)

    def _held_line(self, username, status, created, purpose):
        """For l.fernandez's open request: a line whose donor withdraws consent a month or more
        after the request, one the purpose may use and released before it."""
        if not (username == "l.fernandez" and status == "submitted"):
            return None, created
        for line in self.to_be_withdrawn:
            on = min(created, line._withdrawal[1]._withdraws_on - timedelta(days=30))
            released = line.released_at.date() < on - timedelta(days=7)
            if released and self.judge([line], purpose)[line.pk].decision == "APPROVE":
                return line, on
        return None, created

    def build_one(self, i, username, status, codes, summary):
        rng, curator = self.rng, self.curator
        user = self.users[username]
        organisation_type = user.profile.organisation_type
        commercial = organisation_type == "commercial"
        disease = ALS if "DUO:0000007" in codes else None
        step = STEPS.index(status) if status in STEPS else (2 if status == "rejected" else 1)
        # Open requests are recent; the further one has gone, the earlier it began
        # (each step below takes at most ~6 weeks), so that nothing happens after ANCHOR.
        if status in ("draft", "submitted", "under_review"):
            created = ANCHOR - timedelta(days=rng.randint(25, 100))
        else:
            created = ANCHOR - timedelta(days=rng.randint(40 * step + 20, 40 * step + 200))
        draft = DistributionRequest(
            purpose_codes=codes,
            purpose_disease=disease or "",
            commercial=commercial,
            organisation_type=organisation_type,
        )
        purpose = purpose_of(draft)
        held_line, created = self._held_line(username, status, created, purpose)

        def released_before(ln):
            return ln.released_at.date() < created - timedelta(days=7)

        judged = self.judge(self.available, purpose)
        eligible = [ln for ln in self.available if judged[ln.pk].decision == "APPROVE" and released_before(ln)]
        if status == "rejected":
            # Lines whose consent asks for ethics approval the requester never showed.
            eligible = [ln for ln in eligible if "DUO:0000021" in {c.code for c in judged[ln.pk].conditions}]
        count = rng.randint(1, 4)
        if status == "agreement_executed":
            count = max(count, 2)  # one of its lines is taken out during review
        chosen = rng.sample(eligible, count)
        if username == "m.haddad":
            # A restricted line: the consent check abstains and a curator decides.
            chosen.append([ln for ln in self.restricted if released_before(ln)][i])
        if held_line is not None:
            chosen = [held_line, *chosen[:1]]

        day = created
        request = actions.create_request(
            user,
            chosen,
            purpose_codes=codes,
            purpose_disease=disease,
            commercial=commercial,
            organisation_type=organisation_type,
            organisation=user._organisation,
            purpose_summary=summary,
            vials={ln.name: rng.randint(1, 3) for ln in chosen},
            at=aware(day, rng),
        )
        request._created_on = created
        self.requests.append(request)
        quiet = {"notify": False}
        if step >= 1:
            day += timedelta(days=rng.randint(2, 20))
            actions.submit(request, user, request.required_conditions(), at=aware(day, rng), **quiet)
        if step >= 2:
            day += timedelta(days=rng.randint(1, 10))
            actions.start_review(request, curator, at=aware(day, rng), **quiet)
        if status == "rejected":
            day += timedelta(days=rng.randint(14, 40))
            actions.reject(request, curator, REJECTION, at=aware(day, rng), **quiet)
        if status == "cancelled":
            day += timedelta(days=rng.randint(5, 30))
            actions.cancel(request, user, at=aware(day, rng), **quiet)
        if step >= 3:
            day += timedelta(days=rng.randint(5, 25))
            decided = aware(day, rng)
            if status == "agreement_executed" and len(chosen) > 1:
                actions.decide_line(request, curator, chosen[-1], "rejected", NO_VIALS, at=decided, **quiet)
            actions.approve(request, curator, APPROVAL, at=decided + timedelta(minutes=5), **quiet)
        if step >= 4:
            sent_on = day + timedelta(days=2)
            day += timedelta(days=rng.randint(10, 40))
            actions.record_agreement(
                request,
                curator,
                f"MTA-{day.year}-{i + 1:03d}",
                day,
                sent_on,
                at=aware(day, rng),
                **quiet,
            )
        if step >= 5:
            day += timedelta(days=rng.randint(3, 14))
            shipments = [
                {
                    "line": item.line,
                    "shipped_on": day,
                    "vials": item.vials,
                    "batch": f"{item.line.name}-DB{rng.randint(1, 3):02d}",
                    "passage": (item.line.passage_at_banking or 10) + 3,
                    "courier_reference": f"WB{rng.randint(10**9, 10**10 - 1)}",
                }
                for item in request.items.select_related("line").order_by("id")
                if item.decision == "approved"
            ]
            actions.ship(request, curator, shipments, at=aware(day, rng), **quiet)
        if step >= 6:
            day += timedelta(days=rng.randint(2, 26))
            if return_outstanding(request):
                waive_return(request, curator, "Demo: the derived data was returned to the bank by e-mail (invented).")
            actions.complete(request, user, "Received in good condition.", at=aware(day, rng), **quiet)
        request._last_day = day


def make_withdrawals(rng, curator, plan):
    """The withdrawals the plan drew, through the withdrawal actions, in date order."""
    donors = {}
    qc = []
    for line in plan.lines:
        if line._withdrawal is None:
            continue
        kind, what = line._withdrawal
        if kind == "consent":
            donors[what.donor.code] = what
        else:
            qc.append((what[1], line, what[0]))
    steps = [(c._withdraws_on, "consent", c, c._withdrawal_reason) for c in donors.values()]
    steps += [(day, "qc", line, reason) for day, line, reason in qc]
    for day, kind, target, reason in sorted(steps, key=lambda s: (s[0], s[1])):
        at = aware(day, rng)
        if kind == "consent":
            withdraw_consent(target.donor, by=curator, on=day, reason=reason, at=at, notify=False)
        else:
            withdraw_line(target, by=curator, reason=reason, at=at, notify=False)
    return len(steps)
