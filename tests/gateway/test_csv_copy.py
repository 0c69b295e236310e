"""The COPY splitter cuts one indexed CSV stream into files, whatever the chunking, and
says when each file is complete."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from gateway._csv_copy import _Splitter

_field = st.text(alphabet=st.sampled_from('ab,"\n 1'), max_size=6)
_rows = st.lists(st.tuples(st.integers(0, 2), _field, _field), max_size=25)


def _csv(rows: Sequence[Sequence[object]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode()


@given(rows=_rows, cuts=st.lists(st.integers(1, 40), max_size=30))
def test_every_record_reaches_its_file_intact(
    rows: list[tuple[int, str, str]], cuts: list[int]
) -> None:
    rows = sorted(rows, key=lambda row: row[0])  # COPY delivers them ordered by file
    stream = _csv(rows)
    outs = [io.BytesIO() for _ in range(3)]
    expected = [_csv([row[1:] for row in rows if row[0] == index]) for index in range(3)]
    complete: list[int] = []

    def done(index: int) -> None:
        # Heard once per file, in order, and only once the file has all its rows.
        assert outs[index].getvalue() == expected[index]
        complete.append(index)

    splitter = _Splitter(outs, done)  # type: ignore[arg-type]

    async def feed() -> None:
        position = 0
        for size in [*cuts, len(stream)]:
            await splitter(stream[position : position + size])
            position += size
        await splitter(stream[position:])

    asyncio.run(feed())
    splitter.close()

    assert [out.getvalue() for out in outs] == expected
    assert complete == [0, 1, 2]
