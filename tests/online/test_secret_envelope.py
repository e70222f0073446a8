"""The security envelope end to end: no value, and no fragment of one, in anything written.

A literal secret in a credential field, a password that reads as ``SCHEME:REST``,
and a server echoing the first 14 characters of the secret or the app key go
through the real command line (``stcheck check`` and ``stcheck report``, every
format on stdout or through ``--output``), and every byte written is searched.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from pathlib import Path

from stcheck.cli import main
from stcheck.net.servicetitan import NOT_SHOWN
from stcheck.testing.fake import (
    BehaviorContext,
    FakeClient,
    FakeResponse,
    oauth_error_response,
    problem_response,
)

from .conftest import Harness

FORMATS = {
    "check": ("text", "json", "github", "junit", "sarif", "markdown"),
    "report": ("text", "json", "github", "junit", "sarif", "markdown", "html"),
}
LITERAL_SECRET = "hunter2-is-my-pass-word"
LITERAL_APP_KEY = "mypassword:Summer2024"


def written(harness: Harness, command: str) -> dict[str, str]:
    """Everything ``command`` writes: stdout in JSON and in verbose text, stderr, every file."""
    manifest = str(harness.write())
    outputs: dict[str, str] = {}
    files = {fmt: harness.dir / f"{command}.{fmt}" for fmt in FORMATS[command]}
    runs = {
        "json": ["--format", "json", *(f"--output={fmt}={path}" for fmt, path in files.items())],
        "verbose text": ["--format", "text", "-v"],
    }
    for name, args in runs.items():
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main(
            [command, manifest, *args, *harness.fake.cli_args()], stdout=stdout, stderr=stderr
        )
        assert code in (0, 1), stderr.getvalue()
        outputs[f"{command} stdout ({name})"] = stdout.getvalue()
        outputs[f"{command} stderr ({name})"] = stderr.getvalue()
    for fmt, path in files.items():
        outputs[f"{command} --output {fmt}"] = Path(path).read_text(encoding="utf-8")
    json.loads(outputs[f"{command} stdout (json)"])  # still a valid document
    return outputs


def leaks(outputs: dict[str, str], needles: Iterable[str]) -> list[tuple[str, str]]:
    return [
        (where, needle) for where, text in outputs.items() for needle in needles if needle in text
    ]


def fragments(value: str, size: int = 8) -> set[str]:
    return {value[i : i + size] for i in range(len(value) - size + 1)}


def test_literal_credentials_appear_in_no_output(harness: Harness) -> None:
    harness.add("good")
    harness.add("good", "production")
    harness.app["app_key"] = LITERAL_APP_KEY
    harness.tenants["good"]["environments"]["integration"]["client_secret"] = LITERAL_SECRET
    needles = (LITERAL_SECRET, LITERAL_APP_KEY, "mypassword", "Summer2024", "hunter2")
    for command in ("check", "report"):
        assert not leaks(written(harness, command), needles)


def test_credentials_messages_name_no_value(harness: Harness) -> None:
    harness.add("good")
    harness.app["app_key"] = LITERAL_APP_KEY
    harness.tenants["good"]["environments"]["integration"]["client_secret"] = LITERAL_SECRET
    outcome = harness.run()
    app_key = next(r for r in outcome.find("credentials") if r["tenant"] is None)
    assert app_key["message"] == (
        "the value is not a reference with a known scheme"
        " (an unknown reference scheme, not shown; see the references check);"
        " depends on the references fail (unknown_scheme) at line 4, column 12"
    )
    entry = outcome.one("credentials", "good", "integration")
    assert "the value is not a SCHEME:REST reference (the value is not shown" in entry["message"]


def test_a_typo_of_a_scheme_is_named_with_a_suggestion(harness: Harness) -> None:
    harness.add("good")
    harness.app["app_key"] = "evn:T_APP_KEY"
    outcome = harness.run()
    app_key = next(r for r in outcome.find("credentials") if r["tenant"] is None)
    assert "the evn: scheme; did you mean env:?" in app_key["message"]


def test_server_echoes_of_secret_and_app_key_fragments_appear_in_no_output(
    harness: Harness,
) -> None:
    def echo_secret_prefix(ctx: BehaviorContext) -> FakeResponse | None:
        prefix = ctx.form["client_secret"][:14]
        return oauth_error_response("invalid_client", description=f"secret {prefix}... disabled")

    def echo_app_key_prefix(ctx: BehaviorContext) -> FakeResponse | None:
        prefix = ctx.headers.get("st-app-key", "")[:14]
        return problem_response(403, f"app key {prefix} not allowed for this tenant")

    harness.fake.add_behavior("echo_secret_prefix", token=echo_secret_prefix)
    harness.fake.add_behavior("echo_app_key_prefix", probe=echo_app_key_prefix)
    integration = harness.add("t", behavior="echo_secret_prefix")
    production = harness.add("t", "production", behavior="echo_app_key_prefix")

    outcome = harness.run()
    token = outcome.one("token", "t", "integration")
    assert (token["status"], token["reason"]) == ("fail", "invalid_client")
    assert "disabled" not in token["message"]  # error_description is never shown
    api = outcome.one("api", "t", "production")
    assert (api["status"], api["reason"]) == ("fail", "forbidden")
    assert "not allowed for this tenant" not in api["message"]  # withheld whole
    assert NOT_SHOWN in api["message"]

    secrets: list[str] = [harness.fake.app_key]
    for client in (integration, production):
        secrets += [client.client_id, client.client_secret]
    needles = {
        integration.client_secret[:14],
        harness.fake.app_key[:14],
        *(piece for value in secrets for piece in fragments(value)),
    }
    for command in ("check", "report"):
        assert not leaks(written(harness, command), needles)


def test_a_fragment_of_a_token_echoed_by_the_probe_is_masked(harness: Harness) -> None:
    def echo_token_middle(ctx: BehaviorContext) -> FakeResponse | None:
        token = ctx.headers.get("authorization", "").removeprefix("Bearer ")
        return problem_response(401, f"token ...{token[20:40]}... expired")

    harness.fake.add_behavior("echo_token_middle", probe=echo_token_middle)
    client = FakeClient("production", behavior="echo_token_middle")
    harness.fake.add_client(client)
    harness.add("t", "production", client=client)
    outcome = harness.run()
    api = outcome.one("api", "t", "production")
    assert (api["status"], api["reason"]) == ("fail", "token_rejected")
    assert "expired" not in api["message"]
    assert NOT_SHOWN in api["message"]
    (issued,) = harness.fake.api_requests("production")
    token = issued.headers["authorization"].removeprefix("Bearer ")
    assert not leaks({"stdout": outcome.stdout}, fragments(token))
