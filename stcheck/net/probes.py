"""Which resource the ``api`` check probes, and what a 403 from it says.

Every ServiceTitan read needs a scope; a working token sent to a resource whose
scope the app lacks gets 403. So the probe is chosen from what the token says
it grants (when it says), and a 403 is explained with what is known about the
probe's scope. The scope table is :mod:`stcheck.servicetitan_scopes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stcheck.servicetitan_scopes import (
    DEFAULT_PROBE,
    PROBE_CANDIDATES,
    pick_probe,
    probe_scope,
)


@dataclass(frozen=True)
class ProbeChoice:
    """The probe to send and what is known about its scope.

    ``source`` is ``manifest`` (``app.probe``), ``default`` or ``token_scopes``
    (picked because the token's scopes lack the default's); ``scope`` is the
    scope the probe needs (None: not in stcheck's table); ``granted`` is
    whether the token's stated scopes include it (None: the token does not
    state scopes, or the scope is unknown); ``alternative`` is a probe the
    token's scopes allow, for advice.
    """

    probe: str
    source: str
    scope: str | None
    scopes: tuple[str, ...] | None
    alternative: str | None = None

    @property
    def granted(self) -> bool | None:
        if self.scopes is None or self.scope is None:
            return None
        return self.scope in self.scopes

    @property
    def facts(self) -> dict[str, str | tuple[str, ...]]:
        facts: dict[str, str | tuple[str, ...]] = {
            "probe": self.probe,
            "probe_source": self.source,
            "scopes_stated": "no" if self.scopes is None else "yes",
        }
        if self.scope is not None:
            facts["probe_scope"] = self.scope
        return facts

    @property
    def note(self) -> str:
        """Why this probe, when stcheck picked it (for a passing result)."""
        if self.source != "token_scopes":
            return ""
        default_scope = probe_scope(DEFAULT_PROBE)
        return (
            f" (probed {self.probe}, which needs {self.scope}: the token does not grant"
            f" {default_scope}, which the default probe {DEFAULT_PROBE} needs)"
        )

    def not_granted(self, tenant_id: int) -> str:
        """The ``probe_scope_not_granted`` message: why the 403 proves nothing, what to change."""
        where = (
            f"app.probe ({self.probe})"
            if self.source == "manifest"
            else f"the default probe {self.probe}"
        )
        text = (
            f"the token's scopes do not include {self.scope}, which {where} needs, so this"
            f" 403 cannot tell whether app key, token and tenant {tenant_id} work together."
        )
        if self.alternative is not None:
            return (
                f"{text} Set app.probe: {self.alternative} (it needs"
                f" {probe_scope(self.alternative)}, which the token grants), or grant"
                f" {self.scope} to the app and have the tenant's admin accept the new version"
            )
        known = ", ".join(f"{p} ({probe_scope(p)})" for p in PROBE_CANDIDATES)
        return (
            f"{text} The token grants none of the scopes of the probes stcheck can pick"
            f" ({known}): set app.probe to a low-PII list the app can read, or grant {self.scope}"
            " to the app and have the tenant's admin accept the new version"
        )

    def forbidden(self, tenant_id: int) -> str:
        """The message of ``forbidden``: the likely causes, most likely first."""
        if self.granted:
            return (
                f"the token works and grants {self.scope}, which this probe needs, so most"
                f" likely tenant_id {tenant_id} is not this client pair's tenant; else the"
                " tenant's admin has not accepted the app's current scope version"
            )
        needs = (
            f"{self.scope}, which {self.probe} needs"
            if self.scope is not None
            else f"the scope {self.probe} needs"
        )
        stated = "" if self.scopes is not None else " (the token does not state its scopes)"
        return (
            f"the token works, so most likely first: tenant_id {tenant_id} is not this client"
            f" pair's tenant; the app lacks {needs}{stated}; or the tenant's admin has not"
            " accepted the app's new scope version"
        )


def choose_probe(configured: Any, scopes: Sequence[str] | None) -> ProbeChoice:
    """The probe for one entry: ``app.probe`` if set, else one the token's scopes allow.

    ``configured`` must already be a valid ``app.probe`` or None. Without
    stated scopes the default is probed, as it always was.
    """
    stated = tuple(scopes) if scopes is not None else None
    alternative = pick_probe(stated) if stated is not None else None
    if isinstance(configured, str):
        if alternative == configured:
            alternative = None
        return ProbeChoice(configured, "manifest", probe_scope(configured), stated, alternative)
    if stated is None or alternative in (None, DEFAULT_PROBE):
        return ProbeChoice(DEFAULT_PROBE, "default", probe_scope(DEFAULT_PROBE), stated)
    assert alternative is not None
    return ProbeChoice(alternative, "token_scopes", probe_scope(alternative), stated)
