"""The fake's own tests run under the online suite's network guard: loopback only."""

from __future__ import annotations

from tests.online.conftest import clean_network_environment, network_guard

__all__ = ["clean_network_environment", "network_guard"]
