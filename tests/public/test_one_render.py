"""Requests that miss the same stored response at once are answered from one render.

A publication gives every public page a new generation, with nothing stored under it: the
requests that arrive while the new table's page is first rendered wait for that render instead
of each rendering it again. The views here are stand-ins that count their renders and can be
held mid-render; the middleware, the keys and the stores are the real ones.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from public import caching

HELD_FOR = 10  # seconds a test waits for something that should happen at once


@pytest.fixture(autouse=True)
def fixed_generation(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The worker threads here ask no database: the generation is what the test says.
    monkeypatch.setattr(caching, "generation", lambda: "generation-1")
    caching.clear()
    yield
    caching.clear()


class HeldView:
    """A view whose renders block until released, counting how many started."""

    def __init__(self, respond=None) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.renders = 0
        self._lock = threading.Lock()
        self.respond = respond or (lambda request: HttpResponse(f"table for {request.path}"))

    def __call__(self, request):
        with self._lock:
            self.renders += 1
        self.started.release()
        assert self.release.wait(HELD_FOR), "the test never released the render"
        return self.respond(request)


def ask(view: HeldView, paths: list[str]) -> tuple[ThreadPoolExecutor, list[Future]]:
    """Send GETs for `paths` through the middleware at once: the pool and their futures."""
    middleware = caching.PublicCacheMiddleware(view)
    factory = RequestFactory()
    pool = ThreadPoolExecutor(max_workers=len(paths))
    futures = [pool.submit(middleware, factory.get(path)) for path in paths]
    return pool, futures


def test_requests_arriving_during_a_render_are_answered_from_it() -> None:
    view = HeldView()
    pool, futures = ask(view, ["/trusts/RYY/"] * 6)
    assert view.started.acquire(timeout=HELD_FOR)
    # Give the other five every chance to start rendering too, if they were going to.
    assert not view.started.acquire(timeout=0.3)
    view.release.set()
    responses = [future.result(timeout=HELD_FOR) for future in futures]
    pool.shutdown()

    assert view.renders == 1
    assert {response.status_code for response in responses} == {200}
    assert {response.content for response in responses} == {b"table for /trusts/RYY/"}


def test_different_pages_are_rendered_side_by_side() -> None:
    view = HeldView()
    pool, futures = ask(view, ["/trusts/RYY/", "/trusts/RX3/"])
    # Both renders start before either is released: one does not wait for the other.
    assert view.started.acquire(timeout=HELD_FOR)
    assert view.started.acquire(timeout=HELD_FOR)
    view.release.set()
    bodies = {future.result(timeout=HELD_FOR).content for future in futures}
    pool.shutdown()

    assert bodies == {b"table for /trusts/RYY/", b"table for /trusts/RX3/"}


def test_when_the_render_cannot_be_stored_each_request_renders_its_own() -> None:
    def personal(request):
        response = HttpResponse("signed-in view")
        response.set_cookie("sessionid", "someone")
        return response

    view = HeldView(personal)
    pool, futures = ask(view, ["/trusts/RYY/"] * 3)
    assert view.started.acquire(timeout=HELD_FOR)
    view.release.set()
    responses = [future.result(timeout=HELD_FOR) for future in futures]
    pool.shutdown()

    assert view.renders == 3  # nobody was handed another's cookie
    assert all(response.cookies["sessionid"].value == "someone" for response in responses)
    assert all(response["Cache-Control"] == "private" for response in responses)


def test_a_failed_render_fails_only_its_own_request() -> None:
    failures = iter([RuntimeError("the first render broke")])

    def first_fails(request):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return HttpResponse("table")

    view = HeldView(first_fails)
    pool, futures = ask(view, ["/trusts/RYY/"] * 3)
    assert view.started.acquire(timeout=HELD_FOR)
    view.release.set()
    outcomes = []
    for future in futures:
        try:
            outcomes.append(future.result(timeout=HELD_FOR).content)
        except RuntimeError as error:
            outcomes.append(str(error))
    pool.shutdown()

    assert sorted(outcomes, key=str) == [b"table", b"table", "the first render broke"]


def test_a_render_that_never_ends_holds_the_others_only_so_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(caching, "RENDER_WAIT_SECONDS", 0.2)
    view = HeldView()  # the first render is held until released; any later one is not
    later = HeldView()
    later.release.set()
    renders = iter([view])
    middleware = caching.PublicCacheMiddleware(lambda request: next(renders, later)(request))
    factory = RequestFactory()
    pool = ThreadPoolExecutor(max_workers=2)

    stuck = pool.submit(middleware, factory.get("/trusts/RYY/"))
    assert view.started.acquire(timeout=HELD_FOR)
    waiting = pool.submit(middleware, factory.get("/trusts/RYY/"))

    # The second request gave up on the stuck render after its wait and rendered for itself.
    assert waiting.result(timeout=HELD_FOR).content == b"table for /trusts/RYY/"
    assert later.renders == 1
    assert not stuck.done()
    view.release.set()
    assert stuck.result(timeout=HELD_FOR).content == b"table for /trusts/RYY/"
    pool.shutdown()
