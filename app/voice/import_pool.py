"""An import's rows built in a pool of processes while the importing process writes them.

Building a row (validation, classification, the dedup hash) is pure Python and holds the GIL,
so threads would not help: on two cores, two processes building beside the one that inserts
and commits bring a big file in about half again as fast. Small files are built in-process;
starting processes costs more than they would save.

The processes come from a fork server that preloads this module once per importing process,
never from fork() of a process that may be running web or scheduler threads. Batches come back
in file order and at most `2 × workers` ahead of the writer, so memory stays small and the
import still commits whole batches with its `next_row`: a crash leaves a resumable import,
exactly as an in-process one does. An error in a worker is raised in the importing process.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from app.voice.import_rows import BuiltBatch, RowBuilder
from app.voice.importers import SourceRow

MAX_DEFAULT_WORKERS = 4
DEFAULT_PARALLEL_ROWS = 10_000
# rows a pool process builds at a time: small enough that the first come back soon after the
# start and the writer seldom waits, large enough that sending them costs little
CHUNK_ROWS = 1000

_builder: RowBuilder | None = None  # in a pool process: the import's builder


def default_workers() -> int:
    """The cores this process may use, up to four (the writer is the limit after that)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_WORKERS, cores))


def workers_for(rows: int, config: Mapping[str, Any]) -> int:
    """How many processes build `rows` rows: VOICE_IMPORT_WORKERS (1 = always in-process)
    once there are VOICE_IMPORT_PARALLEL_ROWS of them, else none besides this one."""
    workers = int(config.get("VOICE_IMPORT_WORKERS") or default_workers())
    threshold = int(config.get("VOICE_IMPORT_PARALLEL_ROWS", DEFAULT_PARALLEL_ROWS))
    return workers if workers > 1 and rows >= threshold else 1


def _start(builder: RowBuilder) -> None:
    global _builder
    _builder = builder
    os.nice(10)
    gc.freeze()  # the modules and the builder live as long as the process: never scan them


def _started() -> None:
    """A first task: done once its process is up."""


def _build(chunk: list[SourceRow]) -> BuiltBatch:
    assert _builder is not None  # noqa: S101 (set by the pool's initializer)
    return _builder.build(chunk)


def batches(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    it = iter(rows)
    while batch := list(itertools.islice(it, size)):
        yield batch


@contextmanager
def built_batches(
    builder: RowBuilder, rows: Iterable[SourceRow], *, batch_size: int, workers: int
) -> Iterator[Iterator[BuiltBatch]]:
    """The file's batches of `batch_size` rows, built, in order: in this process when `workers`
    is 1, else by a pool of that many processes, shut down (queued work dropped) when the
    caller leaves."""
    if workers <= 1:
        yield (builder.build(batch) for batch in batches(rows, batch_size))
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start, initargs=(builder,)
    )
    pool = _Starting(executor, workers)
    chunk = min(CHUNK_ROWS, batch_size)
    window = batch_size // chunk + 2 * workers  # a batch being written, and work ahead of it
    try:
        yield _merged(_in_order(pool, builder, batches(rows, chunk), window), batch_size)
    finally:
        pool.thread.join()
        executor.shutdown(wait=True, cancel_futures=True)


class _Starting:
    """Starts the pool's processes on a thread of its own: each start waits for the fork
    server, which imports the app the first time (about a second), and meanwhile the importing
    thread builds the first chunks itself instead of waiting."""

    def __init__(self, executor: ProcessPoolExecutor, workers: int) -> None:
        self.executor = executor
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self._run, args=(workers,), name="voice-import-pool", daemon=True
        )
        self.thread.start()

    def _run(self, workers: int) -> None:
        try:  # a task per process: submitting starts them, its result says they are up
            for future in [self.executor.submit(_started) for _ in range(workers)]:
                future.result()
        except BaseException as exc:  # raised again in the importing thread (ready)
            self.error = exc

    def ready(self) -> bool:
        if self.thread.is_alive():
            return False
        if self.error is not None:
            raise self.error
        return True


def _in_order(
    pool: _Starting, builder: RowBuilder, chunks: Iterator[list[SourceRow]], window: int
) -> Iterator[BuiltBatch]:
    queued: deque[Future[BuiltBatch]] = deque()
    for chunk in chunks:
        if not queued and not pool.ready():
            yield builder.build(chunk)  # the pool is not up yet: build here, in order
            continue
        queued.append(pool.executor.submit(_build, chunk))
        if len(queued) >= window:
            yield queued.popleft().result()
    while queued:
        yield queued.popleft().result()


def _merged(chunks: Iterator[BuiltBatch], size: int) -> Iterator[BuiltBatch]:
    """Chunks joined into batches of `size` rows (the last one may be shorter)."""
    batch = BuiltBatch(size=0)
    for chunk in chunks:
        batch.size += chunk.size
        batch.pending.extend(chunk.pending)
        batch.rejected.extend(chunk.rejected)
        if batch.size >= size:
            yield batch
            batch = BuiltBatch(size=0)
    if batch.size:
        yield batch
