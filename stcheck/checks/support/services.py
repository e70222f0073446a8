"""Per-run shared objects of the online checks, in the run's registry keyed by type.

:class:`stcheck.net.config.NetConfig` (read once per run),
:class:`stcheck.net.http.HttpClient` (one session per run),
:class:`stcheck.net.tokens.TokenCache` (one request per client),
:class:`stcheck.checks.support.secretstore.SecretStore` and
:class:`stcheck.net.lookup.DnsStore`. Entry checks run on worker threads and
create these lazily; the registry (:class:`stcheck.runstate.Registry`)
creates each once and closes it when the run ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from stcheck.net.config import NetConfig
from stcheck.net.lookup import DnsStore, HostLookup
from stcheck.net.tokens import TokenCache, TokenGrant

if TYPE_CHECKING:
    from stcheck.api import CheckContext
    from stcheck.manifest import Entry
    from stcheck.net.http import HttpClient


T = TypeVar("T")


class DistinctValues(dict[tuple[str, str], bool]):
    """Per (manifest path, tenant): do production's resolved client ID and secret both differ
    from integration's? Filled by the ``credentials`` check, read by ``golive``.

    Kept in the run's registry, never in a result or an output: an equality test of two
    values a pull request chooses is an oracle (a guess in a file beside the manifest
    against any variable the runner holds), so the go-live rules also use it only once
    the integration pair has proved to be real ServiceTitan credentials.
    """


def shared(ctx: CheckContext, kind: type[T], factory: Callable[[], T]) -> T:
    """The run's ``kind`` object, created with ``factory`` once (thread-safe)."""
    return ctx.run.registry.get(kind, factory)


def net_config(ctx: CheckContext) -> NetConfig:
    options = ctx.options
    return shared(
        ctx,
        NetConfig,
        lambda: NetConfig.from_options(
            timeout=options.timeout,
            concurrency=options.concurrency,
            ca_bundle=options.ca_bundle,
            resolve=options.resolve,
        ),
    )


def http_client(ctx: CheckContext) -> HttpClient:
    from stcheck.net.http import HttpClient  # imported by online runs only

    config = net_config(ctx)
    redactor = ctx.run.redactor
    scrubber = redactor.secrets if redactor is not None else None
    return shared(ctx, HttpClient, lambda: HttpClient(config, scrubber))


def register_secret(ctx: CheckContext, value: str | None) -> None:
    """Tell the run's scrubber about a secret value or token (scrubbed from all outside text)."""
    redactor = ctx.run.redactor
    if value and redactor is not None:
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
    cache = shared(ctx, TokenCache, TokenCache)
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
    return shared(ctx, DnsStore, DnsStore)


def host_problem(ctx: CheckContext, host: str) -> HostLookup | None:
    """The failed lookup of ``host`` if the ``dns`` check ran and the host did not resolve."""
    store = ctx.run.registry.peek(DnsStore)
    if store is None:
        return None
    lookup = store.get(host)
    return lookup if lookup is not None and not lookup.ok else None
