"""Rate limits in a real redis-server: two limiters (two replicas) share one limit per client; while Redis is
down each falls back to its own memory and says so once; when it is back they share again by themselves."""

from __future__ import annotations

import logging
import time

import pytest

from assistant.web import rate_limit
from assistant.web.rate_limit import RateLimiter
from tests.services import redis_server


def test_two_replicas_share_one_limit_per_client(redis):
    a = RateLimiter(per_minute=10, burst=10, redis_url=redis.url, namespace="shared-test")
    b = RateLimiter(per_minute=10, burst=10, redis_url=redis.url, namespace="shared-test")
    verdicts = [(a if i % 2 else b).acquire("key:helpdesk") for i in range(14)]
    assert verdicts[:10] == [0] * 10 and all(1 <= w <= 60 for w in verdicts[10:]), verdicts
    assert a.shared and b.shared
    assert a.acquire("key:other") == 0  # another client has its own windows
    # Another namespace (the feedback limiter) counts apart from the requests' limiter.
    assert RateLimiter(10, 10, redis.url, namespace="feedback-test").acquire("key:helpdesk") == 0


def test_redis_down_falls_back_to_memory_logs_once_and_comes_back(caplog, monkeypatch):
    monkeypatch.setattr(rate_limit, "RETRY_SECONDS", 0.5)
    with redis_server() as server:
        limiter = RateLimiter(per_minute=6, burst=6, redis_url=server.url, namespace="outage-test")
        other = RateLimiter(per_minute=6, burst=6, redis_url=server.url, namespace="outage-test")
        assert [limiter.acquire("k") for _ in range(3)] == [0, 0, 0] and limiter.shared
        server.stop()
        with caplog.at_level(logging.WARNING, logger="assistant.web.rate_limit"):
            started = time.monotonic()
            local = [limiter.acquire("k") for _ in range(8)]
            assert time.monotonic() - started < 5  # no request waits for a dead Redis more than once
            # The limit still holds in this process: 6 in a minute, counted from now.
            assert local[:6] == [0] * 6 and local[6] >= 1 and not limiter.shared
            time.sleep(0.6)
            assert limiter.acquire("k") >= 1  # tried Redis again (still down), memory still counts
            server.start()  # the same port, empty (no persistence): back, nothing restarted
            time.sleep(0.6)
            assert limiter.acquire("k") == 0 and limiter.shared  # counted in Redis again …
            shared = [other.acquire("k") for _ in range(6)]
            assert shared[:5] == [0] * 5 and shared[5] >= 1  # … where the other replica sees it
        lines = [r.getMessage() for r in caplog.records if r.name == "assistant.web.rate_limit"]
        assert sum("unreachable" in line for line in lines) == 1, lines
        assert sum("reachable again" in line for line in lines) == 1, lines
        assert not any("redis://" in line for line in lines)


@pytest.mark.parametrize("per_minute,burst", [(0, 5), (-1, 5)])
def test_a_limit_of_zero_is_off(per_minute, burst):
    assert not RateLimiter(per_minute, burst).enabled and RateLimiter(per_minute, burst).acquire("x") == 0
