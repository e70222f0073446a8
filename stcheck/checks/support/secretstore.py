"""The run's resolved secrets: each credential reference resolved once, kept in memory only.

Used by the ``credentials`` check (which reports on every reference) and by
the ``token`` and ``api`` checks (which resolve lazily when ``credentials`` was
deselected). Values are registered with the output redactor as they are
resolved and never put on a result.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stcheck.api import ReferenceScheme, ResolveContext, ResolveReferenceError
from stcheck.boundary import Boundary
from stcheck.checks.references import REFERENCE
from stcheck.checks.support.services import shared
from stcheck.confine import has_control, repository_root
from stcheck.net.singleflight import SingleFlight
from stcheck.reasons import REASONS
from stcheck.redact import shown_scheme, suggested_scheme
from stcheck.text import clipped

RESOLVER_MESSAGE_CHARS = 300
"""The most of a resolver's own message a result quotes."""

if TYPE_CHECKING:
    from stcheck.api import CheckContext


NOT_SHOWN = "(not shown)"
"""``Resolved.reference`` of a credential field that is no usable reference: maybe a secret."""


@dataclass(frozen=True)
class Resolved:
    """A reference after resolution: the value (stripped; never shown) or why there is none."""

    reference: str
    value: str | None = field(default=None, repr=False)
    reason: str | None = None
    message: str = ""
    warnings: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.value is not None


class SecretStore:
    """The run's resolved secrets, in memory only: each reference resolved once per run.

    Keyed by (manifest directory, reference), since ``file:`` paths are
    relative to the manifest. Values are registered with the output redactor
    as they are resolved. Thread-safe: entry checks resolve lazily when the
    ``credentials`` check did not run.
    """

    def __init__(
        self,
        schemes: Mapping[str, ReferenceScheme],
        on_secret: Any = None,
        env_allow: tuple[str, ...] | None = None,
        scrub: Callable[[str], str] | None = None,
    ) -> None:
        self._schemes = schemes
        self._on_secret = on_secret
        self._scrub = scrub
        self._env_allow = env_allow
        self._roots: dict[str, str] = {}
        self._cache: SingleFlight[tuple[str, str], Resolved] = SingleFlight()
        self._lock = threading.Lock()
        self._checked: set[str] = set()

    def resolve(self, manifest_dir: str, reference: Any) -> Resolved:
        if not isinstance(reference, str):
            return Resolved(
                str(reference),
                reason="depends_on_failure",
                message="the field is not a reference (see the schema check)",
            )
        value, _ = self._cache.get(
            (manifest_dir, reference), lambda: self._resolve(manifest_dir, reference)
        )
        return value

    def _presume_secret(self, value: str) -> None:
        """A credential field that is no usable reference may be the secret itself: mask it."""
        if self._on_secret is not None:
            self._on_secret(value)

    def mark_checked(self, manifest_path: str) -> None:
        with self._lock:
            self._checked.add(manifest_path)

    def checked(self, manifest_path: str) -> bool:
        """True when the ``credentials`` check reported on this manifest's references."""
        with self._lock:
            return manifest_path in self._checked

    def _resolve(self, manifest_dir: str, reference: str) -> Resolved:
        """Resolve one reference: find its scheme, call its resolver, vet what it returned."""
        found = self._scheme(reference)
        if isinstance(found, Resolved):
            return found
        scheme, scheme_name, rest = found
        warnings: list[tuple[str, str]] = []
        context = self._context(manifest_dir, warnings)
        raw = self._call(scheme, scheme_name, rest, reference, context)
        if isinstance(raw, Resolved):
            return raw
        return self._vetted(reference, raw, warnings)

    def _scheme(self, reference: str) -> tuple[ReferenceScheme, str, str] | Resolved:
        """The reference's scheme (with its name and the rest), or why it has none usable."""
        match = REFERENCE.match(reference)
        if match is None:
            self._presume_secret(reference)
            return Resolved(
                NOT_SHOWN,
                reason="depends_on_failure",
                message="the value is not a SCHEME:REST reference"
                " (the value is not shown; see the references check)",
            )
        scheme_name, rest = match.groups()
        scheme = self._schemes.get(scheme_name)
        if scheme is None:
            return self._unknown_scheme(reference, scheme_name)
        if scheme.resolve is None:
            return Resolved(
                reference,
                reason="unresolved_reference",
                message=f"the {scheme_name}: scheme cannot resolve references",
            )
        return scheme, scheme_name, rest

    def _unknown_scheme(self, reference: str, scheme_name: str) -> Resolved:
        shown = shown_scheme(scheme_name, self._schemes)
        if shown is None:  # ``mypassword:Summer2024`` is SCHEME:REST too
            self._presume_secret(reference)
            return Resolved(
                NOT_SHOWN,
                reason="depends_on_failure",
                message="the value is not a reference with a known scheme"
                " (an unknown reference scheme, not shown; see the references check)",
            )
        typo = suggested_scheme(shown, self._schemes)
        hint = f"; did you mean {typo}:?" if typo else ""
        return Resolved(
            reference,
            reason="depends_on_failure",
            message=f"no loaded plugin provides the {shown}: scheme{hint}"
            " (see the references check)",
        )

    def _call(
        self,
        scheme: ReferenceScheme,
        scheme_name: str,
        rest: str,
        reference: str,
        context: ResolveContext,
    ) -> str | Resolved:
        """The resolver's text, or what to report instead (its refusal, its crash, a non-text)."""
        assert scheme.resolve is not None
        raw: Any = None
        with Boundary() as boundary:
            raw = scheme.resolve(rest, context)
        exc = boundary.failure
        if isinstance(exc, ResolveReferenceError):
            reason = exc.reason if isinstance(exc.reason, str) else ""
            if reason not in REASONS and "." not in reason:
                reason = "unresolved_reference"
            return Resolved(reference, reason=reason, message=f"{reference}: {self._said(exc)}")
        if exc is not None:  # a resolver broke (even sys.exit()); its text may hold anything
            return Resolved(
                reference,
                reason="plugin_error",
                message=f"{reference}: the {scheme_name}: resolver failed ({type(exc).__name__})",
            )
        if not isinstance(raw, str):
            return Resolved(
                reference,
                reason="unresolved_reference",
                message=f"{reference}: the {scheme_name}: resolver returned"
                f" {type(raw).__name__}, not text",
            )
        return raw

    def _context(self, manifest_dir: str, warnings: list[tuple[str, str]]) -> ResolveContext:
        """What a resolver is given; its warnings land in ``warnings`` (unknown words vetted)."""

        def warn(reason: str, message: str) -> None:
            warnings.append(
                (reason if reason in REASONS or "." in reason else "invalid_value", message)
            )

        return ResolveContext(
            manifest_dir=manifest_dir,
            warn=warn,
            root=self._root(manifest_dir),
            env_allow=self._env_allow,
        )

    def _vetted(self, reference: str, raw: str, warnings: list[tuple[str, str]]) -> Resolved:
        """The resolved text as a usable value (stripped), or why it cannot be used."""
        value = raw.strip()
        if has_control(value):
            # Refused before the redactor learns it: a multi-line "value" (a whole file, an
            # environment dump) would mask half the log. It is never sent and never shown.
            return Resolved(
                reference,
                reason="unusable_value",
                message=f"{reference} resolves to a value with a NUL, a line break or another"
                " control character inside (not shown); no credential has one, so it is not used",
            )
        if self._on_secret is not None:
            self._on_secret(raw)
        if not value:
            return Resolved(
                reference,
                reason="empty_value",
                message=f"{reference} resolves to an empty value",
                warnings=tuple(warnings),
            )
        if value != raw:
            warnings.insert(
                0,
                ("whitespace", f"{reference} has {_padding(raw)} whitespace (stripped before use)"),
            )
        return Resolved(reference, value=value, warnings=tuple(warnings))

    def _said(self, exc: ResolveReferenceError) -> str:
        """A resolver's message, fit to show: its refused value masked, scrubbed, shortened."""
        value = exc.value if isinstance(exc.value, str) else None
        if value and self._on_secret is not None and not has_control(value.strip()):
            self._on_secret(value)
        message = exc.message if isinstance(exc.message, str) else str(exc.message)
        if self._scrub is not None:
            message = self._scrub(message)
        return clipped(message, RESOLVER_MESSAGE_CHARS)

    def _root(self, manifest_dir: str) -> str:
        with self._lock:
            if manifest_dir not in self._roots:
                self._roots[manifest_dir] = repository_root(manifest_dir)
            return self._roots[manifest_dir]


