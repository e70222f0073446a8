"""``--baseline REPORT.json``: fail the gate only on findings an earlier report did not have.

:func:`load` reads the baseline — a JSON report of an earlier run of the same
command (``--output json=PATH``) — before anything is checked; what is wrong
with it is an input error (exit 2) saying where, with a hint. :func:`compare`
runs after the checks, over the run's finished results: each ``warn``,
``fail`` and ``error`` result is ``known`` when the baseline has a finding
with its fingerprint (:mod:`stcheck.fingerprint`) and ``new`` when it has not.
Known results stay in every output, marked, and do not count for the summary
or the exit status (:attr:`stcheck.model.Result.counts`).

A result a manifest waiver excuses (:mod:`stcheck.waivers`) is neither: it
does not count already. A baseline result that was waived when the baseline
was written is not a known finding: when the waiver ends, the finding counts.

Matching counts fingerprints as a multiset: two identical findings now and
one in the baseline are one known and one new. A baseline ``warn`` covers a
``warn`` only, a baseline ``fail`` or ``error`` covers any finding with its
fingerprint (a finding that got worse is new). *Fixed* counts the baseline
findings no longer reported, among what this run checked: same check, and a
tenant and environment this run's ``--tenant``/``--env`` selection covers.
Baseline findings about a file that did not load this run are not fixed (that
file was not checked): they are counted apart (``unloaded``).

The baseline file is as untrusted as the manifest (a pull request can commit
one), so it can never hide a finding that protects the gate itself:
:data:`PROTECTED_REASONS` (a literal secret in the manifest, a host in the
manifest, a reference that tries to leave the repository, a blocked redirect,
a manifest that did not load, a check that crashed, a plugin that failed, a
deadline, nothing checked), every result about a manifest that did not
load, and every failure a ``depends_on_failure`` skip names (a known failure
must not stand for checks that never ran) are always ``new``. No message
quotes the file's content (only JSON pointers into it, and a command name it
holds when it is one); it is read like a manifest-named file
(:func:`stcheck.confine.read_regular`: no special files, no FIFOs, at most
:data:`MAX_BYTES`).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

from stcheck.confine import FileRefused, read_regular
from stcheck.exitcodes import UsageError
from stcheck.fingerprint import PATTERN, Fingerprinter, repository_path
from stcheck.model import BaselineCounts, Result, Status
from stcheck.record import record, replace
from stcheck.text import clipped

__all__ = ["MAX_BYTES", "PROTECTED_REASONS", "Baseline", "compare", "load"]

MAX_BYTES = 64 * 1024 * 1024
"""The largest baseline read: a JSON report of a 20,000-tenant ``check`` is ~40 MB."""

PROTECTED_REASONS = frozenset(
    {
        # what a manifest edit must never get past the gate
        "leaked_secret",
        "not_a_reference",
        "host_in_manifest",
        "reference_not_allowed",
        "redirect_blocked",
        # the gate fails closed (a manifest or included file that did not load)
        "include_refused",
        "include_nested",
        "include_too_many",
        "not_a_list",
        "too_large",
        "invalid_yaml",
        "empty",
        "multi_document",
        "not_a_mapping",
        "alias_expansion",
        "too_deep",
        "unsupported_tag",
        "check_crashed",
        "plugin_error",
        "nothing_checked",
        "deadline_exceeded",
        # a waiver's expiry is the point of it (stcheck.waivers)
        "waiver_expired",
    }
)
"""Reason words no baseline can make known: their results always count."""

FINDINGS = frozenset({Status.WARN, Status.FAIL, Status.ERROR})

_HINT = (
    "pass a JSON report of an earlier run of the same command, written by"
    " `stcheck {command} --output json=PATH` (see docs/baseline.md)"
)


class _Finding(NamedTuple):
    """A baseline result reduced to what matching needs (the message is never kept)."""

    check: object
    status: object
    reason: object
    tenant: object
    environment: object
    fingerprint: object
    waived: bool
    file: object


_RESULT_KEYS = ("check", "status", "fingerprint")
_COMMANDS = ("validate", "check", "report", "demo")
"""The only words of the file a message repeats: nothing else of its content is quoted."""


def _reduce(pairs: dict[str, Any]) -> Any:
    """``json`` object hook: a result becomes a :class:`_Finding` as soon as it is parsed.

    The messages, hints and locations of a big baseline are dropped while it is
    read, so its memory is the file's text and one small tuple per result.
    """
    if all(key in pairs for key in _RESULT_KEYS):
        return _Finding(
            pairs["check"],
            pairs["status"],
            pairs.get("reason"),
            pairs.get("tenant"),
            pairs.get("environment"),
            pairs["fingerprint"],
            pairs.get("waiver") is not None,
            location.get("file") if isinstance(location := pairs.get("location"), dict) else None,
        )
    return pairs


@record(frozen=True)
class Entry:
    """One finding of the baseline."""

    fingerprint: str
    status: Status
    check: str
    tenant: str | None
    environment: str | None
    file: str | None = None
    """The manifest the finding is about, as the baseline's run named it."""


