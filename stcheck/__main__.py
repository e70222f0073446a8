"""``python -m stcheck``: the console script, without the working directory on ``sys.path``.

``python -m`` puts the working directory first on ``sys.path``. In a CI gate
that is the checkout of the pull request being checked, so any module it
commits (``requests.py``, a plugin's module name) would shadow the installed
one on the next import and run code next to the secrets. It is taken off
before anything else is imported. (Only ``stcheck`` itself was imported
from it: run ``python -P -m stcheck``, or the ``stcheck`` script, where even
that cannot happen.)
"""

import os
import sys


def _drop_working_directory() -> None:
    here = os.path.realpath(os.getcwd())
    sys.path[:] = [
        entry
        for entry in sys.path
        if entry and os.path.isabs(entry) and os.path.realpath(entry) != here
    ]


_drop_working_directory()

from stcheck.cli import entry  # noqa: E402 - after sys.path is safe

entry()
