"""The leak matrix: secret styles × ways a server echoes them × every output format.

Each run registers, with the fake, one tenant per echo behaviour: the token
endpoint or the API answers with the client secret (or the app key) written
verbatim, URL-encoded, base64 (as in ``Basic base64(id:secret)``),
upper-cased or hex, inside ``error_description``, the OAuth ``error`` name,
``token_type``, a redirect's ``Location``, ``Retry-After``, an RFC 7807
``title`` or ``traceId``, or spread in 7-character chunks over several
answers. Then ``stcheck report`` (which runs every check) writes every format,
and no run of 6 characters of a secret — in any case — may appear anywhere.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote

import pytest

from stcheck.testing.fake import (
    BehaviorContext,
    FakeClient,
    FakeResponse,
    json_response,
    oauth_error_response,
    problem_response,
)

from .conftest import Harness
from .test_secret_envelope import written

STYLES = {
    "plain": "Zq8rT2vLm9Xc4Wb7Nf1Kp6Hs3",
    "symbols": "p@ss/w+rd=&%?#Zq8 rT2v!L;",
    "unicode": "pässwörd-秘密-Zq8rT2vLm9ü",
    "short": "x7Qk9",
    "base64-like": "dGhpc2lzYXNlY3JldA==Zq8r",
}
APP_KEYS = {  # header values must be Latin-1: the unicode style keeps an ASCII app key
    "plain": "ak1.Hs3Kp6Nf1Wb7Xc4Lm9T2rZq8",
    "symbols": "ak1.Hq3@Wm/+Ys=&%Tx9!Nb#Vc",
    "unicode": "ak1.Yw2Rt5Ui8Op1As4Df7Gh0",
    "short": "k9Q7x",
    "base64-like": "YWsxLnNlY3JldGtleQ==Hs3K",
}
ENCODINGS: dict[str, Callable[[str, str], str]] = {
    "verbatim": lambda value, _id: value,
    "url-encoded": lambda value, _id: quote(value, safe=""),
    "base64": lambda value, client_id: base64.b64encode(f"{client_id}:{value}".encode()).decode(),
    "upper-case": lambda value, _id: value.upper(),
    "hex": lambda value, _id: value.encode().hex(),
}
CHUNKS = 5


def _token_echoes(
    encode: Callable[[str, str], str],
) -> dict[str, Callable[..., FakeResponse | None]]:
    def secret(ctx: BehaviorContext) -> str:
        return encode(ctx.form.get("client_secret", ""), ctx.form.get("client_id", ""))

    def name_of(text: str) -> str:
        word = "".join(c for c in text.lower() if c.isalnum() or c == "_")
        return ("x" + word)[:60]

    return {
        "error_description": lambda ctx: oauth_error_response(
            "invalid_client", description=f"bad secret {secret(ctx)}"
        ),
        "error_name": lambda ctx: oauth_error_response(name_of(secret(ctx))),
        "token_type": lambda ctx: ctx.issue_token(token_type=secret(ctx)),
        "location": lambda ctx: FakeResponse(
            302, headers={"Location": f"https://auth.servicetitan.io/{secret(ctx)}"}
        ),
        "retry_after": lambda ctx: json_response(
            429, {"error": "slow_down"}, headers={"Retry-After": secret(ctx)[:40]}
        ),
    }


def _probe_echoes(encode: Callable[[str], str]) -> dict[str, Callable[..., FakeResponse | None]]:
    def key(ctx: BehaviorContext) -> str:
        return encode(ctx.headers.get("st-app-key", ""))

    def trace(ctx: BehaviorContext) -> FakeResponse:
        response = problem_response(403, "Forbidden")
        document = json.loads(response.body)
        document["traceId"] = key(ctx)[:60]
        return json_response(403, document)

    return {
        "title": lambda ctx: problem_response(403, f"app key {key(ctx)} not allowed"),
        "trace_id": trace,
    }


def _chunked(ctx: BehaviorContext, index: int) -> FakeResponse:
    app_key = ctx.headers.get("st-app-key", "")
    return problem_response(403, f"app key part {app_key[index * 7 : index * 7 + 7]} denied")


def _needles(value: str) -> set[str]:
    """Every run of 6 characters of ``value`` past its public shape prefix, lower-cased."""
    body = value.removeprefix("ak1.").lower()
    if len(body) < 6:
        return {body}
    return {body[i : i + 6] for i in range(len(body) - 5)}


def _decoded(outputs: dict[str, str]) -> dict[str, str]:
    """The outputs, lower-cased, with JSON documents also re-read (escaped unicode decoded)."""
    seen = {where: text.lower() for where, text in outputs.items()}
    for where, text in outputs.items():
        if where.endswith((" stdout (json)", " --output json")):
            seen[f"{where} (decoded)"] = json.dumps(json.loads(text), ensure_ascii=False).lower()
    return seen


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("style", list(STYLES))
def test_no_fragment_of_a_secret_reaches_any_output(
    harness: Harness, style: str, encoding: str
) -> None:
    harness.fake.app_key = APP_KEYS[style]
    harness.monkeypatch.setenv("T_APP_KEY", harness.fake.app_key)
    secrets = [harness.fake.app_key]
    for name, echo in _token_echoes(ENCODINGS[encoding]).items():
        harness.fake.add_behavior(f"echo_{name}", token=echo)
        client = FakeClient("integration", client_secret=STYLES[style] + name[:3])
        client.behavior = f"echo_{name}"
        harness.fake.add_client(client)
        harness.add(name.replace("_", "-"), client=client)
        secrets.append(client.client_secret)
    for name, echo in _probe_echoes(lambda text: ENCODINGS[encoding](text, "")).items():
        harness.fake.add_behavior(f"echo_{name}", probe=echo)
        harness.add(name.replace("_", "-"), "production", behavior=f"echo_{name}")
    for index in range(CHUNKS):
        harness.fake.add_behavior(
            f"chunk_{index}", probe=lambda ctx, index=index: _chunked(ctx, index)
        )
        harness.add(f"chunk-{index}", "production", behavior=f"chunk_{index}")

    outputs = _decoded(written(harness, "report"))

    found = [
        (where, needle)
        for value in secrets
        for needle in _needles(value)
        for where, text in outputs.items()
        if needle in text
    ]
    assert not found, found[:5]
