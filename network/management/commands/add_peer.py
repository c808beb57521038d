"""Register (or update) a peer bank: manage.py add_peer "Bank name" https://catalog.bank.example [--token T] [--kind beacon]."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from network.models import Peer, PeerKind


class Command(BaseCommand):
    help = "Register a peer bank (another PRISM, or any Beacon v2) for the federated search."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("base_url")
        parser.add_argument("--token", default="", help="A token the peer granted this bank.")
        parser.add_argument("--kind", default=PeerKind.PRISM, choices=PeerKind.values)
        parser.add_argument("--inactive", action="store_true")

    def handle(self, name, base_url, token, kind, inactive, **options):
        peer = Peer.objects.filter(name=name).first() or Peer(name=name)
        peer.base_url, peer.token, peer.kind, peer.active = base_url.rstrip("/"), token, kind, not inactive
        try:
            peer.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from error
        peer.save()
        self.stdout.write(f"peer {peer.name} at {peer.base_url} ({'active' if peer.active else 'inactive'})")
