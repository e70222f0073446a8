"""ServiceTitan OAuth scope names: module abbreviations and the read scope of each probe.

A scope is ``tn.<module>.<resource>:r`` (read) or ``:w`` (write), e.g.
``tn.stt.businessunits:r``. The module part is an abbreviation of the API
module, not its path segment: the Settings API (``/settings/v2/...``) is
``tn.stt``, never ``tn.set`` or ``tn.settings``.

Sources (see the domain notes, ``shared/domain/servicetitan.md`` §2.2 and §9):

* ServiceTitan's OpenAPI 3.1 specs on the developer portal (``tenant-<module>-v2``)
  declare a scope per operation; ``settings/business-units`` needs
  ``tn.stt.businessunits:r`` (also what a public connector's 403 advice names
  after probing the live hosts).
* The one scope in ServiceTitan's own docs: ``tn.acc.invoices:r`` (first API call
  page, sample token).
* Scope lists from third-party code read off live tokens: ``tn.jpm.jobs:r``,
  ``tn.crm.customers:r``, ``tn.sal.estimates:r``, ``tn.inv.purchaseorders:r``,
  ``tn.tsm.tasks:r``, ``tn.jpm.jobcancelreasons:r``.

The resource part is the path's last segment without hyphens
(``job-cancel-reasons`` → ``jobcancelreasons``); :data:`PROBE_SCOPES` spells
the ones stcheck uses out rather than deriving them.

This is one table for both sides: stcheck's checks read it, and the fake
ServiceTitan (:mod:`stcheck.testing.fake`) enforces it, so a probe whose scope
is wrong here fails in stcheck's own tests only if the real name is known to
differ. Keep every row backed by a source above.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = [
    "DEFAULT_PROBE",
    "MODULE_ABBREVIATIONS",
    "PROBE_CANDIDATES",
    "PROBE_SCOPES",
    "ScopeName",
    "parse_scope",
    "pick_probe",
    "probe_scope",
    "safe_scopes",
    "scope_module",
    "suggest_scope",
]

MODULE_ABBREVIATIONS: Mapping[str, str] = {
    "acc": "accounting",
    "crm": "crm",
    "inv": "inventory",
    "jpm": "jpm",
    "pb": "pricebook",
    "rpr": "reporting",
    "sa": "service-agreements",
    "sal": "sales",
    "sp": "schedulingpro",
    "stt": "settings",
    "tlc": "telecom",
    "tms": "timesheets",
    "tsm": "taskmanagement",
}
"""Known scope module abbreviations → the API module path segment they stand for.

The abbreviations are those found in ServiceTitan's specs and in scopes read off
live tokens (§2.2, §9 of the domain notes). The module each one maps to is
read from the abbreviation where no source pairs them; it is used only to
suggest a correction for a scope written with the module's path name
(``tn.settings.…``). Other modules (dispatch, memberships, marketing, payroll,
…) surely have abbreviations too, but none is evidenced, so none is listed.
"""

PROBE_SCOPES: Mapping[str, str] = {
    "settings/business-units": "tn.stt.businessunits:r",
    "settings/tag-types": "tn.stt.tagtypes:r",
    "settings/employees": "tn.stt.employees:r",
    "crm/customers": "tn.crm.customers:r",
    "jpm/job-types": "tn.jpm.jobtypes:r",
}
"""The read scope a probe ``MODULE/RESOURCE`` needs (a 403 without it, however good
the credentials). ``settings/*`` and ``crm/customers`` are as the sources above
name them; ``jpm/job-types`` follows the same naming rule as
``jpm/job-cancel-reasons`` → ``tn.jpm.jobcancelreasons:r``."""

DEFAULT_PROBE = "settings/business-units"
"""The probe used when ``app.probe`` is not set and the token does not state its scopes."""

PROBE_CANDIDATES: tuple[str, ...] = (
    "settings/business-units",
    "settings/tag-types",
    "jpm/job-types",
)
"""Low-PII probes the ``api`` check may choose from the token's scopes, most preferred
first (configuration lists, no personal data). Employees and customers are in
:data:`PROBE_SCOPES` — so a configured probe on them gets the right advice — but
are never chosen: they return personal data."""

_SCOPE = re.compile(r"tn\.([a-z0-9]+)\.([a-z0-9]+):([rw])\Z")
_SHAPE = re.compile(r"tn\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9._-]{1,100}:[A-Za-z]{1,5})\Z")
_BY_PATH = {module: abbrev for abbrev, module in MODULE_ABBREVIATIONS.items()}


class ScopeName:
    """A parsed ``tn.<module>.<resource>:<r|w>`` scope."""

    __slots__ = ("access", "module", "resource")

    def __init__(self, module: str, resource: str, access: str) -> None:
        self.module = module
        self.resource = resource
        self.access = access

    def __str__(self) -> str:
        return f"tn.{self.module}.{self.resource}:{self.access}"


def parse_scope(text: str) -> ScopeName | None:
    """The parts of a well-formed scope, or None."""
    match = _SCOPE.match(text)
    return None if match is None else ScopeName(*match.groups())


def probe_scope(probe: str) -> str | None:
    """The read scope the probe ``MODULE/RESOURCE`` needs, when stcheck knows it."""
    return PROBE_SCOPES.get(probe.strip("/"))


def scope_module(text: str) -> str | None:
    """The module part of ``tn.<module>.<rest>``, or None when the text is not so shaped."""
    match = _SHAPE.match(text)
    return None if match is None else match.group(1)


def suggest_scope(text: str) -> str | None:
    """A did-you-mean for a scope whose module part is not a known abbreviation.

    Returns None when the module is known, or when nothing close enough exists.
    ``tn.set.businessunits:r`` → ``tn.stt.businessunits:r``;
    ``tn.settings.businessunits:r`` → ``tn.stt.businessunits:r``.
    """
    module = scope_module(text)
    if module is None or module in MODULE_ABBREVIATIONS:
        return None
    rest = text[len("tn.") + len(module) :]
    lowered = module.lower()
    if lowered in MODULE_ABBREVIATIONS:
        return f"tn.{lowered}{rest}"
    if lowered in _BY_PATH:
        return f"tn.{_BY_PATH[lowered]}{rest}"
    import difflib

    close = difflib.get_close_matches(lowered, list(MODULE_ABBREVIATIONS), n=1, cutoff=0.6)
    return f"tn.{close[0]}{rest}" if close else None


def pick_probe(scopes: Iterable[str]) -> str | None:
    """The first of :data:`PROBE_CANDIDATES` whose scope is among ``scopes``, else None."""
    granted = set(scopes)
    for candidate in PROBE_CANDIDATES:
        if PROBE_SCOPES[candidate] in granted:
            return candidate
    return None


_SCOPE_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}\Z")
MAX_SCOPE_FACTS = 100


def safe_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """The scope names fit to show as a result's facts: scope-shaped, at most 100 of them.

    Scopes come from the token endpoint's answer; anything not shaped like a
    scope name is left out of the facts (the comparison with
    ``app.required_scopes`` still sees every scope).
    """
    shown: list[str] = []
    for scope in scopes:
        if isinstance(scope, str) and _SCOPE_TEXT.match(scope) and scope not in shown:
            shown.append(scope)
            if len(shown) == MAX_SCOPE_FACTS:
                break
    return tuple(shown)