@record(frozen=True)
class Baseline:
    """A loaded baseline: where it came from, the command it reports on, its findings."""

    path: str
    command: str
    entries: tuple[Entry, ...]


def _problem(path: str, command: str, what: str) -> UsageError:
    return UsageError(
        f"--baseline {clipped(path, 200)}: {what}\n  hint: {_HINT.format(command=command)}"
    )


def _read(path: str, command: str) -> bytes:
    if not path:
        raise _problem(path, command, "no file named")
    try:
        data, _ = read_regular(os.path.realpath(path), max_bytes=MAX_BYTES, shown="the file")
    except FileRefused as exc:
        raise _problem(path, command, exc.message) from None
    if os.path.islink(path):
        # A link a pull request commits could point at a file CI wrote (a secret), and the
        # JSON error's line and column would tell where its first odd character is.
        raise _problem(path, command, "a symbolic link; name the baseline file itself")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(path: str, command: str, data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _problem(path, command, f"not UTF-8 text (byte {exc.start:,})") from None
    try:
        return json.loads(text, object_hook=_reduce, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise _problem(path, command, f"{where}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise _problem(path, command, "not JSON this stcheck reads: nested too deeply") from None
    except ValueError as exc:  # NaN/Infinity, an integer too long to convert
        what = "NaN or Infinity" if "is not JSON" in str(exc) else "a number too long"
        raise _problem(path, command, f"not JSON this stcheck reads ({what})") from None


def _entries(path: str, command: str, results: list[Any]) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    statuses = {status.value: status for status in Status}
    for index, item in enumerate(results):
        at = f"at /results/{index}"
        if isinstance(item, dict):
            missing = [key for key in _RESULT_KEYS if key not in item]
            what = "a result without " + ", ".join(missing)
            if missing == ["fingerprint"]:
                what = "a result without a fingerprint (written by an older stcheck?)"
            raise _problem(path, command, f"{at}: {what}")
        if not isinstance(item, _Finding):
            raise _problem(path, command, f"{at}: not a result object")
        if not isinstance(item.check, str):
            raise _problem(path, command, f"{at}/check: not a string")
        status = statuses.get(item.status) if isinstance(item.status, str) else None
        if status is None:
            raise _problem(path, command, f"{at}/status: not one of {', '.join(statuses)}")
        if not isinstance(item.fingerprint, str) or not PATTERN.fullmatch(item.fingerprint):
            raise _problem(path, command, f"{at}/fingerprint: not a stcheck fingerprint")
        for key in ("reason", "tenant", "environment"):
            if not isinstance(getattr(item, key), (str, type(None))):
                raise _problem(path, command, f"{at}/{key}: not a string or null")
        if status not in FINDINGS or item.reason in PROTECTED_REASONS or item.waived:
            continue  # only findings are matched; protected and waived ones never are
        file = item.file if isinstance(item.file, str) and item.file else None
        entries.append(
            Entry(item.fingerprint, status, item.check, item.tenant, item.environment, file)  # type: ignore[arg-type]
        )
    return tuple(entries)


def load(path: str, command: str) -> Baseline:
    """Read the baseline report at ``path`` for a run of ``command``; raises :class:`UsageError`."""
    document = _parse(path, command, _read(path, command))
    if not isinstance(document, dict):
        raise _problem(path, command, "not a stcheck JSON report (not a JSON object)")
    tool = document.get("tool")
    if not isinstance(tool, dict) or tool.get("name") != "stcheck":
        raise _problem(path, command, "not a stcheck JSON report (no tool.name 'stcheck')")
    version = document.get("schema_version")
    if type(version) is not int:  # not isinstance: `true` is an int to Python, and `True == 1`
        kind = "a boolean" if isinstance(version, bool) else "not an integer"
        raise _problem(path, command, f"schema_version is {kind}; this stcheck reads 1")
    if version != 1:
        said = version if 0 <= version < 1000 else "unknown"
        raise _problem(path, command, f"a report of schema_version {said}; this stcheck reads 1")
    made_by = document.get("command")
    if made_by != command:
        made = f"`stcheck {made_by}`" if made_by in _COMMANDS else "an unknown command"
        raise _problem(path, command, f"a report of {made}, not of `stcheck {command}`")
    results = document.get("results")
    if not isinstance(results, list):
        raise _problem(path, command, "not a stcheck JSON report (no results list)")
    return Baseline(path, command, _entries(path, command, results))


def protected(
    result: Result, unloaded: Collection[str] = (), depended_on: Collection[int] = ()
) -> bool:
    """True for a result no baseline can make known (see :data:`PROTECTED_REASONS`);
    ``depended_on`` holds the ``id()`` of the failures other checks' skips depend on."""
    if result.reason in PROTECTED_REASONS or id(result) in depended_on:
        return True
    file = result.location.file if result.location is not None else None
    return file is not None and file in unloaded


def compare(
    results: Sequence[Result],
    baseline: Baseline,
    *,
    unloaded: Collection[str] = (),
    depended_on: Sequence[Result] = (),
    tenants: Sequence[str] = (),
    environments: Sequence[str] = (),
    names: Mapping[str, Sequence[str | None]] | None = None,
) -> tuple[list[Result], BaselineCounts]:
    """``results`` with each finding marked ``new`` or ``known``, and the counts.

    ``unloaded`` are the manifests that did not load (their results are never
    known); ``depended_on`` the failures a ``depends_on_failure`` skip names (never
    known: a known failure must not stand for checks that did not run); ``tenants``
    and ``environments`` the run's selection (for *fixed*);
    ``names`` the manifests' tenant names (:class:`~stcheck.fingerprint.Fingerprinter`).
    """
    fingerprint = Fingerprinter(names)
    not_loaded = set(unloaded)
    holding = {id(result) for result in depended_on}
    failures: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    for entry in baseline.entries:
        (warnings if entry.status is Status.WARN else failures)[entry.fingerprint] += 1

    marked: list[Result] = list(results)
    new = known = 0
    # failures first: they may use up a baseline failure a warning would otherwise take
    order = sorted(  # a result that does not count already (waived) is neither new nor known
        (i for i, r in enumerate(results) if r.status in FINDINGS and r.counts),
        key=lambda i: results[i].status is Status.WARN,
    )
    for index in order:
        result = results[index]
        state = "new"
        key = fingerprint(result)
        pools = (warnings, failures) if result.status is Status.WARN else (failures,)
        for pool in pools:
            if pool[key] > 0:
                pool[key] -= 1  # matched even when protected: still reported, so not fixed
                state = "known"
                break
        if protected(result, not_loaded, holding):
            state = "new"
        if state == "known":
            known += 1
        else:
            new += 1
        marked[index] = replace(result, baseline=state)

    left = failures + warnings
    unchecked = _unloaded(baseline, left, not_loaded)
    fixed = _fixed(results, baseline, left, tenants, environments)
    return marked, BaselineCounts(clipped(baseline.path, 200), new, known, fixed, unchecked)


def _unloaded(baseline: Baseline, left: Counter[str], unloaded: Collection[str]) -> int:
    """Baseline findings not matched whose file did not load this run: not evidence of a fix.

    They are taken out of ``left`` (so never *fixed*) and counted apart. Files
    are compared by their path in the repository (the baseline's run may have
    named them from another working directory or checkout).
    """
    if not unloaded:
        return 0
    paths = {repository_path(file) for file in unloaded}
    found = 0
    for entry in baseline.entries:
        if left[entry.fingerprint] <= 0 or entry.file is None:
            continue
        if entry.file in unloaded or repository_path(entry.file) in paths:
            left[entry.fingerprint] -= 1
            found += 1
    return found


def _fixed(
    results: Sequence[Result],
    baseline: Baseline,
    left: Counter[str],
    tenants: Sequence[str],
    environments: Sequence[str],
) -> int:
    """Baseline findings not matched, of checks and entries this run checked."""
    subjects = {(r.check, r.tenant, r.environment) for r in results if r.status is not Status.SKIP}
    fixed = 0
    for entry in baseline.entries:
        if left[entry.fingerprint] <= 0:
            continue
        if tenants and entry.tenant is not None and entry.tenant not in tenants:
            continue
        if environments and entry.environment is not None and entry.environment not in environments:
            continue
        covered = (
            (entry.check, entry.tenant, entry.environment) in subjects
            or (entry.check, entry.tenant, None) in subjects
            or (entry.check, None, None) in subjects
        )
        if covered:
            left[entry.fingerprint] -= 1
            fixed += 1
    return fixed
