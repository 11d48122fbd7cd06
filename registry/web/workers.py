"""Worker processes for what a server must not do in its own process: parse a commit it has not
verified yet, render a template with values from a request. Each task has a deadline; a task
past it is killed with its pool, and the next task gets a fresh one.

Workers are forked from a fork server that imported the worker modules once, so a new pool
starts in milliseconds, and forking stays safe although the server runs threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import multiprocessing.pool
import resource
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import PromptshipError

__all__ = ["TaskTimeout", "Workers", "warm_up"]

T = TypeVar("T")

_PRELOAD = ["registry.web.verify", "registry.web.rendering"]


class TaskTimeout(PromptshipError):
    """A worker's task ran past its deadline and was killed."""


def _context() -> multiprocessing.context.BaseContext:
    if sys.platform == "linux" or sys.platform == "darwin":
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def warm_up() -> None:
    """Start the fork server now (it imports the worker modules), so the first pool does not
    wait for it."""
    context = _context()
    ensure = getattr(context, "forkserver", None)
    if ensure is None:  # spawn: nothing to start ahead
        return
    from multiprocessing import forkserver

    forkserver.ensure_running()


def _limit_memory(limit: int) -> None:
    """A worker's address space is bounded: a template that builds a huge string fails with
    ``MemoryError`` instead of taking the machine's memory."""
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


class Workers:
    """A pool of ``processes`` worker processes (each limited to ``memory`` bytes of address
    space, when given) running tasks with deadlines."""

    def __init__(self, processes: int, *, memory: int | None = None, name: str = "worker") -> None:
        self.processes = processes
        self.memory = memory
        self.name = name
        self._pool: multiprocessing.pool.Pool | None = None
        self.killed = 0

    def _start(self) -> multiprocessing.pool.Pool:
        if self._pool is None:
            initializer: Callable[..., None] | None = None
            args: tuple[Any, ...] = ()
            if self.memory is not None:
                initializer, args = _limit_memory, (self.memory,)
            self._pool = _context().Pool(self.processes, initializer, args)
        return self._pool

    async def run(self, timeout: float, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a worker; ``TaskTimeout`` after ``timeout`` seconds (the pool
        is killed: a task cannot be stopped alone)."""
        results = await self.map(timeout, function, [args])
        return results[0]

    async def map(
        self, timeout: float, function: Callable[..., T], arguments: Sequence[tuple[Any, ...]]
    ) -> list[T]:
        """``function`` on each tuple of ``arguments``, spread over the workers, in order."""
        pool = self._start()
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[T]] = []
        for args in arguments:
            future: asyncio.Future[T] = loop.create_future()
            pool.apply_async(
                function,
                args,
                callback=functools.partial(_settle_from_thread, loop, future),
                error_callback=functools.partial(_fail_from_thread, loop, future),
            )
            futures.append(future)
        try:
            return list(await asyncio.wait_for(asyncio.gather(*futures), timeout))
        except asyncio.TimeoutError:
            self.killed += 1
            await asyncio.to_thread(self._kill, pool)
            raise TaskTimeout(
                f"a {self.name} task ran longer than {timeout:g} s and was stopped",
                hint="see the server's log",
            ) from None

    def _kill(self, pool: multiprocessing.pool.Pool) -> None:
        if self._pool is pool:
            self._pool = None
        pool.terminate()
        pool.join()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()
            pool.join()


def _settle_from_thread(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[T], value: T
) -> None:
    loop.call_soon_threadsafe(_settle, future, value)


def _fail_from_thread(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], exc: BaseException
) -> None:
    loop.call_soon_threadsafe(_fail, future, exc)


def _settle(future: asyncio.Future[T], value: T) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
