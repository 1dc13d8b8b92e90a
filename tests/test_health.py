"""/healthz warns before Redis is full (README, "Redis memory"): a full Redis with
``noeviction`` refuses writes, so notifications get 503 and jobs wait; a policy that
evicts keys loses jobs silently. Against a redis-server of the test's own."""

from __future__ import annotations

from pathlib import Path

import fakeredis
import pytest

from app import create_app
from app.health import redis_memory_warnings
from app.services import redis_client
from tests.helpers import OwnRedis, World


@pytest.mark.parametrize(
    ("info", "keys"),
    [
        ({"used_memory": 10, "maxmemory": 0, "maxmemory_policy": "allkeys-lru"}, set()),
        ({"used_memory": 79, "maxmemory": 100, "maxmemory_policy": "noeviction"}, set()),
        ({"used_memory": 80, "maxmemory": 100, "maxmemory_policy": "noeviction"}, {"redis_memory"}),
        (
            {"used_memory": 1, "maxmemory": 100, "maxmemory_policy": "volatile-lru"},
            {"redis_policy"},
        ),
    ],
)
def test_memory_warnings(info: dict[str, object], keys: set[str]) -> None:
    assert set(redis_memory_warnings(info)) == keys


def test_healthz_warns_near_the_limit_and_fails_when_redis_is_gone(
    embedded_world: World, tmp_path: Path
) -> None:
    own = OwnRedis(tmp_path).start()
    try:
        redis = redis_client(own.url)
        embedded_world.services.redis = redis
        client = create_app(services=embedded_world.services).test_client()
        assert client.get("/healthz").get_json() == {"status": "ok"}
        redis.config_set("maxmemory-policy", "noeviction")
        used = int(redis.info("memory")["used_memory"])
        redis.config_set("maxmemory", str(int(used / 0.9)))  # 90% used
        answer = client.get("/healthz")
        assert answer.status_code == 200
        assert "% of maxmemory" in answer.get_json()["warnings"]["redis_memory"]
        own.kill()
        gone = client.get("/healthz")
        assert gone.status_code == 503 and "redis" in gone.get_json()["failing"]
    finally:
        own.kill()


def test_healthz_without_info_has_no_warnings(embedded_world: World) -> None:
    embedded_world.services.redis = fakeredis.FakeRedis()  # answers PING, not INFO
    client = create_app(services=embedded_world.services).test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
