"""Worker processes for what a server must not do in its own process: parse a commit it has not
verified yet, render a template with values from a request. Each task has a deadline; a worker
past it is killed and replaced, and closing kills them all at once.

A worker is a plain process reading tasks from a pipe, one at a time: no pool threads, nothing
that can respawn workers behind the server's back or hold up its shutdown. Workers are forked
from a fork server that imported the worker modules once, so a new one starts in milliseconds,
and forking stays safe although the server runs threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.connection
import sys
from collections.abc import Callable, Sequence
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

from ..errors import PromptshipError

__all__ = ["TaskTimeout", "WorkerFailed", "Workers", "warm_up"]

T = TypeVar("T")

_PRELOAD = ["registry.web.verify", "registry.web.rendering"]


class TaskTimeout(PromptshipError):
    """A worker's task ran past its deadline; the worker was killed."""


class WorkerFailed(PromptshipError):
    """A worker process died during a task, or its task raised."""


def _context() -> multiprocessing.context.BaseContext:
    if sys.platform in ("linux", "darwin"):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def warm_up() -> None:
    """Start the fork server now (it imports the worker modules while the server starts), so
    the first task does not wait for it."""
    if _context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _serve(connection: multiprocessing.connection.Connection, memory: int | None) -> None:
    """A worker's life: run each task received, send back ``(True, result)`` or ``(False,
    what went wrong)``, until the pipe closes."""
    if memory is not None and sys.platform != "win32":
        import resource  # POSIX only; Windows has no address-space limit to set

        # A template that builds a huge string fails with MemoryError, not the machine's memory.
        with contextlib.suppress(ValueError, OSError):
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard == resource.RLIM_INFINITY or hard > memory:
                resource.setrlimit(resource.RLIMIT_AS, (memory, hard))
    while True:
        try:
            function, args = connection.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except BaseException as exc:
            reply = (False, f"{type(exc).__name__}: {exc}")
        try:
            connection.send(reply)
        except (OSError, ValueError):
            return


class _Worker:
    def __init__(self, context: multiprocessing.context.BaseContext, memory: int | None) -> None:
        self.connection, theirs = multiprocessing.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(theirs, memory), daemon=True
        )
        self.process.start()
        theirs.close()

    def call(self, function: Callable[..., Any], args: tuple[Any, ...]) -> tuple[bool, Any]:
        self.connection.send((function, args))
        reply: tuple[bool, Any] = self.connection.recv()
        return reply

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class Workers:
    """Up to ``processes`` worker processes (each limited to ``memory`` bytes of address space,
    when given) running tasks with deadlines."""

    def __init__(self, processes: int, *, memory: int | None = None, name: str = "worker") -> None:
        self.processes = processes
        self.memory = memory
        self.name = name
        self.killed = 0
        self._running: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._freed: asyncio.Condition | None = None

    async def _acquire(self) -> _Worker:
        if self._freed is None:
            self._freed = asyncio.Condition()
        async with self._freed:
            while not self._idle and len(self._running) >= self.processes:
                await self._freed.wait()
            if self._idle:
                return self._idle.pop()
            worker = await asyncio.to_thread(_Worker, _context(), self.memory)
            self._running.append(worker)
            return worker

    async def _release(self, worker: _Worker, *, keep: bool) -> None:
        assert self._freed is not None
        async with self._freed:
            if keep and worker in self._running:
                self._idle.append(worker)
            elif worker in self._running:
                self._running.remove(worker)
                await asyncio.to_thread(worker.kill)
            self._freed.notify()

    async def run(self, timeout: float, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a worker; ``TaskTimeout`` after ``timeout`` seconds (the
        worker is killed), ``WorkerFailed`` when the worker dies or the task raises."""
        worker = await self._acquire()
        try:
            ok, value = await asyncio.wait_for(
                asyncio.to_thread(worker.call, function, args), timeout
            )
        except asyncio.TimeoutError:
            self.killed += 1
            await self._release(worker, keep=False)
            raise TaskTimeout(
                f"a {self.name} task ran longer than {timeout:g} s and was stopped",
                hint="see the server's log",
            ) from None
        except (EOFError, OSError) as exc:
            await self._release(worker, keep=False)
            raise WorkerFailed(
                f"a {self.name} process died: {type(exc).__name__}", hint="see the server's log"
            ) from None
        except BaseException:
            await self._release(worker, keep=False)
            raise
        await self._release(worker, keep=True)
        if not ok:
            raise WorkerFailed(f"a {self.name} task failed: {value}", hint="see the server's log")
        result: T = value
        return result

    async def map(
        self, timeout: float, function: Callable[..., T], arguments: Sequence[tuple[Any, ...]]
    ) -> list[T]:
        """``function`` on each tuple of ``arguments``, spread over the workers, in order."""
        return list(await asyncio.gather(*(self.run(timeout, function, *a) for a in arguments)))

    def close(self) -> None:
        """Kill every worker now."""
        workers, self._running, self._idle = self._running, [], []
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()
        for worker in workers:
            worker.process.join(timeout=5)
            worker.connection.close()
