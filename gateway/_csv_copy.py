"""Streaming CSV out of PostgreSQL: ``COPY … TO STDOUT`` into files, one chunk at a time.

:func:`split_copy` cuts one COPY whose first column is a file index into several files as
it streams, so settlement writes every participant's file from a single sorted query.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["copy_csv", "split_copy"]


class _Splitter:
    """Cuts ``COPY … CSV`` output whose first column is a file index (ascending) into
    ``outs``, without that column, as it streams: memory holds one chunk at a time.

    A record ends at a newline outside quotes; only chunks holding a quote (a field with a
    comma, quote or newline in it) need the slow, quote-counting cut.
    """

    def __init__(self, outs: list[io.BufferedWriter]) -> None:
        self._outs = outs
        self._carry = b""

    async def __call__(self, data: bytes) -> None:
        data = self._carry + data if self._carry else data
        quoted = b'"' in data
        cut = _last_record_end(data) if quoted else data.rfind(b"\n") + 1
        self._carry = data[cut:]
        if cut:
            self._route(data[:cut], quoted)

    def close(self) -> None:
        assert not self._carry, "COPY output ended inside a record"

    def _route(self, block: bytes, quoted: bool) -> None:
        first = block[: block.index(b",") + 1]
        last = block[block.rfind(b"\n", 0, len(block) - 1) + 1 :]
        if not quoted and last.startswith(first):
            # One file, no quotes: every newline starts a record with the same prefix.
            self._outs[int(first[:-1])].write(block[len(first) :].replace(b"\n" + first, b"\n"))
            return
        for record in _records(block):
            comma = record.index(b",")
            self._outs[int(record[:comma])].write(record[comma + 1 :])


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


async def copy_csv(connection: AsyncConnection, query: sa.Select[Any], output: Any) -> None:
    compiled = query.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup or []]
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_from_query(compiled.string, *args, output=output, format="csv")


async def split_copy(
    connection: AsyncConnection, query: sa.Select[Any], outs: list[io.BufferedWriter]
) -> None:
    splitter = _Splitter(outs)
    await copy_csv(connection, query, splitter)
    splitter.close()
