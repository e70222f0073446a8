"""Per-run shared objects of the online checks, kept in ``CheckContext.services``.

=================  ==========================================================
``netconfig``      :class:`stcheck.net.config.NetConfig`, read once per run
``http``           :class:`stcheck.net.http.HttpClient`, one session per run
``tokens``         :class:`stcheck.net.tokens.TokenCache`, one request per client
``secrets``        :class:`stcheck.checks.support.secretstore.SecretStore`
``dns``            :class:`stcheck.net.lookup.DnsStore`
``redactor``       :class:`stcheck.secrets.Redactor` (set by the CLI)
=================  ==========================================================

Entry checks run on worker threads and create these lazily, so creation is
serialised here (``CheckContext.service`` alone is check-then-set). Also here:
the entry selection of manifest-stage checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from stcheck.net.config import NetConfig
from stcheck.net.lookup import DnsStore, HostLookup
from stcheck.net.tokens import TokenCache, TokenGrant

if TYPE_CHECKING:
    from stcheck.api import CheckContext
    from stcheck.manifest import Entry
    from stcheck.net.http import HttpClient

T = TypeVar("T")
_CREATE = threading.RLock()


def shared(ctx: CheckContext, name: str, factory: Callable[[], T]) -> T:
    """``ctx.service(name, factory)``, safe to call from several worker threads at once."""
    existing = ctx.services.get(name)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    with _CREATE:
        return ctx.service(name, factory)  # type: ignore[no-any-return]


def net_config(ctx: CheckContext) -> NetConfig:
    options = ctx.options
    return shared(
        ctx,
        "netconfig",
        lambda: NetConfig.from_options(
            timeout=options.timeout,
            concurrency=options.concurrency,
            ca_bundle=options.ca_bundle,
            resolve=options.resolve,
        ),
    )


def http_client(ctx: CheckContext) -> HttpClient:
    from stcheck.net.http import HttpClient  # requests is imported by online runs only

    config = net_config(ctx)
    redactor: Any = ctx.services.get("redactor")
    scrubber = getattr(redactor, "secrets", None)
    return shared(ctx, "http", lambda: HttpClient(config, scrubber))


def register_secret(ctx: CheckContext, value: str | None) -> None:
    """Tell the run's scrubber about a secret value or token (scrubbed from all outside text)."""
    redactor: Any = ctx.services.get("redactor")
    if value and redactor is not None and hasattr(redactor, "add_secret"):
        redactor.add_secret(value)


def token_tenant(entry: Entry) -> int | None:
    """The tenant a token is requested for: the tenant ID of an Enterprise Hub entry, else None."""
    return entry.tenant_id if entry.enterprise_group is not None else None


def token_grant(
    ctx: CheckContext, entry: Entry, client_id: str, client_secret: str
) -> tuple[TokenGrant, bool]:
    """The run's token for this client pair: requested once, shared by every entry using it.

    One request per (environment, client ID) — per (environment, client ID,
    tenant) for Enterprise Hub entries, which send ``tenant=<tenant_id>``.
    Returns the grant and whether this call made the request.
    """
    cache = shared(ctx, "tokens", TokenCache)
    return cache.grant(
        lambda: http_client(ctx),
        entry.environment,
        client_id,
        client_secret,
        tenant=token_tenant(entry),
        requested_by=entry.label,
        on_token=lambda token: register_secret(ctx, token),
    )


def dns_store(ctx: CheckContext) -> DnsStore:
    return shared(ctx, "dns", DnsStore)


def host_problem(ctx: CheckContext, host: str) -> HostLookup | None:
    """The failed lookup of ``host`` if the ``dns`` check ran and the host did not resolve."""
    store = ctx.services.get("dns")
    if not isinstance(store, DnsStore):
        return None
    lookup = store.get(host)
    return lookup if lookup is not None and not lookup.ok else None
