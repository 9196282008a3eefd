"""Protection of the HTTP API: rate limits (memory and shared Redis), CORS allow-list.

These routes need no index, so the apps here are built without an Assistant (it never loads:
the data directory is empty) and the tests run in seconds.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from api_support import live_server
from conftest import REDIS_URL, TEST_TODAY
from limits import parse

from assistant.settings import BUNDLED_CORPUS, Settings
from server import create_app

pytestmark = pytest.mark.integration

ALLOWED = "https://pcn-site.example"


def _settings(tmp_path: Path, **overrides) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", corpus_dir=BUNDLED_CORPUS, today=TEST_TODAY, _env_file=None, **overrides
    )


def _limit_count(settings: Settings) -> int:
    return parse(settings.rate_limit).amount


def test_rate_limit_is_per_client_with_retry_after(tmp_path: Path) -> None:
    settings = _settings(tmp_path, rate_limit="3/minute")
    allowed = _limit_count(settings)
    with live_server(create_app(settings)) as running, httpx.Client(base_url=running.url) as http:
        statuses = [http.get("/api/roles").status_code for _ in range(allowed)]
        assert statuses == [200] * allowed
        refused = http.get("/api/roles")
        assert refused.status_code == 429
        body = refused.json()
        assert body["error"] == "rate_limited" and body["request_id"] == refused.headers["x-request-id"]
        assert 0 < int(refused.headers["retry-after"]) <= 60
        # Another client (a different address, as set by a trusted proxy) has its own allowance.
        other = http.get("/api/roles", headers={"X-Forwarded-For": "203.0.113.9"})
        assert other.status_code == 200
        # Probes, metrics and the widget itself are never limited.
        for path in ("/healthz", "/readyz", "/metrics", "/widget.js", "/"):
            assert http.get(path).status_code != 429
        assert "arrs_rate_limited_total 1.0" in http.get("/metrics").text


def test_cors_allows_listed_origins_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, allowed_origins=[ALLOWED])
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-arrs-client",
    }
    with live_server(create_app(settings)) as running, httpx.Client(base_url=running.url) as http:
        ok = http.options("/api/ask", headers={"Origin": ALLOWED, **preflight})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == ALLOWED
        assert "POST" in ok.headers["access-control-allow-methods"]
        assert "x-arrs-client" in ok.headers["access-control-allow-headers"].lower()

        refused = http.options("/api/ask", headers={"Origin": "https://evil.example", **preflight})
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers

        simple = http.get("/api/roles", headers={"Origin": ALLOWED})
        assert simple.headers["access-control-allow-origin"] == ALLOWED
        assert "retry-after" in simple.headers["access-control-expose-headers"].lower()
        assert (
            "access-control-allow-origin"
            not in http.get("/api/roles", headers={"Origin": "https://evil.example"}).headers
        )


def test_cors_is_closed_by_default(tmp_path: Path) -> None:
    with live_server(create_app(_settings(tmp_path))) as running, httpx.Client(base_url=running.url) as http:
        response = http.get("/api/roles", headers={"Origin": ALLOWED})
        assert "access-control-allow-origin" not in response.headers


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(
            f"SKIPPED LOUDLY: no Redis server at {REDIS_URL} ({exc}); the shared rate limit is untested"
        )
    return client


def test_rate_limit_is_shared_between_replicas_through_redis(tmp_path: Path) -> None:
    client = _redis_or_skip()
    client.flushdb()  # db 15 is the tests' own database
    # The field is read through its env alias (the keyword name alone would be ignored).
    settings = _settings(tmp_path, rate_limit="4/minute", ARRS_RATE_LIMIT_STORAGE_URI=REDIS_URL)
    assert settings.rate_limit_storage_uri == REDIS_URL
    allowed = _limit_count(settings)
    # A client address of its own, so reruns against the same Redis never see old hits.
    address = {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}
    with (
        live_server(create_app(settings)) as first,
        live_server(create_app(settings)) as second,
        httpx.Client() as http,
    ):
        replicas = [first.url, second.url]
        statuses = [
            http.get(f"{replicas[i % 2]}/api/roles", headers=address).status_code for i in range(allowed)
        ]
        assert statuses == [200] * allowed
        # Each replica alone has seen only half the requests, yet both refuse the next one.
        for url in replicas:
            refused = http.get(f"{url}/api/roles", headers=address)
            assert refused.status_code == 429, url
            assert int(refused.headers["retry-after"]) > 0
    assert any(key.startswith(b"LIMITS") for key in client.keys("*"))
    client.flushdb()
