"""NAME-1 to NAME-4: hPSCreg names a document gives (the pattern itself:
lines.naming), and donor numbers across the document and the catalog."""

from collections import defaultdict

from lines import naming
from lines.submissions.rules.findings import as_dict, as_text, pointer


def check_name(ctx, view):
    """NAME-1 to NAME-4 for a line's given name (and NAME-4 for its parental line)."""
    index, line, modified, parent_ref = view.index, view.line, view.modified, view.parent_ref
    add, at = view.add, view.at
    name = line.get("name")
    parent_name, parent_is_subclone = parent_name_of(ctx, parent_ref) if modified and parent_ref else (None, False)
    if parent_is_subclone:
        root = naming.subclone_parent(parent_name) if parent_name else None
        add(
            "NAME-4",
            at("parental_line"),
            f"the parental line {parent_ref!r} is itself a subclone; numbering is flat: name the original "
            f"unmodified line{f' {root}' if root else ''} as parental line (the line becomes "
            f"{root or '<parent>'}-<n>) and describe the earlier edit in modification.description",
        )
    if not isinstance(name, str):
        return
    problems = naming.name_problems(name)
    max_length = ctx.setting("max_name_length", naming.MAX_LENGTH)
    if len(name) > max_length and not any("characters long" in p for p in problems):
        problems.insert(0, f"is {len(name)} characters long; at most {max_length}")
    if problems:
        add("NAME-1", at("name"), f"name {name!r} {'; and '.join(problems)}")
        return
    parsed = naming.parse_name(name)
    code = ctx.catalog.institution_code
    if code and parsed.institution != code:
        add(
            "NAME-2",
            at("name"),
            f"name {name!r} starts with institution code {parsed.institution}, but the depositing "
            f"institution's code is {code}",
        )
    if parsed.type != naming.IPSC:
        add(
            "NAME-2",
            at("name"),
            f"name {name!r} has type letter {parsed.type!r}; an iPSC line takes 'i'",
        )
    if name in ctx.catalog.taken_names:
        add(
            "NAME-3",
            at("name"),
            f"name {name!r} is already taken in the catalog; leave the name empty to have the next free one assigned",
        )
    first = ctx.first_with_name.setdefault(name, index)
    if first != index:
        add(
            "NAME-3",
            at("name"),
            f"name {name!r} is also given to line #{first + 1} of this document; names are unique",
        )

    if modified and parent_ref is not None and not parent_is_subclone:
        if parent_name is None:
            add(
                "NAME-4",
                at("name"),
                f"the line is named {name!r} but its parent {parent_ref!r} has no name yet; leave both names "
                "empty to have them assigned, or name the parent too",
            )
        elif not (parsed.is_subclone and parsed.parent == parent_name):
            add(
                "NAME-4",
                at("name"),
                f"a modified line is named after its parent plus -<n>: expected {parent_name}-<n>, got {name!r}",
            )
    elif modified and parsed.is_subclone is False:
        add(
            "NAME-4",
            at("name"),
            f"a modified line is named parent + -<n>; {name!r} has no subclone number",
        )


def parent_name_of(ctx, parent_ref):
    """(name, is itself a subclone) of a parental line in the document or the catalog."""
    if parent_ref in ctx.line_by_id:
        parent = ctx.line_by_id[parent_ref][1]
        parent_type = as_text(as_dict(parent.get("modification")).get("type"))
        name = as_text(parent.get("name"))
        parsed = naming.parse_name(name)
        is_subclone = (parent_type not in (None, "none")) or bool(parsed and parsed.is_subclone)
        return name, is_subclone
    catalog = ctx.catalog.parents.get(parent_ref)
    if catalog:
        parsed = naming.parse_name(catalog["name"])
        is_subclone = bool(parsed and parsed.is_subclone) or (
            catalog["modification_type"] not in ("", "none") and catalog["parental_line_id"] is not None
        )
        return catalog["name"], is_subclone
    return None, False


def check_donor_numbers(ctx):
    """NAME-3 across the document and the catalog: one donor, one donor number."""
    numbers_by_donor = defaultdict(dict)  # donor ref → donor number → first (index)
    for index, line in ctx.line_items:
        parsed = naming.parse_name(line.get("name"))
        donor_ref = as_text(line.get("donor"))
        if parsed is None or donor_ref is None or parsed.institution != ctx.catalog.institution_code:
            continue
        numbers_by_donor[donor_ref].setdefault(parsed.donor_number, index)
    donors_by_number = defaultdict(list)
    for donor_ref, numbers in numbers_by_donor.items():
        catalog_donor = ctx.catalog.donors.get(donor_ref)
        expected = catalog_donor["donor_number"] if catalog_donor and catalog_donor["donor_number"] else None
        if len(numbers) > 1:
            for number, index in list(numbers.items())[1:]:
                first = next(iter(numbers))
                ctx.add(
                    "NAME-3",
                    pointer("lines", index, "name"),
                    f"lines of donor {donor_ref} carry different donor numbers ({first} and {number}); "
                    "every line of one donor keeps the same donor number",
                    line=as_text(ctx.lines[index].get("local_id")),
                    donor=donor_ref,
                )
        for number, index in numbers.items():
            donors_by_number[number].append((donor_ref, index))
            if expected and number != expected:
                ctx.add(
                    "NAME-3",
                    pointer("lines", index, "name"),
                    f"donor {donor_ref} is registered with donor number {expected}, not {number}",
                    line=as_text(ctx.lines[index].get("local_id")),
                    donor=donor_ref,
                )
            owner = ctx.catalog.donor_number_owner.get(number)
            if owner and owner != donor_ref:
                ctx.add(
                    "NAME-3",
                    pointer("lines", index, "name"),
                    f"donor number {number} already belongs to catalog donor {owner}; a new donor takes "
                    "a new number (leave the name empty to have one assigned)",
                    line=as_text(ctx.lines[index].get("local_id")),
                    donor=donor_ref,
                )
    for number, users in donors_by_number.items():
        if len(users) > 1:
            for donor_ref, index in users[1:]:
                ctx.add(
                    "NAME-3",
                    pointer("lines", index, "name"),
                    f"donor number {number} is used for donors {users[0][0]} and {donor_ref}; "
                    "one donor number belongs to one donor",
                    line=as_text(ctx.lines[index].get("local_id")),
                    donor=donor_ref,
                )
