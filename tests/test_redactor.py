"""The output redactor: exact values, fragments of 8 or more characters, shapes — and valid output.

Performance is measured, not asserted: ``python tests/test_redactor.py``
times a 6,000-line text against 4,000 registered 50-character secrets.
"""

from __future__ import annotations

import json
import random
import string
import threading
import time

import pytest

from stcheck.net.servicetitan import NOT_SHOWN, scrub
from stcheck.redact import (
    REDACT_MIN,
    REDACTED,
    Redactor,
    shown_scheme,
    suggested_scheme,
)

SECRET = "cs1.rydqpupgot7k2m9xw4vb8n3fq6hj1lz5tc0ae"
KNOWN = ("env", "file")


def test_an_exact_value_is_masked() -> None:
    redactor = Redactor([SECRET])
    assert redactor(f"x {SECRET} y") == f"x {REDACTED} y"
    assert redactor(f'{{"message": "{SECRET}"}}') == f'{{"message": "{REDACTED}"}}'


def test_a_value_is_registered_stripped() -> None:
    redactor = Redactor([f"  {SECRET}\n"])
    assert redactor(f"<{SECRET}>") == f"<{REDACTED}>"


@pytest.mark.parametrize("start", [0, 3, 14, len(SECRET) - REDACT_MIN])
def test_a_fragment_of_eight_characters_is_masked_with_what_it_is_glued_to(start: int) -> None:
    fragment = SECRET[start : start + REDACT_MIN]
    redactor = Redactor([SECRET])
    assert redactor(f"secret {fragment} disabled") == f"secret {REDACTED} disabled"
    assert redactor(f"secret=xx{fragment}... disabled") == f"{REDACTED} disabled"


def test_a_server_echo_of_the_first_14_characters_is_masked() -> None:
    redactor = Redactor([SECRET])
    text = f"invalid_client (secret {SECRET[:14]}... disabled)"
    assert redactor(text) == f"invalid_client (secret {REDACTED} disabled)"


def test_fragments_shorter_than_eight_characters_are_left() -> None:
    redactor = Redactor([SECRET])
    assert redactor(f"x {SECRET[:7]} y") == f"x {SECRET[:7]} y"


def test_text_without_registered_values_is_unchanged() -> None:
    redactor = Redactor([SECRET])
    text = "GET /settings/v2/tenant/1234567/business-units answered HTTP 403: Forbidden\n" * 3
    assert redactor(text) == text


@pytest.mark.parametrize("value", ["true", "null", "2024", "prod", "abc1234", "       x"])
def test_values_shorter_than_eight_characters_are_not_registered(value: str) -> None:
    redactor = Redactor()
    redactor.add(value)
    text = f"{value} and {value.strip()}!"
    assert redactor(text) == text


def test_json_stays_valid_when_a_short_secret_is_true() -> None:
    document = {
        "builtin": True,
        "enabled": False,
        "owner": None,
        "tenant_id": 12345678,
        "elapsed": 0.123456789,
        "message": "production entry passes",
    }
    text = json.dumps(document, indent=2)
    redactor = Redactor(["true", "false", "null", "prod"])
    assert json.loads(redactor(text)) == document


def test_a_value_with_other_characters_is_masked_whole_and_by_its_parts() -> None:
    redactor = Redactor(["mypassword:Summer2024", "hunter2 is my pass"])
    assert redactor("key mypassword:Summer2024.") == f"key {REDACTED}."
    assert redactor("scheme 'mypassword' rest Summer2024") == (
        f"scheme '{REDACTED}' rest {REDACTED}"
    )
    assert redactor("pass: hunter2 is my pass") == f"pass: {REDACTED}"


def test_credential_shapes_are_masked_without_registered_values() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"
    text = f"a {jwt} b ak1.{'x' * 20} c Bearer {'y' * 20}"
    assert Redactor()(text) == f"a {REDACTED} b {REDACTED} c {REDACTED}"


SHAPED = {
    "client ID": f"cid.{'q1' * 10}",
    "client secret": f"cs7.{'r2' * 10}",
    "app key": f"ak0.{'s3' * 10}",
    "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
    "bearer": f"bearer {'t4' * 10}",
    "Bearer": f"Bearer\t{'u5' * 10}",
}


