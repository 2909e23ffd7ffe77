"""The feed's long poll (`wait`): answers at once when there is something after `since`, holds
otherwise, and answers as soon as the assigner numbers a change; same page shape."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from ordering_api.app import create_app
from ordering_api.settings import OrderingSettings
from tests.ordering_api.conftest import AUTH, ORDER, TOKEN, Ordering
from tests.support.asgi import started


async def test_answers_at_once_when_changes_exist(ordering: Ordering) -> None:
    await ordering.confirmed()
    started_at = time.monotonic()
    page = await ordering.client.get("/orders/changes", params={"since": 0, "wait": 20})
    assert page.status_code == 200 and [o["number"] for o in page.json()["orders"]] == [1]
    assert time.monotonic() - started_at < 10, "did not hold although there was a change"


async def test_a_quiet_feed_answers_the_empty_page_after_the_wait(ordering: Ordering) -> None:
    await ordering.confirmed()
    page = await ordering.client.get("/orders/changes", params={"since": 1, "wait": 0.2})
    assert page.json()["orders"] == [] and page.json()["next_since"] == 1
    assert set(page.json()) == {"orders", "next_since", "has_more", "high_water", "feed_id"}


async def test_a_reader_ahead_of_the_feed_hears_it_at_once(ordering: Ordering) -> None:
    """A token above the high water (ordering's database was restored from a backup): the
    feed answers at once with its true high water, so the reader finds out without waiting."""
    await ordering.confirmed()
    started_at = time.monotonic()
    page = await ordering.client.get("/orders/changes", params={"since": 5, "wait": 20})
    assert page.json()["orders"] == [] and page.json()["high_water"] == 1
    assert page.json()["next_since"] == 5
    assert time.monotonic() - started_at < 10, "held although the reader is ahead"


async def test_a_waiter_answers_when_a_confirm_is_numbered(ordering: Ordering) -> None:
    first = await ordering.confirmed()
    waiting = asyncio.create_task(
        ordering.client.get("/orders/changes", params={"since": 1, "wait": 20})
    )
    await asyncio.sleep(0)  # let the request start (the answer must not depend on it)
    draft = await ordering.create()
    confirmed = await ordering.client.post(f"/orders/{draft['number']}/confirm")
    assert confirmed.status_code == 200
    # The conftest's assign interval is 60 s: only the confirm's kick can number it this soon.
    page = (await asyncio.wait_for(waiting, timeout=10)).json()
    assert [o["number"] for o in page["orders"]] == [draft["number"]]
    assert page["next_since"] == 2 and first["number"] == 1


@pytest.mark.parametrize("wait", ["-1", "abc", "nan", "inf"])
async def test_a_bad_wait_is_a_clear_400(ordering: Ordering, wait: str) -> None:
    answer = await ordering.client.get("/orders/changes", params={"wait": wait})
    assert answer.status_code == 400
    assert "'wait'" in answer.json()["error"]["message"]


@pytest.fixture
async def short_max(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = OrderingSettings(
        database_url=sqlite_url, service_token=TOKEN, assign_interval=60, feed_max_wait=0.1
    )
    async with (
        started(create_app(settings)) as running,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=running.asgi),
            base_url="http://ordering.test",
            headers=AUTH,
        ) as client,
    ):
        yield client


async def test_a_wait_above_the_setting_is_cut_to_it(short_max: httpx.AsyncClient) -> None:
    answer = await asyncio.wait_for(
        short_max.get("/orders/changes", params={"wait": 3600}), timeout=10
    )
    assert answer.status_code == 200 and answer.json()["orders"] == []


@pytest.mark.postgres
async def test_a_waiter_wakes_when_another_replica_numbers(pg_url: str) -> None:
    settings = OrderingSettings(database_url=pg_url, service_token=TOKEN, assign_interval=60)
    async with (
        started(create_app(settings)) as one,
        started(create_app(settings)) as two,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=one.asgi), base_url="http://a.test", headers=AUTH
        ) as replica_one,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=two.asgi), base_url="http://b.test", headers=AUTH
        ) as replica_two,
    ):
        waiting = asyncio.create_task(
            replica_one.get("/orders/changes", params={"since": 0, "wait": 20})
        )
        await asyncio.sleep(0)
        draft = (await replica_two.post("/orders", json=ORDER)).json()
        assert (await replica_two.post(f"/orders/{draft['number']}/confirm")).status_code == 200
        # Replica two's kick numbers it; replica one hears of it only through NOTIFY.
        page = (await asyncio.wait_for(waiting, timeout=10)).json()
        assert [o["number"] for o in page["orders"]] == [draft["number"]]
