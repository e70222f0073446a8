"""The network transport: where stcheck may connect, and how.

Everything the online checks send goes through :mod:`stcheck.net.http`, which
only ever talks to the four hosts below, picked from the environment *name*
(never from the manifest): client credentials go to the two token endpoints,
the app key and tokens to the two API hosts.

This package is transport only: it returns plain outcomes (a status, a reason
word, a message) and never imports the plugin API, the checks, the runner or
the reporters, nor builds a result (``tests/test_layers.py`` holds that). What
an outcome means for a check is decided in :mod:`stcheck.checks`; the per-run
glue (services, the secret store, the checks' preconditions) is
:mod:`stcheck.checks.support`.

Modules:

* :mod:`stcheck.net.config` — the run's network settings (``--timeout``,
  ``--ca-bundle``/``REQUESTS_CA_BUNDLE``, ``HTTPS_PROXY``/``NO_PROXY``,
  ``--resolve``), read from the environment once per run;
* :mod:`stcheck.net.http` — the hardened HTTP client (loaded only by online
  runs, so ``stcheck validate`` never pays for it) and its table of transport
  failures; :mod:`stcheck.net.pool` its keep-alive connections (connect,
  proxy tunnel, TLS), :mod:`stcheck.net.wire` its HTTP/1.1 exchange;
* :mod:`stcheck.net.classify` — classification tables (first matching row
  decides) used by ``http`` and ``servicetitan``;
* :mod:`stcheck.net.servicetitan` — the token request and the API probe, and
  the tables that classify their answers into the reason vocabulary;
* :mod:`stcheck.net.probes` — which resource the probe reads (from the token's
  scopes, when it states them) and what a 403 from it says;
* :mod:`stcheck.net.tokens` — the run's token cache: one request per client
  pair, shared by every entry using it;
* :mod:`stcheck.net.singleflight` — a per-key "first caller does the work,
  the others wait for its answer" cache;
* :mod:`stcheck.net.lookup` — host lookups for the ``dns`` check, done the way
  the client connects (``--resolve``, proxies).

This package's ``__init__`` imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping

from stcheck.servicetitan_scopes import DEFAULT_PROBE

ENVIRONMENTS: tuple[str, ...] = ("integration", "production")

AUTH_HOSTS: Mapping[str, str] = {
    "integration": "auth-integration.servicetitan.io",
    "production": "auth.servicetitan.io",
}
"""The token-endpoint host of each environment: client credentials go here and nowhere else."""

API_HOSTS: Mapping[str, str] = {
    "integration": "api-integration.servicetitan.io",
    "production": "api.servicetitan.io",
}
"""The API host of each environment: the app key and tokens go here and nowhere else."""

HOSTS: frozenset[str] = frozenset((*AUTH_HOSTS.values(), *API_HOSTS.values()))
"""Every host stcheck will ever connect to."""

TOKEN_PATH = "/connect/token"
DEFAULT_PORT = 443

# Module path segments of the V2 API a probe may use (reporting and export are not probes).
PROBE_MODULES: frozenset[str] = frozenset(
    {
        "accounting",
        "crm",
        "customer-interactions",
        "dispatch",
        "equipmentsystems",
        "findings",
        "forms",
        "inventory",
        "jbce",
        "jpm",
        "marketing",
        "marketingads",
        "marketingreputation",
        "memberships",
        "payroll",
        "pricebook",
        "sales",
        "schedulingpro",
        "service-agreements",
        "settings",
        "taskmanagement",
        "telecom",
        "timesheets",
    }
)

__all__ = [
    "API_HOSTS",
    "AUTH_HOSTS",
    "DEFAULT_PORT",
    "DEFAULT_PROBE",
    "ENVIRONMENTS",
    "HOSTS",
    "PROBE_MODULES",
    "TOKEN_PATH",
]
