"""The fake's slowloris modes: one part of a valid answer, a byte at a time, at a set rate."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlencode

import pytest

from stcheck.testing.fake import (
    AUTH_HOSTS,
    TRICKLE_PARTS,
    FakeClient,
    FakeResponse,
    FakeServiceTitan,
)
from stcheck.testing.pytest_plugin import servicetitan_fake as servicetitan_fake

RATE = 100.0


def token_exchange(fake: FakeServiceTitan, client: FakeClient) -> tuple[list[bytes], float]:
    """POST a token request over raw TLS; every ``recv`` chunk of the answer, and the time taken."""
    host = AUTH_HOSTS[client.environment]
    form = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        }
    ).encode()
    request = (
        f"POST /connect/token HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(form)}\r\n\r\n"
    ).encode() + form
    chunks: list[bytes] = []
    with (
        socket.create_connection(fake.address, timeout=10) as raw,
        fake.ssl_context().wrap_socket(raw, server_hostname=host) as tls,
    ):
        started = time.monotonic()
        tls.sendall(request)
        while chunk := tls.recv(65536):
            chunks.append(chunk)
        return chunks, time.monotonic() - started


@pytest.mark.parametrize("part", TRICKLE_PARTS)
def test_trickled_token_answers_are_complete_and_slow(
    servicetitan_fake: FakeServiceTitan, part: str
) -> None:
    client = servicetitan_fake.add_client(
        FakeClient("integration", behavior=f"trickle_{part}", trickle_rate=RATE)
    )
    chunks, elapsed = token_exchange(servicetitan_fake, client)
    data = b"".join(chunks)
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, _, headers = head.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    assert json.loads(body)["token_type"] == "Bearer"
    trickled = {"status": len(status_line) + 2, "headers": len(headers) + 4, "body": len(body)}
    assert elapsed >= 0.8 * trickled[part] / RATE
    assert sum(len(c) == 1 for c in chunks) >= trickled[part] - 1  # a byte per TLS record
    if part != "status":
        assert chunks[0].startswith(b"HTTP/1.1 200 OK\r\n")  # what comes first, comes at once


def test_the_probe_trickle_modes_are_registered_for_the_api() -> None:
    fake = FakeServiceTitan()
    for part in TRICKLE_PARTS:
        assert fake.behaviors[f"trickle_{part}"].token is not None
        assert fake.behaviors[f"probe_trickle_{part}"].probe is not None


def test_a_trickle_needs_a_known_part_and_a_positive_rate() -> None:
    with pytest.raises(ValueError):
        FakeResponse(200, trickle="everything")
    with pytest.raises(ValueError):
        FakeResponse(200, trickle="body", trickle_rate=0)


def test_stopping_the_fake_ends_a_trickle_at_once() -> None:
    with FakeServiceTitan() as fake:
        client = fake.add_client(
            FakeClient("integration", behavior="trickle_headers", trickle_rate=0.5)
        )
        host = AUTH_HOSTS["integration"]
        raw = socket.create_connection(fake.address, timeout=10)
        tls = fake.ssl_context().wrap_socket(raw, server_hostname=host)
        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
            }
        ).encode()
        tls.sendall(
            f"POST /connect/token HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(form)}\r\n\r\n".encode()
            + form
        )
        assert tls.recv(100).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
    assert time.monotonic() - started < 2  # stop() did not wait for the trickle
    tls.close()
