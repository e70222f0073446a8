"""The scrubber of outside text: fragments of resolved values, in any case and encoding.

Exception text, resolver messages and plugin output pass :meth:`SecretScrubber.mask`;
server-provided fields pass :meth:`SecretScrubber.shown`, which withholds the whole
field. A fragment the manifest itself holds is never a hit (no oracle).
"""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from stcheck.redact import REDACTED
from stcheck.scrubber import SecretScrubber, Sent

SECRET = "Zq8rT2vLm9Xc4Wb7Nf1Kp6Hs3"
SYMBOLS = "p@ss/w+rd=&%?#Zq8 rT2v!L;"


def scrubber(*values: str) -> SecretScrubber:
    scrub = SecretScrubber()
    for value in values:
        scrub.add(value)
    return scrub


@pytest.mark.parametrize(
    "shown",
    [
        SECRET,
        SECRET.upper(),
        SECRET.lower(),
        SECRET[3:12],
        quote(SECRET + "%&", safe=""),
        base64.b64encode(f"cid.client:{SECRET}".encode()).decode(),
        base64.urlsafe_b64encode(b"x" + SECRET.encode()).decode(),
        SECRET.encode().hex(),
        SECRET.encode().hex().upper(),
    ],
)
def test_mask_replaces_a_run_holding_a_fragment_in_any_form(shown: str) -> None:
    assert scrubber(SECRET).mask(f"KeyError: '{shown}' at x") == f"KeyError: '{REDACTED}' at x"


def test_a_value_with_separators_is_masked_where_it_occurs() -> None:
    assert REDACTED in scrubber(SYMBOLS).mask(f"failed: {SYMBOLS.upper()}")
    assert REDACTED in scrubber(SYMBOLS).mask(f"failed: {quote(SYMBOLS)}")


def test_text_without_fragments_is_unchanged() -> None:
    text = "ConnectionError: the vault at vault.example refused the connection (503)"
    assert scrubber(SECRET, SYMBOLS).mask(text) == text


def test_what_the_manifest_holds_is_never_a_hit() -> None:
    scrub = scrubber(SECRET)
    scrub.add_manifest_text(f"client_secret: file:{SECRET[:9]}")
    assert scrub.mask(f"no such file: {SECRET[:9]}") == f"no such file: {SECRET[:9]}"
    assert scrub.mask(f"echo {SECRET}") == f"echo {REDACTED}"  # the rest is still secret


def test_manifest_text_kept_compressed_is_still_never_a_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stcheck.scrubber import _ManifestText

    monkeypatch.setattr(_ManifestText, "KEPT_AS_IS", 10)  # every manifest past the first
    scrub = scrubber(SECRET)
    scrub.add_manifest_text("version: 1\n" * 3)
    scrub.add_manifest_text(f"client_secret: file:{SECRET[:9]}")  # kept compressed
    assert any(isinstance(part, bytes) for part in scrub._manifest._parts)
    assert scrub.mask(f"no such file: {SECRET[:9]}") == f"no such file: {SECRET[:9]}"
    assert scrub.mask(f"echo {SECRET}") == f"echo {REDACTED}"


def test_jwt_tokens_are_left_to_the_shape_and_not_indexed() -> None:
    token = "eyJhbGciOiJub25lIn0.eyJzY29wZSI6InRuLnN0dC5idXNpbmVzc3VuaXRzOnIifQ.c2ln"
    scrub = scrubber(token)
    assert not scrub._windows


@pytest.mark.parametrize(
    "text", ["x7Qk9", "X7QK9 denied", quote("x7Qk9"), base64.b64encode(b"x7Qk9").decode()]
)
def test_a_short_secret_makes_server_text_unshowable(text: str) -> None:
    assert scrubber("x7Qk9").shown(f"token {text}") is None


def test_six_characters_of_a_value_sent_withhold_a_server_field() -> None:
    scrub = SecretScrubber()
    assert scrub.shown(f"app key part {SECRET[7:13]} denied", sent=[SECRET]) is None
    assert scrub.shown(f"app key part {SECRET[7:12]} denied", sent=[SECRET]) is not None
    assert scrub.shown("Forbidden", sent=[SECRET]) == "Forbidden"


@pytest.mark.parametrize("prepared", [False, True])
def test_values_sent_prepared_once_withhold_every_field_that_shows_them(prepared: bool) -> None:
    """A token answer's scopes are checked against one Sent, built once per request."""
    values = [SECRET, " k3Y9 "]  # a long value and a short one (stripped)
    sent = Sent(values) if prepared else values
    scrub = SecretScrubber()
    fields = [f"scope.{SECRET[3:9].upper()}", "tn.k3y9:r", "tn.stt.businessunits:r", SECRET[:5]]
    assert [scrub.shown(f, sent) for f in fields] == [
        None,
        None,
        "tn.stt.businessunits:r",
        SECRET[:5],
    ]


