"""The values that cross module boundaries: statuses, locations, results, the run report.

Everything here is immutable. Checks produce :class:`Result` objects; the runner
collects them into one :class:`RunReport`; reporters turn that into text.
Nothing here ever holds a secret value: results carry *references* to
credentials (``env:NAME``), never what they resolve to.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING

from stcheck.record import field, record
from stcheck.text import bound_fields

if TYPE_CHECKING:
    from stcheck.readiness import ReadinessView, TenantReadiness


class Status(str, Enum):
    """The closed set of result statuses, from best to worst.

    .. versionadded:: 0.1
    """

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"

    @property
    def is_failure(self) -> bool:
        """True for the statuses that make the run exit 1."""
        return self in (Status.FAIL, Status.ERROR)


STATUS_ORDER: tuple[Status, ...] = (
    Status.PASS,
    Status.WARN,
    Status.FAIL,
    Status.ERROR,
    Status.SKIP,
)


@record(frozen=True)
class Location:
    """Where in a manifest a result points: file, 1-based line and column, JSON pointer.

    .. versionadded:: 0.1
    """

    file: str
    line: int | None = None
    column: int | None = None
    pointer: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "pointer": self.pointer,
        }


MAX_MESSAGE_CHARS = 2_000
MAX_NAME_CHARS = 100
"""Bounds on a result's text: the safety net under :func:`stcheck.text.shown`.

