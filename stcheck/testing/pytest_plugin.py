"""The ``stcheck`` pytest plugin: a fake ServiceTitan as a fixture.

Installed with stcheck (entry point ``pytest11: stcheck``), so the fixtures are
available in any test suite of an environment where stcheck is installed;
``pytest -p no:stcheck`` turns the plugin off. Importing the plugin is cheap:
the fake (and ``trustme``, which it needs) is loaded only when a fixture is
used, so install stcheck's ``demo`` extra (``pip install 'stcheck[demo]'``) to
use them; without it a fixture fails with an ImportError that says so.

Fixtures
--------

``servicetitan_fake`` (function scope)
    A started :class:`stcheck.testing.fake.FakeServiceTitan`: real HTTPS on
    127.0.0.1 answering as ``auth-integration.servicetitan.io``,
    ``auth.servicetitan.io``, ``api-integration.servicetitan.io`` and
    ``api.servicetitan.io``. Fresh for every test and stopped afterwards::

        from stcheck.testing.fake import FakeClient

        def test_token_is_cached(servicetitan_fake):
            client = servicetitan_fake.add_client(FakeClient("integration", tenants={42}))
            run_my_sync(
                ca_bundle=servicetitan_fake.ca_bundle,
                resolve=servicetitan_fake.resolve,  # ["auth.servicetitan.io:PORT:127.0.0.1", ...]
                app_key=servicetitan_fake.app_key,
                client_id=client.client_id,
                client_secret=client.client_secret,
            )
            assert len(servicetitan_fake.token_requests("integration")) == 1

``servicetitan_fake_session`` (session scope)
    One fake shared by the whole session, for suites that start many tests
    against it (starting a fake costs a few milliseconds for the CA and
    certificate). State persists between tests: register clients with unique
    IDs (the defaults are random) or call ``fake.reset()`` /
    ``fake.reset_records()`` yourself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from stcheck.testing.fake import FakeServiceTitan


@pytest.fixture
def servicetitan_fake() -> Iterator[FakeServiceTitan]:
    """A started FakeServiceTitan on 127.0.0.1, fresh for this test and stopped after it.

    Register clients with ``add_client(FakeClient(...))``; point the code under
    test at it with ``ca_bundle`` and ``resolve`` (or ``cli_args()`` for the
    stcheck command line); inspect what it received with ``token_requests()``,
    ``api_requests()`` and ``received``.
    """
    from stcheck.testing.fake import FakeServiceTitan

    with FakeServiceTitan() as fake:
        yield fake


@pytest.fixture(scope="session")
def servicetitan_fake_session() -> Iterator[FakeServiceTitan]:
    """One started FakeServiceTitan shared by the whole test session.

    Its clients, tokens and records persist between tests; call ``reset()`` or
    ``reset_records()`` where a test needs a clean slate.
    """
    from stcheck.testing.fake import FakeServiceTitan

    with FakeServiceTitan() as fake:
        yield fake
