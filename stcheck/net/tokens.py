"""The run's token requests: one per client pair, every other caller waits for and shares it.

One request per (environment, client ID) — per (environment, client ID,
tenant) for Enterprise Hub entries, which send ``tenant=<tenant_id>``. The
first caller of a key makes the request; callers of the same key arriving
meanwhile wait for its outcome (:class:`stcheck.net.singleflight.SingleFlight`).
Tokens stay in memory, in this cache, for the run only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stcheck.net.singleflight import SingleFlight

if TYPE_CHECKING:
    from stcheck.net.http import HttpClient
    from stcheck.net.servicetitan import TokenOutcome


@dataclass(frozen=True)
class TokenGrant:
    """The token outcome for one client, and which entry's check made the request."""

    outcome: TokenOutcome
    requested_by: str


TokenKey = tuple[str, str, str, int | None]


def token_key(
    environment: str, client_id: str, client_secret: str, tenant: int | None = None
) -> TokenKey:
    """(environment, client ID, digest of the secret, tenant): one token request per key.

    Ordinary entries sharing a client ID and secret share the request
    (``tenant`` None); an Enterprise Hub entry's token is asked for its own
    tenant (the ``tenant`` form field), so each tenant of a group gets its own.
    The digest keeps two *different* secrets for one client ID from silently
    testing only the first.
    """
    digest = hashlib.sha256(client_secret.encode("utf-8", "surrogatepass")).hexdigest()
    return environment, client_id, digest, tenant


class TokenCache:
    """The run's token grants, keyed by :func:`token_key`; thread-safe."""

    def __init__(self) -> None:
        self._flights: SingleFlight[TokenKey, TokenGrant] = SingleFlight()

    def grant(
        self,
        client: Callable[[], HttpClient],
        environment: str,
        client_id: str,
        client_secret: str,
        *,
        tenant: int | None,
        requested_by: str,
        on_token: Callable[[str | None], None],
    ) -> tuple[TokenGrant, bool]:
        """The grant for this client pair, and whether this call made the request.

        ``client`` gives the run's HTTP client (asked for only when a request
        is made); ``on_token`` learns each token obtained, before any other
        caller sees it (the run's redactor registers it).
        """

        def fetch() -> TokenGrant:
            from stcheck.net.servicetitan import request_token  # the HTTP client: online runs only

            outcome = request_token(client(), environment, client_id, client_secret, tenant=tenant)
            on_token(outcome.access_token)
            return TokenGrant(outcome, requested_by)

        return self._flights.get(token_key(environment, client_id, client_secret, tenant), fetch)
