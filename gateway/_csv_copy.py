"""Streaming CSV out of PostgreSQL: ``COPY … TO STDOUT`` into a file, one chunk at a time."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["copy_csv"]


async def copy_csv(
    connection: AsyncConnection, query: sa.Select[Any], out: io.BufferedWriter
) -> None:
    """Append the rows of ``query`` to ``out`` as CSV."""

    async def write(data: bytes) -> None:
        # A buffered write, in the event loop: asyncpg would hand a file each chunk
        # through a thread.
        out.write(data)

    compiled = query.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup or []]
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_from_query(compiled.string, *args, output=write, format="csv")
