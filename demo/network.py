"""The demo's peers for the federated search (/network/): two invented partner banks.
They are not reachable from a laptop, which is the point: the page shows each as an
error row ("could not be reached") beside this bank's own answer."""

from network.models import Peer

DEMO_PEERS = (
    ("PRISM-ALS Boston (demo peer)", "https://prism-boston.invalid"),
    ("PRISM-ALS Kyoto (demo peer)", "https://prism-kyoto.invalid"),
)


def register_demo_peers() -> int:
    for name, url in DEMO_PEERS:
        Peer.objects.update_or_create(name=name, defaults={"base_url": url, "active": True})
    return len(DEMO_PEERS)
