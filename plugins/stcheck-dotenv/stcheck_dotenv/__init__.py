"""stcheck-dotenv: an example stcheck plugin package.

- :mod:`stcheck_dotenv.scheme` — the ``dotenv:PATH#NAME`` credential reference
  scheme (entry point ``dotenv``);
- :mod:`stcheck_dotenv.owner` — the ``owner`` check: every tenant names an
  owner by e-mail address (entry point ``owner``);
- :mod:`stcheck_dotenv.parser` — the small ``.env`` parser both rely on.
"""

from __future__ import annotations

__version__ = "0.1.0"
