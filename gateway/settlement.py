"""Settling a day: close its clearing batch (if open), net it, write its files.

Each step reads the books in the database; re-settling a closed batch recomputes the same
positions from the same postings with the terms frozen in the batch, so the files come
out byte for byte the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.clearing import ClearingBatch, ClearingTerms, close_batch
from gateway.config import Settings
from gateway.netting import Settlement, account_totals, net, value_date
from gateway.postings import Role
from gateway.settlement_files import write_files

__all__ = ["SettlementRun", "settle"]


@dataclass(frozen=True, slots=True)
class SettlementRun:
    settlement: Settlement
    closed_now: bool
    files: list[Path]


def _value_date_of(
    settings: Settings, batch: ClearingBatch
) -> Callable[[str, tuple[str, ...]], date]:
    config = settings.settlement

    def of(company: str, members: tuple[str, ...]) -> date:
        # A company's one transfer waits for the slowest cycle among its members.
        cycles = [config.terms(m).cycle_days for m in (*members, company)]
        days = max((c for c in cycles if c is not None), default=config.cycle_days)
        return value_date(batch.day, days, config.calendar)

    return of


async def settle(
    engine: AsyncEngine,
    settings: Settings,
    day: date,
    folder: Path,
    *,
    step: Callable[[str], None] | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> SettlementRun:
    """Close (if open) and settle the batch of ``day``, writing its files under ``folder``.

    ``step`` hears each phase start (``"clearing"``, ``"netting"``, ``"files"``);
    ``on_file`` each file written.
    """
    announce = step or (lambda _: None)
    config = settings.settlement
    announce("clearing")
    batch, closed_now = await close_batch(engine, day, ClearingTerms.from_config(config))
    announce("netting")
    async with engine.connect() as connection:
        accounts = await account_totals(connection, batch)
    settlement = net(batch, accounts, config.company, _value_date_of(settings, batch))
    imbalance = settlement.imbalance()
    assert not imbalance, f"the books do not balance in batch {batch.batch_id}: {imbalance}"
    expected = [(Role.ACQUIRER, a.client_id, a.settlement_currency) for a in settings.acquirers]
    expected += [(Role.WALLET, w.psp_id, w.currency) for w in settings.wallets]
    announce("files")
    files = await write_files(
        engine,
        settlement,
        folder,
        expected=expected,
        company_of=config.company,
        on_file=on_file,
    )
    return SettlementRun(settlement, closed_now, files)
