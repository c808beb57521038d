"""A real PRISM bank on loopback for the federation tests: its own SQLite database,
migrated and seeded with a small bank, served by runserver.

python -m tests.network.peer_server <database file> <port> <bank name> <seed: full|empty>"""

import os
import sys


def main():
    database, port, name, seed = sys.argv[1:5]
    os.environ.update(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "DEBUG": "1",
            "PRISM_BANK_NAME": name,
            "DJANGO_SETTINGS_MODULE": "prism.settings",
        }
    )
    for name_ in ("CELERY_BROKER_URL", "PRISM_REQUIRE_SERVICES", "CACHE_URL"):
        os.environ.pop(name_, None)
    import django  # noqa: PLC0415 (Django is set up for this database first)

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415

    from core.models import Institution  # noqa: PLC0415
    from tests.network.conftest import build_bank  # noqa: PLC0415

    call_command("migrate", verbosity=0, interactive=False)
    if seed == "full" and not Institution.objects.exists():
        owner = Institution.objects.create(code="UKB", name="University Hospital Bonn", country="Germany")
        other = Institution.objects.create(code="UCSF", name="UCSF", country="USA")
        build_bank(owner, other)
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, skip_checks=True)


if __name__ == "__main__":
    main()
