"""Test support for stcheck and for projects that integrate with ServiceTitan.

* :mod:`stcheck.testing.fake` — :class:`FakeServiceTitan`, a real HTTPS fake of
  the ServiceTitan token endpoints and API hosts on 127.0.0.1.
* :mod:`stcheck.testing.pytest_plugin` — the ``servicetitan_fake`` and
  ``servicetitan_fake_session`` pytest fixtures (loaded automatically when
  stcheck is installed; disable with ``-p no:stcheck``).

The names below are re-exported lazily, so importing this package (as pytest
does for the plugin) costs nothing until a fake is actually used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stcheck.testing.fake import (
        Behavior,
        BehaviorContext,
        FakeClient,
        FakeResponse,
        FakeServiceTitan,
        ReceivedRequest,
    )

__all__ = [
    "Behavior",
    "BehaviorContext",
    "FakeClient",
    "FakeResponse",
    "FakeServiceTitan",
    "ReceivedRequest",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from stcheck.testing import fake

        return getattr(fake, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