Messages quote manifest text shortened already; a message or a tenant name
longer than this (a check that quoted a 15 MB value whole) is cut here, so no
result can turn into megabytes of output. A valid tenant name has at most 63
characters, so the ``tenant`` field of a valid manifest's results is never cut.
"""

_RESULT_LIMITS = {
    "message": MAX_MESSAGE_CHARS,
    "tenant": MAX_NAME_CHARS,
    "environment": MAX_NAME_CHARS,
}


@record(frozen=True)
class Waiver:
    """The manifest waiver that excuses a result (:mod:`stcheck.waivers`): why, who, until when.

    ``because`` and ``by`` are manifest text, cut to 500 and 320 characters.

    .. versionadded:: 0.3
    """

    because: str
    by: str
    until: str
    location: Location | None = None

    def __post_init__(self) -> None:
        bound_fields(self, {"because": 500, "by": 320, "until": 100})

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"because": self.because, "by": self.by, "until": self.until}
        if self.location is not None:
            out["location"] = self.location.as_dict()
        return out


@record(frozen=True)
class Result:
    """One finding of one check about one manifest, tenant or environment entry.

    ``reason`` is a word from the closed vocabulary in :mod:`stcheck.reasons`;
    ``hint`` is what to do about it. ``message`` must never contain a secret.
    ``message`` is cut at 2,000 characters, ``tenant`` and ``environment`` at 100.

    ``facts`` are structured, non-secret findings other checks may read instead
    of parsing ``message`` (a short name → a string or a tuple of strings). The
    built-in ones: the ``token`` check states ``scopes_stated`` (``"yes"`` or
    ``"no"``: did the token say which scopes it grants) and, when yes,
    ``scopes``; the ``api`` check states ``probe`` (the ``MODULE/RESOURCE`` it
    read), ``probe_source`` (``manifest``, ``default`` or ``token_scopes``),
    ``probe_scope`` (the scope it needs, when known) and ``scopes_stated``.

    ``baseline`` is ``"known"`` when a ``--baseline`` report already had this
    finding, ``"new"`` when it did not (None without a baseline, and on passes
    and skips); see :attr:`counts`.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
       ``facts``, ``baseline``.
    """

    check: str
    status: Status
    message: str
    reason: str | None = None
    tenant: str | None = None
    environment: str | None = None
    location: Location | None = None
    hint: str | None = None
    duration: float | None = None
    facts: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict, hash=False)
    waiver: Waiver | None = None
    """Set when a manifest waiver excuses this ``fail``/``error``/``warn``: it does not count."""
    baseline: str | None = None

    def __post_init__(self) -> None:
        bound_fields(self, _RESULT_LIMITS)

    @property
    def counts(self) -> bool:
        """True when the result counts for the summary and the gate: not waived, not known from
        a baseline."""
        return self.waiver is None and self.baseline != "known"

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "check": self.check,
            "status": self.status.value,
            "reason": self.reason,
            "tenant": self.tenant,
            "environment": self.environment,
            "message": self.message,
        }
        if self.hint is not None:
            out["hint"] = self.hint
        if self.location is not None:
            out["location"] = self.location.as_dict()
        if self.duration is not None:
            out["duration"] = round(self.duration, 6)
        if self.facts:
            out["facts"] = {
                key: list(value) if isinstance(value, tuple) else value
                for key, value in self.facts.items()
            }
        if self.waiver is not None:
            out["waiver"] = self.waiver.as_dict()
        if self.baseline is not None:
            out["baseline"] = self.baseline
        return out


@record(frozen=True)
class PluginInfo:
    """A loaded plugin as shown by ``stcheck plugins`` and in reports.

    .. versionadded:: 0.1
    """

    name: str
    version: str | None
    builtin: bool
    checks: tuple[str, ...] = ()
    schemes: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    error: str | None = None


@record(frozen=True)
class BaselineCounts:
    """How a run compares with its ``--baseline`` report (see :mod:`stcheck.baseline`).

    .. versionadded:: 0.2
    """

    path: str
    """The baseline file as given on the command line."""
    new: int
    """Findings (warn, fail, error) not in the baseline: these count."""
    known: int
    """Findings in the baseline: shown, not counted."""
    fixed: int
    """Baseline findings, of the checks and entries this run covered, no longer found."""
    unloaded: int = 0
    """Baseline findings about files that did not load this run: neither fixed nor new."""

    def as_dict(self) -> dict[str, object]:
        counts: dict[str, object] = {
            "path": self.path,
            "new": self.new,
            "known": self.known,
            "fixed": self.fixed,
        }
        if self.unloaded:
            counts["unloaded"] = self.unloaded
        return counts

    @property
    def unloaded_note(self) -> str:
        """``", N in files that did not load (not checked)"`` when there are any, else ``""``."""
        if not self.unloaded:
            return ""
        return f", {self.unloaded} in files that did not load (not checked)"


@record(frozen=True)
class RunReport:
    """The one immutable outcome of a run, handed to every reporter.

    .. versionadded:: 0.1
    """

    tool_version: str
    command: str
    manifests: tuple[str, ...]
    results: tuple[Result, ...]
    checks_run: tuple[str, ...] = ()
    checks_not_run: Mapping[str, str] = field(default_factory=dict)
    plugins: tuple[PluginInfo, ...] = ()
    started_at: str = ""
    duration: float = 0.0
    check_docs: Mapping[str, str] = field(default_factory=dict)
    readiness: tuple[TenantReadiness, ...] = ()
    """The go-live check's verdicts, one per tenant (``report`` runs)."""
    readiness_view: ReadinessView | None = None
    """How readiness reports present them (``--group-by``, ``--not-ready-only``); None: plainly."""
    unloaded: tuple[str, ...] = ()
    """Manifests that could not be loaded (each has a ``fail`` result saying why)."""
    baseline: BaselineCounts | None = None
    """The comparison with ``--baseline``, when one was given."""
    tenant_names: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    """Per manifest path, its tenants' names by index: what fingerprints name a tenant by."""

    @property
    def summary(self) -> dict[str, int]:
        """Results per status, of those that count (:attr:`Result.counts`); a waived result is
        counted as ``waived``, a baseline's known one not at all."""
        counts = {status.value: 0 for status in STATUS_ORDER}
        counts["waived"] = 0
        for result in self.results:
            if result.waiver is not None:
                counts["waived"] += 1
            elif result.counts:
                counts[result.status.value] += 1
        return counts

    @property
    def failed(self) -> bool:
        return any(result.status.is_failure and result.counts for result in self.results)
