"""``flask reconcile --since`` shows a progress bar (rich, on stderr) and, with
``--wait``, follows the workers until what it queued is booked; stdout stays JSON."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app import create_app
from tests.helpers import World, warm_up_bookkeeping


def test_backfill_progress_bar_follows_the_workers(
    embedded_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = embedded_world
    warm_up_bookkeeping(world)
    import worker.jobs

    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    for number in (9101, 9102, 9103):
        world.add_order(number, date=dt.date(2026, 6, 1))
    world.add_order(9104, kind="oss", date=dt.date(2026, 6, 2))

    import app.cli.progress

    def work_instead_of_waiting(_seconds: float) -> None:
        # The first wait of --wait: the workers book what the pass queued.
        SimpleWorker(
            [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
        ).work(burst=True)

    monkeypatch.setattr(app.cli.progress.time, "sleep", work_instead_of_waiting)
    flask_app = create_app(services=world.services)
    result = flask_app.test_cli_runner().invoke(
        args=[
            "reconcile",
            "--shop",
            str(world.shop.id),
            "--since",
            "2026-05-01",
            "--progress",
            "--wait",
            "60",
        ]
    )
    assert result.exit_code == 0, result.output
    # stdout: the run record (one JSON line; the in-process worker logs there too).
    record = json.loads(next(x for x in result.stdout.splitlines() if x.startswith("{")))
    assert record["mode"] == "backfill" and record["enqueued"] == 4
    assert "seen: 4 orders" in result.stderr  # the operator's commands speak English
    assert "queued" in result.stderr and "4/4" in result.stderr
    assert "booked 3, failed 1" in result.stderr


def test_spreadsheet_cells_never_start_a_formula() -> None:
    from app.report.tables import safe

    assert safe('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert safe("@SUM(A1)") == "'@SUM(A1)" and safe("Betaald") == "Betaald"
