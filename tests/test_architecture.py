"""The floors of the house hold: ``make lint``'s import contracts fail when an import runs
back up, when the booking core imports something it does not list, or when anything but
app/clients imports requests or zeep. Shown on a copy of the tree with one bad import of
each kind added (the real tree passes the same contracts in ``make lint``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration  # lint-imports in a subprocess

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

BAD_IMPORTS = {
    "app/store/bookings.py": "import app.booking.pipeline",  # the store reaches up
    "app/core/vat.py": "import smtplib",  # the core does I/O
    "app/booking/settlement.py": "import requests",  # HTTP outside app/clients
}


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_each_kind_of_bad_import_breaks_a_contract(tmp_path: Path) -> None:
    for part in ("app", "worker", "reconciler"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "import_rules.py", tmp_path / "tests")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for path, line in BAD_IMPORTS.items():
        with (tmp_path / path).open("a") as module:
            module.write(f"\n{line}\n")
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    out = result.stdout
    assert result.returncode == 1, out
    assert "3 broken" in out, out
    assert "app.store.bookings -> app.booking.pipeline" in out
    assert "app.core.vat -> smtplib" in out
    assert "app.booking.settlement -> requests" in out
