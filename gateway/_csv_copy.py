"""Streaming CSV out of PostgreSQL: ``COPY … TO STDOUT`` into files, one chunk at a time.

:func:`copy_csv` writes one COPY into one file. :func:`split_copy` cuts one COPY whose
first column is a file index into several files as it streams, so settlement writes every
participant's file from a single sorted query.
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["copy_csv", "split_copy"]


class _Splitter:
    """Cuts ``COPY … CSV`` output whose first column is a file index (ascending) into
    ``outs``, without that column, as it streams: memory holds one chunk at a time.
    ``done(i)`` hears that file ``i`` has all its rows, once the stream has moved past it.

    A record ends at a newline outside quotes; only chunks holding a quote (a field with a
    comma, quote or newline in it) need the slow, quote-counting cut.
    """

    def __init__(
        self, outs: Sequence[io.BufferedWriter], done: Callable[[int], None] = lambda _: None
    ) -> None:
        self._outs = outs
        self._done = done
        self._carry = b""
        self._next = 0  # the first file not yet reported done

    async def __call__(self, data: bytes) -> None:
        data = self._carry + data if self._carry else data
        quoted = b'"' in data
        cut = _last_record_end(data) if quoted else data.rfind(b"\n") + 1
        self._carry = data[cut:]
        if cut:
            self._route(data[:cut], quoted)

    def close(self) -> None:
        assert not self._carry, "COPY output ended inside a record"
        self._finish(len(self._outs))

    def _route(self, block: bytes, quoted: bool) -> None:
        first = block[: block.index(b",") + 1]
        last = block[block.rfind(b"\n", 0, len(block) - 1) + 1 :]
        if not quoted and last.startswith(first):
            # One file, no quotes: every newline starts a record with the same prefix.
            self._write(int(first[:-1]), block[len(first) :].replace(b"\n" + first, b"\n"))
            return
        for record in _records(block):
            comma = record.index(b",")
            self._write(int(record[:comma]), record[comma + 1 :])

    def _write(self, index: int, data: bytes) -> None:
        self._finish(index)
        self._outs[index].write(data)

    def _finish(self, before: int) -> None:
        while self._next < before:
            self._done(self._next)
            self._next += 1


def _record_ends(data: bytes) -> Iterator[int]:
    """The offsets just past each newline that ends a CSV record (not one inside quotes)."""
    position, inside = 0, False
    while (newline := data.find(b"\n", position)) >= 0:
        inside ^= data.count(b'"', position, newline) % 2 == 1
        position = newline + 1
        if not inside:
            yield position


def _last_record_end(data: bytes) -> int:
    return max(_record_ends(data), default=0)


def _records(block: bytes) -> list[bytes]:
    out: list[bytes] = []
    start = 0
    for end in _record_ends(block):
        out.append(block[start:end])
        start = end
    return out


async def _copy(
    connection: AsyncConnection, query: sa.Select[Any], sink: Callable[[bytes], Awaitable[None]]
) -> None:
    compiled = query.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup or []]
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_from_query(compiled.string, *args, output=sink, format="csv")


async def copy_csv(
    connection: AsyncConnection, query: sa.Select[Any], out: io.BufferedWriter
) -> None:
    """Append the rows of ``query`` to ``out`` as CSV."""

    async def write(data: bytes) -> None:
        # A buffered write, in the event loop: asyncpg would hand a file each chunk
        # through a thread.
        out.write(data)

    await _copy(connection, query, write)


async def split_copy(
    connection: AsyncConnection,
    query: sa.Select[Any],
    outs: Sequence[io.BufferedWriter],
    done: Callable[[int], None] = lambda _: None,
) -> None:
    """Append the rows of ``query``, whose first column is an index into ``outs``
    (ascending), each to its file without that column; ``done(i)`` hears file ``i``
    complete."""
    splitter = _Splitter(outs, done)
    await _copy(connection, query, splitter)
    splitter.close()