@pytest.mark.parametrize("kind", sorted(SHAPED))
def test_each_shape_is_masked_alone_in_a_long_text(kind: str) -> None:
    # The shape pass skips the regex when a text holds no shape's literal part: each shape
    # alone, among 100 kB of text without any, must still be found.
    filler = "readiness unknown: 3 of 11 blocking items not checked (offline); " * 1_500
    text = f"{filler}[{SHAPED[kind]}]{filler}"
    assert Redactor()(text) == f"{filler}[{REDACTED}]{filler}"


@pytest.mark.parametrize(
    "text",
    [
        "cid. cs1. ak2. eyJ bearer",  # the literal parts without a credential after them
        "acid.x cs10.abcdefghijklmnopqrstu xak1.abcdefghijklmnopqrst",  # no word boundary
        "Bearer short",
        "",
    ],
)
def test_near_misses_of_the_shapes_are_left(text: str) -> None:
    assert Redactor()(text) == text


def test_values_added_from_threads_are_all_masked() -> None:
    redactor = Redactor()
    values = [f"thread-secret-{n:04d}-{'q' * 8}" for n in range(400)]

    def add(chunk: list[str]) -> None:
        for value in chunk:
            redactor.add(value)
            redactor("progress 1/2")

    threads = [threading.Thread(target=add, args=(values[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redactor("\n".join(values)) == "\n".join([REDACTED] * len(values))


def _population(count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits
    return ["cs1." + "".join(rng.choice(alphabet) for _ in range(46)) for _ in range(count)]


def _lines(count: int, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    return [
        f"stcheck.yaml:{10 + i}:20: fail [api] GET /settings/v2/tenant/{1000 + i}/business-units"
        f" answered HTTP 403: Forbidden (traceId 00-{rng.getrandbits(128):032x}"
        f"-{rng.getrandbits(64):016x}-00) (tenant-{i}/production)"
        for i in range(count)
    ]


def test_many_values_and_a_long_text() -> None:
    secrets = _population(4000)
    redactor = Redactor(secrets)
    lines = _lines(6000)
    lines[100] += f" echo {secrets[0][5:13]}"
    lines[4000] += f" echo {secrets[3999]}"
    masked = redactor("\n".join(lines)).split("\n")
    assert masked[100].endswith(f" echo {REDACTED}")
    assert masked[4000].endswith(f" echo {REDACTED}")
    assert sum(REDACTED in line for line in masked) == 2


def test_scrub_withholds_a_server_field_holding_a_fragment_of_a_value_sent() -> None:
    app_key = "ak1.9h67hpytk1q2w3e4r5t6y7u8i9o0"
    title = f"app key {app_key[:14]} not allowed"
    assert scrub(title, ("token", app_key)) == NOT_SHOWN
    assert scrub(f"bad secret {SECRET}", (SECRET,)) == NOT_SHOWN
    assert scrub("short abcd sent", ("abcd",)) == NOT_SHOWN
    assert scrub("Forbidden: tenant not allowed", (SECRET, app_key)) == (
        "Forbidden: tenant not allowed"
    )


@pytest.mark.parametrize("scheme", ["env", "file", "vault", "aws-sm", "op", "k8s", "doppler"])
def test_known_and_well_known_schemes_are_shown(scheme: str) -> None:
    assert shown_scheme(scheme, KNOWN) == scheme


@pytest.mark.parametrize(("scheme", "meant"), [("evn", "env"), ("fiel", "file"), ("envs", "env")])
def test_a_typo_of_a_known_scheme_is_shown_with_a_suggestion(scheme: str, meant: str) -> None:
    assert shown_scheme(scheme, KNOWN) == scheme
    assert suggested_scheme(scheme, KNOWN) == meant


@pytest.mark.parametrize(
    "scheme",
    ["mypassword", "hunter2", "filed2024", "summer2024", "Password", "p4ssw0rd", "x" * 13, "cs1"],
)
def test_anything_else_before_a_colon_is_not_shown(scheme: str) -> None:
    assert shown_scheme(scheme, KNOWN) is None


def benchmark() -> None:
    """Time the redactor on 6,000 result lines with 4,000 registered 50-character secrets."""
    secrets = _population(4000)
    started = time.perf_counter()
    redactor = Redactor(secrets)
    registered = time.perf_counter() - started
    text = "\n".join(_lines(6000))
    document = json.dumps({"results": [{"message": line} for line in _lines(6000)]}, indent=2)
    print(f"registering 4,000 secrets: {registered * 1000:.0f} ms")
    for name, sample in (("text", text), ("json", document)):
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            redactor(sample)
            best = min(best, time.perf_counter() - started)
        lines = sample.count("\n") + 1
        print(
            f"{name}: {lines} lines, {len(sample) / 1e6:.2f} MB: {best * 1000:.0f} ms (best of 5)"
        )
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        Redactor()(text)
        best = min(best, time.perf_counter() - started)
    print(f"text, no registered values (shape patterns only): {best * 1000:.0f} ms")


if __name__ == "__main__":
    benchmark()


def test_scan_text_finds_the_same_runs_in_ascii_and_other_text() -> None:
    """ASCII text is scanned through substring searches, other text by the regex: same runs."""
    from stcheck.redact import scan_text

    secret = "k9Fz2Lq8Xw3Rt6Yp1Mn4Bv7C"
    text = (
        f"a: cid.ABCDEFGHIJKLMNOPQRST\n# {secret} x.{secret}\n"
        "b: T00001_INT_CLIENT_SECRET\nc: abcdefghijklmnop.q\n"
        f"d: {'x' * 15} {'y' * 23} eyJhbGciOiJIUzI1.eyJzdWIiOiIx.abc\ne: {secret}"
    )
    ascii_found = scan_text(text)
    assert [(offset, run) for offset, _, run in ascii_found] == [
        (3, "cid.ABCDEFGHIJKLMNOPQRST"),
        (30, secret),
        (text.index(f"x.{secret}"), f"x.{secret}"),
        (text.index("eyJ"), "eyJhbGciOiJIUzI1.eyJzdWIiOiIx.abc"),
        (text.rindex(secret), secret),
    ]
    assert all(text[offset : offset + len(run)] == run for offset, _, run in ascii_found)
    assert scan_text(text + "\n# é") == ascii_found
    assert scan_text("é" + text) == [(o + 1, kind, run) for o, kind, run in ascii_found]


def test_scan_text_answers_what_the_plain_regex_scan_answers() -> None:
    """The fast scan (byte translation, substring searches, a cheap no for NAMES_LIKE_THIS)
    finds what the regex over every run of 16 token characters, judged in full, finds."""
    import random
    import re

    from stcheck.redact import SHAPES, high_entropy, scan_text

    def reference(text: str) -> list[tuple[int, str, str]]:
        found = []
        for match in re.finditer(r"[A-Za-z0-9+/=_.~-]{16,}", text):
            run = match.group()
            kind = next((name for name, pattern in SHAPES if pattern.search(run)), None)
            if kind is None and high_entropy(run):
                kind = "a high-entropy string (a key, password or token)"
            if kind is not None:
                found.append((match.start(), kind, run))
        return found

    rng = random.Random(7)
    pieces = [
        "T00001_INT_CLIENT_SECRET",
        "T00001_PROD_CLIENT_SECRET_X",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "A_B_C_D_E_F_G_H_I_J_K_L_M",
        "AB12_CD34-EF56_GH78_IJ90_KL",
        "k9Fz2Lq8Xw3Rt6Yp1Mn4Bv7C",
        "cid.ABCDEFGHIJKLMNOPQRST",
        "cs1.abcdefghijklmnopqrstu",
        "eyJhbGciOiJIUzI1.eyJzdWIiOiIx.abc",
        "Bearer abcdefghijklmnopq",
        "acme.example",
        "a.b",
        "tenant-00001",
        "env:",
        " ",
        "\n",
        "# ",
        ": ",
        "é",
        "_",
        "x" * 20,
    ]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        assert scan_text(text) == reference(text), text
