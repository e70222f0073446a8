"""What the online checks share; not checks, and not plugins.

* :mod:`stcheck.checks.support.services` — the per-run shared objects in
  the run's registry, ``CheckContext.run`` (network settings, HTTP client,
  token cache, host
  lookups) and the entry selection of manifest-stage checks;
* :mod:`stcheck.checks.support.secretstore` — credential references resolved
  once per run through their scheme plugins, in memory, registered with the
  output redactor;
* :mod:`stcheck.checks.support.preconditions` — what the ``token`` and ``api``
  checks need first (client pair resolved, hosts resolved, a token), or the
  result each reports instead.

The transport itself is :mod:`stcheck.net`, which knows nothing of checks or
results. The check modules import these inside their ``run`` methods, so
loading the plugins for ``stcheck validate`` imports none of it.
"""
