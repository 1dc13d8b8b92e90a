"""The RQ dashboard cannot be turned against its administrators: job data arrives as text,
its CSP has no 'unsafe-inline', and other sites cannot make it change anything."""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient
from rq import SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer

from app.states import Role
from app.web.admin import _digest
from tests.web.helpers import Web, login, password_hash

MARKUP = '"><img src=x onerror=alert(1)>'
ADMIN = "operator@example.nl"


@pytest.fixture(autouse=True)
def _dashboard_uses_the_test_redis(web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    """rq-dashboard connects anew from RQ_DASHBOARD_REDIS_URL on its /<instance>/ routes;
    here that must be the test's Redis."""
    import rq_dashboard.web

    monkeypatch.setattr(
        rq_dashboard.web, "from_url", lambda *args, **kwargs: (None, web.services.redis)
    )


def admin_client(web: Web) -> FlaskClient:
    web.services.store.users.create(ADMIN, password_hash(), Role.ADMIN)
    client = web.app.test_client()
    assert login(client, ADMIN).status_code == 302
    return client


def finished_jobs(web: Web) -> tuple[str, str]:
    """A job whose result holds markup (as a booking's reason would) and one whose
    exception text does."""
    queue = web.services.queue
    result = queue.enqueue("json.loads", json.dumps({"status": "failed", "reason": MARKUP}))
    failure = queue.enqueue("builtins.int", MARKUP)
    SimpleWorker([queue], connection=web.services.redis, serializer=JSONSerializer).work(burst=True)
    return result.id, failure.id


def test_job_data_reaches_the_dashboard_as_text(web: Web) -> None:
    admin = admin_client(web)
    for job_id in finished_jobs(web):
        body = admin.get(f"/admin/rq/0/data/job/{job_id}.json").get_data(as_text=True)
        assert "<img" not in body and "&lt;img src=x" in body
    listed = admin.get("/admin/rq/0/data/jobs/bookings/failed/8/1.json").get_data(as_text=True)
    assert "<img" not in listed


def test_the_dashboard_csp_has_no_unsafe_inline(web: Web) -> None:
    admin = admin_client(web)
    result_id, _ = finished_jobs(web)
    for url in ("/admin/rq/", f"/admin/rq/0/view/job/{result_id}"):
        response = admin.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in csp
        html = response.get_data(as_text=True)
        inline = re.findall(r'<script type="text/javascript">(.*?)</script>', html, re.DOTALL)
        assert inline and all(_digest(body) in csp for body in inline)


def test_the_state_changing_get_is_refused(web: Web) -> None:
    admin = admin_client(web)
    _, failed_id = finished_jobs(web)
    assert admin.get("/admin/rq/requeue/bookings").status_code == 405
    assert Job.fetch(failed_id, connection=web.services.redis).get_status() == "failed"


def test_posts_from_other_sites_are_refused(web: Web) -> None:
    admin = admin_client(web)
    _, failed_id = finished_jobs(web)
    url = f"/admin/rq/job/{failed_id}/delete"
    assert admin.post(url, headers={"Origin": "https://evil.example"}).status_code == 403
    assert admin.post(url, headers={"Referer": "https://evil.example/x"}).status_code == 403
    assert admin.post(url).status_code == 403  # neither header: refused too
    assert admin.post("/admin/rq/requeue/bookings", headers={"Origin": "null"}).status_code == 403
    assert Job.exists(failed_id, connection=web.services.redis)
    assert admin.post(url, headers={"Origin": "http://localhost"}).status_code == 200
    assert not Job.exists(failed_id, connection=web.services.redis)
