"""The test session's real servers come up and answer."""

import redis as redis_client

from tests.support.servers import PostgresServer, RedisServer


def test_postgres_answers(pg_server: PostgresServer) -> None:
    assert pg_server.psql("SELECT 1").strip() == "1"


def test_redis_answers(redis: RedisServer) -> None:
    client = redis_client.Redis.from_url(redis.url())
    assert client.ping() is True
    client.close()
