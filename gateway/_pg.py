"""The pay path's statements on PostgreSQL, run on asyncpg without SQLAlchemy's per-call work.

SQLAlchemy still builds every statement and compiles it, once. Executing a compiled statement
through an SQLAlchemy ``Connection`` costs about as much client CPU again as asyncpg's own
work: a cache key computed from the statement's whole tree, parameters processed by name,
the result wrapped, events fired at checkout and execution. A pay runs three statements, and
that overhead was 0.68 ms of the 1.22 ms they cost (``docs/benchmarks.md``). :class:`Driver`
sends the compiled SQL with positional arguments on the asyncpg connection of the engine's
own pool: one pool, one set of connections, and the same types (SQLAlchemy's bind processors
turn values into what the driver expects; the JSON codec SQLAlchemy sets on each connection
decodes results). Its errors are SQLAlchemy's, so callers handle both paths alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["UNAVAILABLE_STATES", "Driver"]

#: SQLSTATE classes that mean the server could not serve us, not that the statement was
#: wrong: 08 connection exception, 53 insufficient resources ("too many clients"), 57
#: operator intervention (shutting down, starting up).
UNAVAILABLE_STATES = ("08", "53", "57")


@dataclass(frozen=True, slots=True)
class _Compiled:
    """A statement's SQL, and how to turn named parameters into its positional arguments."""

    sql: str
    names: tuple[str, ...]
    #: Values bound into the statement itself (``sa.literal``), by name.
    fixed: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]

    @classmethod
    def of(cls, statement: sa.ClauseElement, dialect: sa.Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        binds = compiled.binds
        if any(bind.expanding for bind in binds.values()):
            raise ValueError("statements with expanding (IN) parameters are not supported")
        processors = {}
        for name, bind in binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        return cls(
            sql=compiled.string,
            names=tuple(compiled.positiontup or ()),
            fixed={name: bind.value for name, bind in binds.items() if not bind.required},
            processors=processors,
        )

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        arguments = []
        for name in self.names:
            value = parameters[name] if name in parameters else self.fixed[name]
            process = self.processors.get(name)
            arguments.append(value if process is None else process(value))
        return arguments


class Driver:
    """Runs statements built once (module constants or cached builders) on ``engine``'s
    pool, in autocommit: a statement is atomic on its own, and one round trip."""

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.driver != "asyncpg":
            raise ValueError(f"the driver path needs asyncpg, not {engine.dialect.driver}")
        self._engine = engine
        # Keyed by identity; the statement is kept alive beside its compiled form, so an id
        # is never reused while its entry exists.
        self._compiled: dict[int, tuple[sa.Executable, _Compiled]] = {}

    def _compile(self, statement: sa.Executable) -> _Compiled:
        entry = self._compiled.get(id(statement))
        if entry is None:
            if not isinstance(statement, sa.ClauseElement):
                raise TypeError(f"not a statement SQLAlchemy can compile: {statement!r}")
            entry = (statement, _Compiled.of(statement, self._engine.dialect))
            self._compiled[id(statement)] = entry
        return entry[1]

    async def fetch_one(
        self, statement: sa.Executable, parameters: Mapping[str, Any]
    ) -> Mapping[Any, Any] | None:
        """The first row ``statement`` returns, or None (also for one that returns none)."""
        compiled = self._compile(statement)
        arguments = compiled.arguments(parameters)
        try:
            pooled = await self._engine.raw_connection()
        except self._engine.dialect.loaded_dbapi.Error as exc:
            # Connecting failed ("too many clients", starting up): unlike a Connection's, the
            # raw checkout does not wrap the driver's error. Wrapped as SQLAlchemy would.
            raise DBAPIError.instance(
                compiled.sql, None, exc, self._engine.dialect.loaded_dbapi.Error
            ) from exc
        connection: Any = pooled.driver_connection  # asyncpg's, checked out of the pool
        try:
            record: Mapping[Any, Any] | None = await connection.fetchrow(compiled.sql, *arguments)
            return record
        except (
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
            OSError,
        ) as exc:
            # A connection the server closed may not know it yet: its protocol is then still
            # consuming the server's last error, and it is no more use than a closed one.
            closed = isinstance(exc, asyncpg.InternalClientError) or connection.is_closed()
            if closed:
                # Like SQLAlchemy on a disconnect: this connection is dropped, not pooled.
                pooled.invalidate(exc)
            raise _translated(exc, compiled, closed) from exc
        finally:
            pooled.close()


def _translated(exc: BaseException, compiled: _Compiled, closed: bool) -> DBAPIError:
    """asyncpg's error as the SQLAlchemy error its own execution path would raise."""
    state = str(getattr(exc, "sqlstate", None) or "")
    error: type[DBAPIError] = DBAPIError
    if state.startswith("23"):
        error = IntegrityError
    elif closed or state.startswith(UNAVAILABLE_STATES) or isinstance(exc, OSError):
        error = OperationalError
    # The statement, not its arguments: they may hold what a log must not show.
    return error(compiled.sql, None, exc, connection_invalidated=closed)