def _padding(raw: str) -> str:
    """Where ``raw`` (which has some) has whitespace around it."""
    if raw[0].isspace() and raw[-1].isspace():
        return "leading and trailing"
    return "leading" if raw[0].isspace() else "trailing"


ENV_ALLOW_VARIABLE = "STCHECK_ENV_ALLOW"


def env_policy(options: tuple[str, ...], environ: Mapping[str, str]) -> tuple[str, ...] | None:
    """The allow-list of ``env:`` names: ``--allow-env`` patterns plus ``STCHECK_ENV_ALLOW``'s.

    None (every name allowed) only when neither is given. ``STCHECK_ENV_ALLOW``
    set but empty allows no name: a policy that went missing fails closed.
    """
    variable = environ.get(ENV_ALLOW_VARIABLE)
    if variable is None and not options:
        return None
    patterns = [p.strip() for p in (variable or "").split(",")] + [p.strip() for p in options]
    return tuple(p for p in patterns if p)


def secret_store(ctx: CheckContext) -> SecretStore:
    """The run's :class:`SecretStore` (created on first use)."""
    redactor = ctx.run.redactor
    on_secret = redactor.add_secret if redactor is not None else None
    scrub = redactor.secrets.mask if redactor is not None else None
    allow = env_policy(ctx.options.allow_env, os.environ)
    return shared(
        ctx,
        SecretStore,
        lambda: SecretStore(ctx.schemes, on_secret=on_secret, env_allow=allow, scrub=scrub),
    )
