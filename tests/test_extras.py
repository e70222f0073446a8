"""What needs the ``demo`` extra says so: ``trustme`` is not a runtime dependency.

``sys.modules["trustme"] = None`` makes ``import trustme`` fail for real (an
ImportError from the import system), as in an environment where stcheck was
installed without the extra.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from stcheck.testing.fake import NEEDS_TRUSTME, FakeServiceTitan

EXTRA = "pip install 'stcheck[demo]'"


def test_demo_without_trustme_says_which_extra_and_exits_2() -> None:
    script = (
        "import sys\n"
        "sys.modules['trustme'] = None  # as if installed without the demo extra\n"
        "from stcheck.cli import main\n"
        "raise SystemExit(main(['demo']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("stcheck demo: ") and EXTRA in line
    assert "Traceback" not in done.stderr


def test_the_fake_without_trustme_raises_an_import_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "trustme", None)
    fake = FakeServiceTitan()
    with pytest.raises(ImportError, match=r"stcheck\[demo\]") as caught:
        fake.start()
    assert str(caught.value) == NEEDS_TRUSTME
    assert not fake.running
