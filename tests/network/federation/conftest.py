import pytest

from tests.network.federation.servers import PrismServer, garbage_peer, hanging_peer


@pytest.fixture(scope="session")
def loopback_banks(tmp_path_factory):
    """Two real PRISM banks (each seeded with the small bank, in its own SQLite database) and a
    hanging and a garbage peer, started once for the session."""
    directory = tmp_path_factory.mktemp("banks")
    b = PrismServer(directory, "Bank B")
    c = PrismServer(directory, "Bank C")
    hang, garbage = hanging_peer(), garbage_peer()
    try:
        b.wait()
        c.wait()
        yield {"b": b, "c": c, "hang": hang, "garbage": garbage}
    finally:
        for server in (b, c, hang, garbage):
            server.stop()
