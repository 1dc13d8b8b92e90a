"""The RQ dashboard cannot be turned against its administrators: job data arrives as text,
its CSP has no 'unsafe-inline', and other sites cannot make it change anything."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from rq import SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer

from app.states import Role
from app.web.admin import _digest
from app.web.dashboard_templates import TEMPLATE_SCRIPT, compile_template
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


PAGES = (
    "/admin/rq/",
    "/admin/rq/0/view/workers",
    "/admin/rq/0/view/jobs/bookings/failed/8/asc/1",
    "/admin/rq/0/view/job/{id}",
)


def test_the_dashboard_csp_has_no_unsafe_eval(web: Web) -> None:
    """The probe: the dashboard's CSP kept 'unsafe-eval' (underscore.js compiled its
    templates with new Function). Each page now carries them precompiled."""
    admin = admin_client(web)
    result_id, _ = finished_jobs(web)
    for url in PAGES:
        response = admin.get(url.format(id=result_id))
        assert response.status_code == 200, url
        csp = response.headers["Content-Security-Policy"]
        assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in csp
        html = response.get_data(as_text=True)
        templates = TEMPLATE_SCRIPT.findall(html)
        if templates:
            assert "_.template=function(text)" in html, url


TEMPLATES = [
    "<td><%= d.id %></td>",
    "<% if (d.exc_info) { %><pre><%- d.exc_info %></pre><% } %>",
    "quote ' backslash \\ line\nbreak \u2028 <%= d.n %> </scr" + "ipt-like <!- -",
    "<%- d.none %>|<%= d.none %>|<% print(d.id, '!') %>",
    "<% _.each(d.items, function(i) { %><li><%= i %></li><% }); %>",
    "",
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_precompiled_templates_render_like_underscore(tmp_path: Any) -> None:
    """Against rq-dashboard's own underscore.js, in node: the same output for every
    template of the dashboard's pages and some of our own, escaping included."""
    import rq_dashboard

    static = Path(rq_dashboard.__file__).parent / "static" / "js" / "underscore-umd-min.js"
    pages = Path(rq_dashboard.__file__).parent / "templates" / "rq_dashboard"
    found = [t for page in pages.glob("*.html") for t in TEMPLATE_SCRIPT.findall(page.read_text())]
    assert len(found) >= 10
    data = {
        "d": {
            "id": "j<1>",
            "exc_info": "<b>x</b> & 'y'",
            "n": 3,
            "items": [1, "<i>"],
            "description": "a",
            "current_job": {"job_id": "j2", "description": "b", "created_at": "c"},
            "name": "w",
            "state": "busy",
            "queues": ["q"],
            "count": 4,
            "created_at": "t",
            "ended_at": "e",
            "none": None,
        },
        "url": "/x?a=1&b=2",
        "number": 2,
    }
    script = [
        "const _ = require(process.argv[2]);",
        "const out = [];",
        f"const data = {json.dumps(data)};",
        "globalThis.url_for_single_job_view = (id) => '/job/' + id;",
        # jQuery's $('<div/>').text(x).html(), which the job templates use to escape
        "globalThis.$ = () => { let t = ''; return { text(v) { t = String(v); return this; },"
        " html() { return t.replace(/&/g, '&amp;').replace(/</g, '&lt;')"
        ".replace(/>/g, '&gt;'); } }; }",
    ]
    script.append(  # a template that fails must fail the same way
        "const run = (f) => { try { return f(); } catch (e) { return 'error: ' + e.message; } };"
    )
    for text in [*found, *TEMPLATES]:
        script.append(
            f"out.push([run(() => _.template({json.dumps(text)})(data)), "
            f"run(() => {{ const render = {compile_template(text)}; "
            f"return render.call(null, data, _); }})]);"
        )
    script.append("console.log(JSON.stringify(out));")
    program = tmp_path / "templates.js"
    program.write_text("\n".join(script))
    run = subprocess.run(
        ["node", str(program), str(static)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    pairs = json.loads(run.stdout)
    assert len(pairs) == len(found) + len(TEMPLATES)
    for theirs, ours in pairs:
        assert ours == theirs
    assert any("&lt;b&gt;x&lt;/b&gt;" in ours for _, ours in pairs)  # <%- escapes
    assert sum(not ours.startswith("error: ") for _, ours in pairs) >= len(pairs) - 3


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
