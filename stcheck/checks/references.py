"""The ``references`` check: credential fields are references, and no credential is written out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from stcheck.api import Check, CheckContext, ReferenceScheme, Result, Status, hookimpl
from stcheck.listing import Listing
from stcheck.manifest import pointer as jsonpointer
from stcheck.redact import shown_scheme, suggested_scheme
from stcheck.text import shown

Path = tuple[str | int, ...]
REFERENCE = re.compile(r"([a-z][a-z0-9+.-]*):(.*)\Z", re.DOTALL)
SCHEME_NAME = re.compile(r"[a-z][a-z0-9+.-]*\Z")  # what REFERENCE takes before the first colon


def credential_fields(
    data: Any, well_named: Mapping[str, ReferenceScheme] | None = None
) -> Iterator[tuple[Path, str, Any]]:
    """(path, field name, value) of every credential field: app key, client IDs and secrets.

    A path, not a pointer: the pointer is built only for a finding (10,000 tenants hold 40,000
    credential fields). With ``well_named`` (schemes by names :data:`REFERENCE` accepts), a
    client field that holds a reference of one of them with a well-formed rest is left out:
    it has nothing to report, and most fields are such.
    """
    if not isinstance(data, dict):
        return
    app = data.get("app")
    if isinstance(app, dict) and "app_key" in app:
        yield ("app", "app_key"), "app_key", app["app_key"]
    tenants = data.get("tenants")
    if not isinstance(tenants, list):
        return
    for index, tenant in enumerate(tenants):
        environments = tenant.get("environments") if isinstance(tenant, dict) else None
        if not isinstance(environments, dict):
            continue
        for env_name, env in environments.items():
            if not isinstance(env, dict):
                continue
            for field in ("client_id", "client_secret"):
                value = env.get(field)
                if well_named is not None and value.__class__ is str:
                    name, colon, rest = value.partition(":")
                    scheme = well_named.get(name) if colon else None
                    if scheme is not None and (
                        scheme.syntax is None or scheme.syntax(rest) is None
                    ):
                        continue
                if field in env:
                    yield ("tenants", index, "environments", env_name, field), field, value


class ReferencesCheck(Check):
    """Credential fields hold references with a known scheme, and no credential is written out.

    ``app.app_key`` and every ``client_id`` / ``client_secret`` must be a
    reference ``SCHEME:REST`` whose scheme a loaded plugin provides (built in:
    ``env:NAME``, ``file:PATH``), with a well-formed rest. Every string in the
    manifest, keys included, is scanned for credential shapes — ServiceTitan
    client IDs (``cid.``), client secrets (``cs1.``), app keys (``ak1.``),
    JWTs, bearer tokens and long high-entropy strings — and each one found is
    reported as a leaked secret without echoing any part of it. Beyond 200
    findings the rest are counted in one last result.
    """

    id = "references"
    stage = "manifest"
    order = 20

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        listing = Listing()
        leaked = self._list_leaks(ctx, listing)
        # Schemes by the names REFERENCE accepts: a value ``NAME:REST`` with one of these names
        # and a well-formed rest has nothing to report, whatever else is true of it.
        well_named = {name: s for name, s in ctx.schemes.items() if SCHEME_NAME.fullmatch(name)}
        for path, field, value in credential_fields(ctx.manifest.data, well_named):
            if not isinstance(value, str):
                continue  # type problems are the schema check's to report
            if ctx.manifest.included and path[0] == "app":
                continue  # included tenants share their root's app: reported there
            if leaked and jsonpointer.join(path) in leaked:
                continue
            self._list_reference_problem(ctx, listing, path, field, value)
        if not listing.results:
            return [
                self.result(
                    ctx,
                    Status.PASS,
                    "credential fields are references with known schemes; no secret is written out",
                )
            ]
        return listing.finish(ctx, self.id, "leaked secrets and reference problems")

    def _list_leaks(self, ctx: CheckContext, listing: Listing) -> set[str]:
        """List each credential-shaped run of text; the pointers of the values listed."""
        leaked: set[str] = set()
        for offset, kind, _ in ctx.manifest.secret_runs():
            if not listing.room():
                continue
            location, what = ctx.manifest.at_offset(offset)
            if what == "value":
                leaked.add(location.pointer)
            subject = {"key": "a key", "value": "this value"}.get(what, "text outside any value")
            listing.add(
                self.result(
                    ctx,
                    Status.FAIL,
                    f"{subject} looks like {kind}: a secret written into the manifest"
                    " (the value is not shown)",
                    reason="leaked_secret",
                    location=location,
                )
            )
        return leaked

    def _list_reference_problem(
        self, ctx: CheckContext, listing: Listing, path: Path, field: str, value: str
    ) -> None:
        match = REFERENCE.match(value)
        if match is None:
            return  # not SCHEME:REST: the schema check says so
        scheme_name, rest = match.groups()
        scheme = ctx.schemes.get(scheme_name)
        if scheme is None:
            if listing.room():
                listing.add(self._unknown_scheme(ctx, jsonpointer.join(path), field, scheme_name))
            return
        problem = scheme.syntax(rest) if scheme.syntax else None
        if problem and listing.room():
            listing.add(
                self.result(
                    ctx,
                    Status.FAIL,
                    f"{field} is not a valid {scheme_name}: reference: {problem}",
                    reason="invalid_reference",
                    pointer=jsonpointer.join(path),
                )
            )

    def _unknown_scheme(
        self, ctx: CheckContext, pointer: str, field: str, scheme_name: str
    ) -> Result:
        known = ", ".join(f"{name}:" for name in sorted(ctx.schemes)) or "none"
        scheme_shown = shown_scheme(scheme_name, ctx.schemes)
        guess = suggested_scheme(scheme_name, ctx.schemes) if scheme_shown else None
        what = (
            f"the unknown reference scheme {shown(scheme_shown)}"
            if scheme_shown
            else "an unknown reference scheme (not shown: it may be part of a secret)"
        )
        typo = f"; did you mean {guess}:?" if guess else ""
        return self.result(
            ctx,
            Status.FAIL,
            f"{field} uses {what} (known: {known}){typo}",
            reason="unknown_scheme",
            pointer=pointer,
        )


@hookimpl
def stcheck_checks() -> list[Check]:
    return [ReferencesCheck()]