def test_server_text_is_made_printable_and_short() -> None:
    scrub = SecretScrubber()
    assert scrub.shown("bad\nthing\x1b[31m") == "bad thing [31m"
    assert len(scrub.shown("x" * 500, limit=160) or "") == 160


def test_every_fragment_of_many_values_is_found_after_the_index_grows() -> None:
    values = [f"{index:05d}Vq{index * 7919:09d}Lm{index:04x}" for index in range(3000)]
    scrub = scrubber(*values)
    assert len(scrub._windows) > 40_000  # grown many times past its first 1,024 slots
    for value in values[::97]:
        assert scrub.mask(f"echo {value[4:14]} end") == f"echo {REDACTED} end"
    assert scrub.mask("echo QwErTyUiOp-ZxCv end") == "echo QwErTyUiOp-ZxCv end"


APP_KEY = "Zq7Wm3Rt9Lp2Xv8Nk4Hs6Jd1"


def _encodings(value: str) -> dict[str, str]:
    import codecs

    data = value.encode()
    return {
        "dash-chunks": "-".join(value[i : i + 5] for i in range(0, len(value), 5)),
        "interleaved": " ".join(value),
        "dotted": ".".join(value),
        "reversed": value[::-1],
        "base32": base64.b32encode(data).decode(),
        "html-entities": "".join(f"&#{ord(c)};" for c in value),
        "quoted-printable": "".join(f"={b:02X}" for b in data),
        "spaced-hex": " ".join(f"{b:02x}" for b in data),
        "full-width": "".join(chr(ord(c) + 0xFEE0) for c in value),
        "rot13": codecs.encode(value, "rot13"),
        "base64-reversed": base64.b64encode(value[::-1].encode()).decode(),
    }


@pytest.mark.parametrize("style", list(_encodings(APP_KEY)))
def test_a_server_field_echoing_a_sent_value_in_another_encoding_is_withheld(style: str) -> None:
    """The red team's second round of server echoes (each showed the whole app key)."""
    echoed = f"bad {_encodings(APP_KEY)[style]}"
    assert SecretScrubber().shown(echoed, sent=[APP_KEY]) is None


def test_ordinary_server_titles_are_still_shown() -> None:
    title = "The application is not authorized for this tenant. (traceId 00-7bc698af0cd3-00)"
    assert SecretScrubber().shown(title, sent=[APP_KEY, "cid.abc", "s3cret-Value-9"]) == title


def test_a_hit_against_a_big_manifest_costs_a_substring_test_not_its_decodings() -> None:
    """Decoding every line of a 6.5 MB manifest on the first hit took 28 s (a manifest
    could make every server echo that slow); the exemption now looks at the run only."""
    import time

    manifest = "\n".join(
        f"  - name: tenant-{i:05d}\n    owner: ops{i}@acme.example" for i in range(60_000)
    )
    scrub = scrubber(SECRET)
    scrub.add_manifest_text(manifest)
    started = time.process_time()
    assert scrub.mask(f"echo {SECRET[:10]} here") == f"echo {REDACTED} here"
    assert scrub.mask("owner ops59999@acme.example echoed") == "owner ops59999@acme.example echoed"
    assert time.process_time() - started < 2.0


# 2 * between + 1 values come in after the field was judged: up to RECENT they are compared
# one by one (0, 1, RECENT // 2 - 1: 127 values, the edge), past it the whole index is.
@pytest.mark.parametrize(
    "between",
    [
        0,
        1,
        SecretScrubber.RECENT // 2 - 1,
        SecretScrubber.RECENT // 2,
        SecretScrubber.RECENT - 1,
        SecretScrubber.RECENT + 5,
    ],
)
def test_a_kept_field_is_withheld_whatever_was_indexed_since_it_was_last_judged(
    between: int,
) -> None:
    """A field seen again is compared with the values indexed since (kept as strings) or,
    when more came in than are kept, with the whole index: both find a value added later."""
    scrub = SecretScrubber()
    field = "scope tn.stt." + SECRET[:9] + ":r"
    for _ in range(3):
        assert scrub.shown(field) == field  # kept from the second sight on
    for index in range(between):
        scrub.add(f"unrelated-value-{index:06d}-xq")
    scrub.add(SECRET)
    for index in range(between):
        scrub.add(f"more-unrelated-{index:06d}-zw")
    assert scrub.shown(field) is None
    assert scrub.shown(field) is None


def test_a_field_seen_again_is_judged_against_the_values_known_now() -> None:
    """Decodings are reused for a field that comes up again, verdicts never: a value
    resolved after the field was first shown, or sent with a later request, withholds it."""
    scrub = SecretScrubber()
    field = "scope tn.stt." + base64.b64encode(SECRET[:12].encode()).decode() + ":r"
    assert scrub.shown(field) == field
    assert scrub.shown(field) == field  # the second sight: its decodings are kept
    assert scrub.shown(field, sent=(SECRET,)) is None  # 6 characters of a value sent
    assert scrub.shown(field) == field
    scrub.add(SECRET)
    assert scrub.shown(field) is None  # 8 characters of a value resolved since
    assert scrub.shown(field) is None
