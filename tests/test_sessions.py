"""app/clients/sessions.py: the environment is read once, not on every request."""

from __future__ import annotations

import os

import pytest
import requests

from app.clients.sessions import ProcessSession


@pytest.mark.parametrize(
    ("environment", "trust_env", "verify"),
    [
        ({}, False, True),
        ({"REQUESTS_CA_BUNDLE": "/etc/ca.pem"}, False, "/etc/ca.pem"),
        ({"CURL_CA_BUNDLE": "/etc/curl.pem"}, False, "/etc/curl.pem"),
        ({"HTTPS_PROXY": "http://proxy:3128"}, True, True),
        ({"no_proxy": "localhost"}, True, True),
        ({"NETRC": "/root/.netrc"}, True, True),
    ],
)
def test_a_session_reads_the_environment_once(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], trust_env: bool, verify: object
) -> None:
    for name in list(os.environ):
        if name.upper() in (
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "NO_PROXY",
            "NETRC",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
        ):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    configured: list[requests.Session] = []
    session = ProcessSession(configured.append).get()
    assert (session.trust_env, session.verify) == (trust_env, verify)
    assert configured == [session]


def test_one_session_per_process_until_a_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = ProcessSession(lambda s: None)
    first = sessions.get()
    assert sessions.get() is first
    monkeypatch.setattr(os, "getpid", lambda: -1)  # as a forked child sees it
    assert sessions.get() is not first
