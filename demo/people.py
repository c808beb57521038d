"""The demo's people: one user per role (their passwords are published in the README)
and the researchers whose requests fill the distribution queue."""

from core.accounts import create_user_with_role
from core.models import Institution
from demo import facts

DEMO_USERS = {
    # username: (role, password, institution code or None)
    "researcher": ("researcher", "demo-researcher", None),
    "depositor": ("depositor", "demo-depositor", "RNB"),
    "curator": ("curator", "demo-curator", None),
}
# Other researchers whose requests fill the distribution queue; they have no
# password (they cannot sign in) and are not printed.
REQUESTER_USERNAMES = ["k.lindqvist", "a.okafor", "m.haddad", "neurovance-api", "l.fernandez"]


def write_users():
    credentials = []
    users = {}
    institutions = {i.code: i for i in Institution.objects.filter(code__in=[c for *_, c in DEMO_USERS.values() if c])}
    for username, (role, password, code) in DEMO_USERS.items():
        user, _token = create_user_with_role(
            username,
            role,
            institution=institutions.get(code),
            password=password,
            email=f"{username}@demo.prism.invalid",
        )
        users[username] = user
        credentials.append((username, password, role, code or ""))
    # Curators are staff (create_user_with_role) and get their admin rights from
    # the role (core.auth), so the demo curator needs nothing more.
    organisations = facts.REQUESTER_ORGANISATIONS
    for username, (org, org_type) in zip(REQUESTER_USERNAMES, organisations, strict=True):
        users[username] = create_user_with_role(
            username,
            "researcher",
            organisation_type=org_type,
            email=f"{username}@demo.prism.invalid",
        )[0]
        users[username]._organisation = org
    users["researcher"]._organisation = "University of Edinburgh, Euan MacDonald Centre"
    return users, credentials
