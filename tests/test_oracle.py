"""No oracle: the same manifest text gives the same output whether or not it matches a secret.

The red team's round against the first design: a CI secret with a public
prefix (``ghs_`` + 3 known characters) is resolved by the manifest
(``app_key: env:CI_TOKEN``), and 62 manifests each echo one candidate for the
next character — as a ``file:`` path that does not exist and as an ``env:``
name that is not set. When output masking keyed on resolved values, exactly
the right candidate came back as ``[REDACTED]``, one character per round.
Here every candidate's output must be the same text with the candidate
substituted, in every format.
"""

from __future__ import annotations

import io
import re
import string
from pathlib import Path

import pytest

from stcheck.cli import main

SECRET = "ghs_Ab3xK9mQ2vL7pR4sT8wY1zC6nF0hJ5dG"
KNOWN = SECRET[:7]
CANDIDATES = string.ascii_letters + string.digits
MANIFEST = """\
version: 1
app:
  name: oracle
  app_key: env:CI_TOKEN
tenants:
  - name: guess
    environments:
      integration:
        tenant_id: 1234567
        client_id: env:{guess}
        client_secret: file:{guess}
"""


def _run(tmp_path: Path, guess: str, fmt: str) -> str:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(MANIFEST.format(guess=guess), encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(
        ["check", str(manifest), "--select", "credentials", "--format", fmt, "-v"],
        stdout=stdout,
        stderr=stderr,
    )
    assert code == 1, stderr.getvalue()
    # The candidate as written, or as a format escapes it (markdown writes _ as &#95;).
    written = re.escape(guess).replace("_", "(?:_|&#95;|\\\\_)")
    text = re.sub(written, "<GUESS>", stdout.getvalue() + stderr.getvalue())
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)?|\d+\.\d+(?:e-?\d+)?", "N", text)


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "markdown", "junit"])
def test_a_round_of_62_candidates_gives_62_identical_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("CI_TOKEN", SECRET)
    outputs = {c: _run(tmp_path, KNOWN + c, fmt) for c in CANDIDATES}
    right = outputs[SECRET[7]]
    assert "<GUESS>" in right  # the candidate is echoed as written
    assert "[REDACTED]" not in right
    different = [c for c, text in outputs.items() if text != right]
    assert not different, f"candidates {different} changed the output"


def _percent(text: str) -> str:
    return "".join(f"%{ord(ch):02x}" for ch in text)


def _base64_name(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode().rstrip("=")


ENCODED = MANIFEST.replace("env:{guess}", "env:{name}").replace("file:{guess}", "file:{path}")


@pytest.mark.parametrize(
    ("encode", "index"),
    [
        pytest.param(lambda known, c: _percent(known) + c, 7, id="percent-encoded-path"),
        pytest.param(
            lambda known, c: _percent(known[:1]) + known[1:] + c, 7, id="one-char-encoded"
        ),
        pytest.param(lambda known, c: _base64_name(known + c), 7, id="base64-env-name"),
    ],
)
def test_candidates_written_encoded_give_identical_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encode: object, index: int
) -> None:
    """The red team's second round: the candidate percent-encoded or in base64, so that only
    the scrubber's decoding could match it with the secret."""
    monkeypatch.setenv("CI_TOKEN", SECRET)
    outputs = {}
    for candidate in CANDIDATES:
        guess = encode(KNOWN, candidate)  # type: ignore[operator]
        name = guess if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", guess) else "UNSET_NAME"
        manifest = tmp_path / "stcheck.yaml"
        manifest.write_text(ENCODED.format(name=name, path=guess), encoding="utf-8")
        stdout, stderr = io.StringIO(), io.StringIO()
        main(
            ["check", str(manifest), "--select", "credentials", "--format", "json"],
            stdout=stdout,
            stderr=stderr,
        )
        text = (stdout.getvalue() + stderr.getvalue()).replace(guess, "<GUESS>")
        outputs[candidate] = re.sub(r"\d+\.\d+(?:e-?\d+)?|\d{4}-\d\d-\d\dT[\d:+]+", "N", text)
    right = outputs[SECRET[index]]
    assert "[REDACTED]" not in right
    assert not [c for c, text in outputs.items() if text != right]
