"""What every rule family reads: the document indexed once, the protocol version's
thresholds, the catalog as the depositor may see it, and the list findings go to."""

from collections import defaultdict

from lines.submissions.rules.catalog import Catalog
from lines.submissions.rules.findings import as_date, as_dict, as_list, as_text, finding, pointer


class Context:
    def __init__(self, document, *, protocol, institution, user=None):
        self.document = document
        self.protocol = protocol
        self.settings = dict(protocol.settings or {})
        self.institution = institution
        self.user = user
        self.findings = []
        self.donors = as_list(document.get("donors")) if isinstance(document, dict) else []
        self.lines = as_list(document.get("lines")) if isinstance(document, dict) else []
        self.catalog = None

    def add(self, rule, location, message, *, line=None, donor=None, severity=None):
        self.findings.append(finding(rule, location, message, line=line, donor=donor, severity=severity))

    def setting(self, key, default=None):
        return self.settings.get(key, default)

    def locals_by_path(self, path):
        """(line local_id, donor local_id) a JSON path falls under, for a schema finding."""
        line = donor = None
        if len(path) >= 2 and path[0] == "lines" and isinstance(path[1], int) and path[1] < len(self.lines):
            line = as_text(as_dict(self.lines[path[1]]).get("local_id"))
            donor = as_text(as_dict(self.lines[path[1]]).get("donor"))
        elif len(path) >= 2 and path[0] == "donors" and isinstance(path[1], int) and path[1] < len(self.donors):
            donor = as_text(as_dict(self.donors[path[1]]).get("local_id"))
        return line, donor

    def read_catalog(self):
        """Read the catalog and index the document (after the schema pass, for a dict document)."""
        self.catalog = Catalog(self.document, self.institution, self.protocol, self.user)
        self.donor_items = [(i, d) for i, d in enumerate(self.donors) if isinstance(d, dict)]
        self.line_items = [(i, ln) for i, ln in enumerate(self.lines) if isinstance(ln, dict)]
        self.donor_by_id = {}
        for index, donor in self.donor_items:
            local_id = as_text(donor.get("local_id"))
            if local_id is not None:
                self.donor_by_id.setdefault(local_id, (index, donor))
        self.line_by_id = {}
        for index, line in self.line_items:
            local_id = as_text(line.get("local_id"))
            if local_id is not None:
                self.line_by_id.setdefault(local_id, (index, line))
        self.lines_of_donor = defaultdict(list)
        for index, line in self.line_items:
            donor_ref = as_text(line.get("donor"))
            if donor_ref is not None:
                self.lines_of_donor[donor_ref].append((index, line))
        self.first_with_name = {}

    def donor_facts(self, donor_ref):
        """(sex, consent obtained_on, withdrawn_on, viral screening, STR profile, in catalog)
        of a line's donor."""
        if donor_ref in self.donor_by_id:
            donor = self.donor_by_id[donor_ref][1]
            consent = as_dict(donor.get("consent"))
            return (
                donor.get("sex"),
                as_date(consent.get("obtained_on")),
                consent.get("withdrawn_on"),
                as_dict(donor.get("viral_screening")),
                donor.get("str_profile"),
                False,
            )
        catalog = self.catalog.donors.get(donor_ref)
        if catalog:
            return (
                catalog["sex"],
                catalog["consent__obtained_on"],
                catalog["consent__withdrawn_on"],
                as_dict(catalog["viral_screening"]),
                catalog["str_profile"],
                True,
            )
        return (None, None, None, {}, None, False)

    def line_view(self, index, line):
        return LineView(self, index, line)


class LineView:
    """One document line as the line rules read it: ids, its donor's facts, its
    modification and QC records, and `add`/`at` bound to its place."""

    def __init__(self, ctx, index, line):
        self.ctx = ctx
        self.index = index
        self.line = line
        self.line_id = as_text(line.get("local_id"))
        self.donor_ref = as_text(line.get("donor"))
        (
            self.sex,
            self.obtained_on,
            self.withdrawn_on,
            self.donor_viral,
            self.donor_profile,
            self.donor_in_catalog,
        ) = ctx.donor_facts(self.donor_ref)
        self.modification = as_dict(line.get("modification"))
        self.modification_type = as_text(self.modification.get("type"))
        self.modified = self.modification_type is not None and self.modification_type != "none"
        self.parent_ref = as_text(line.get("parental_line"))
        self.derived_on = as_date(line.get("derived_on"))
        self.qc_items = [(i, item) for i, item in enumerate(as_list(line.get("qc"))) if isinstance(item, dict)]

    def at(self, *parts):
        return pointer("lines", self.index, *parts)

    def add(self, rule, location, message, severity=None):
        self.ctx.add(rule, location, message, line=self.line_id, donor=self.donor_ref, severity=severity)
