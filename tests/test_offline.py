"""The suite's network guard works: outbound connections and DNS look-ups fail the test,
loopback (for servers the tests start) stays open."""

from __future__ import annotations

import socket

import pytest

from conftest import NetworkBlockedError


def test_outbound_connect_is_blocked() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(
        NetworkBlockedError
    ):
        sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never routed anyway


def test_dns_lookup_is_blocked() -> None:
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("publicsuffix.org", 443)


def test_loopback_stays_open() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5) as client:
            assert client.getpeername() == server.getsockname()


def test_importing_and_using_the_library_opens_no_socket() -> None:
    import stakeholder

    assert stakeholder.registrable_domain("a.b.example.co.uk") == "example.co.uk"
    assert str(stakeholder.EmailAddress.parse("Jane <JANE@Bücher.de>")) == "jane@xn--bcher-kva.de"


def test_network_capable_adapters_load_only_when_asked_for() -> None:
    """The PostgreSQL back end (psycopg) and the notification adapters (smtplib, httpx)
    are imported by the call that needs them, never by importing the library, its
    storage layer or its CLI, nor by working on the embedded SQLite store; asking for
    the PostgreSQL store is what loads its driver."""
    import subprocess
    import sys

    script = """
import sys
import stakeholder, stakeholder.storage, stakeholder.cli, stakeholder.alerts
from stakeholder.storage import open_store
store = open_store("sqlite:///:memory:")
store.close()
adapters = ("psycopg", "psycopg_pool", "stakeholder.storage._postgres", "smtplib", "httpx")
print(",".join(m for m in adapters if m in sys.modules))
try:
    open_store("postgresql://user@127.0.0.1:1/none")
except Exception:
    pass
print("stakeholder.storage._postgres" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout.splitlines()
    assert out[0] == ""
    assert out[1] == "True"
