"""What an import did: counts, skipped entries and warnings, as `manage.py
import_cellosaurus` prints them."""

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    entries_read: int = 0
    human_ipsc: int = 0
    lines_created: int = 0
    lines_updated: int = 0
    lines_unchanged: int = 0
    deposited_lines_matched: int = 0
    references_created: int = 0
    references_updated: int = 0
    references_unchanged: int = 0
    donors_created: int = 0
    donors_updated: int = 0
    variants_created: int = 0
    parents_linked: int = 0
    parents_outside_catalog: int = 0
    skipped: list = field(default_factory=list)  # MalformedEntry
    warnings: list = field(default_factory=list)
    read_error: str = ""  # set when the file broke off (e.g. a truncated gzip)

    def summary(self):
        lines = [
            f"Entries read: {self.entries_read} ({self.human_ipsc} human iPSC)",
            f"Lines: {self.lines_created} created, {self.lines_updated} updated, "
            f"{self.lines_unchanged} unchanged"
            + (
                f", {self.deposited_lines_matched} deposited lines matched (only empty fields filled)"
                if self.deposited_lines_matched
                else ""
            ),
            f"Donors: {self.donors_created} created, {self.donors_updated} updated; "
            f"variants created: {self.variants_created}",
            f"Parental lines linked: {self.parents_linked} "
            f"({self.parents_outside_catalog} parents are not catalog lines)",
            f"Reference profiles: {self.references_created} created, {self.references_updated} updated, "
            f"{self.references_unchanged} unchanged",
            f"Skipped: {len(self.skipped)}",
        ]
        lines += [f"  skipped {problem.describe()}" for problem in self.skipped]
        if self.read_error:
            lines.append(f"Stopped early: {self.read_error}")
        if self.warnings:
            lines.append(f"Warnings: {len(self.warnings)}")
            lines += [f"  {warning}" for warning in self.warnings[:50]]
            if len(self.warnings) > 50:
                lines.append(f"  … and {len(self.warnings) - 50} more")
        return lines
