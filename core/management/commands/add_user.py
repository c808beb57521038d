import re

from django.core.management.base import BaseCommand, CommandError

from core.accounts import create_user_with_role, institution_for_code
from core.models import INSTITUTION_CODE_RE, OrganisationType
from core.roles import DEPOSITOR, ROLES


class Command(BaseCommand):
    help = (
        "Create a user in one role (researcher, depositor, curator) and print the API token "
        "on the last line. An institution code not yet known is created."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--institution", metavar="CODE", help="hPSCreg institution code, e.g. UKB")
        parser.add_argument("--institution-name", help="Name for a new institution")
        parser.add_argument("--country", default="", help="Country for a new institution")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Leave out for token-only (API client) users")
        parser.add_argument(
            "--organisation-type",
            choices=OrganisationType.values,
            default=OrganisationType.ACADEMIC,
        )

    def handle(self, *args, **opts):
        institution = None
        code = opts["institution"]
        if code:
            if not re.match(INSTITUTION_CODE_RE, code):
                raise CommandError(f"--institution {code!r}: an hPSCreg code is 2 to 6 capital letters")
            institution = institution_for_code(code, name=opts["institution_name"], country=opts["country"])
        elif opts["role"] == DEPOSITOR:
            raise CommandError("a depositor needs --institution CODE: they deposit for an institution")
        user, token = create_user_with_role(
            opts["username"],
            opts["role"],
            institution=institution,
            password=opts["password"],
            email=opts["email"],
            organisation_type=opts["organisation_type"],
        )
        where = f" at {institution.code}" if institution else ""
        self.stdout.write(f"{user.username}: {opts['role']}{where}")
        self.stdout.write(token)
