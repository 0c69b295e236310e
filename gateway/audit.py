"""The auditor: after a run, do the gateway's ledger, the wallets' own ledgers and what the
merchant received tell one consistent story?

It reads three kinds of evidence — the gateway's tables (payments, their events, refunds,
postings, the notification outbox), each simulated wallet's ledger (``GET /_sim/ledger``:
``pay``, ``reverse`` and ``refund`` entries keyed by the hub's wallet-side request ids,
whatever the wallet's protocol calls them: :meth:`WalletEntry.from_json`) and the
merchant's inbox (the signed ``notifyPayment`` bodies it received) — plus, optionally,
every answer the merchant got, and checks:

=================  ==============================================================
``final``          every payment and refund is final
``charged once``   a succeeded payment was charged exactly once, for its amount,
                   and not reversed; a failed or cancelled one nets to zero
``no stray money`` no wallet movement the gateway does not know about
``refunds``        refunds never exceed the payment, in either currency, and each
                   refund the gateway counts was made at the wallet once, and no
                   other
``books balance``  postings sum to zero per currency and per movement, and each
                   payment's postings match its state and its refunds
``notified``       every payment that ended S or F was notified with that result
``truthful``       no notification contradicts the ledger, none is for a payment
                   that is not final, and repeats of one notification are identical
``answers``        every answer the merchant got agrees with the ledger
=================  ==============================================================

:func:`read_ledger` reads the gateway's side from a database; :func:`audit` is pure, so a
test can doctor the evidence and watch a check fail.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from gateway.postings import Account, Entry, Role
from gateway.schema import notifications, payment_events, payments, postings, refunds
from gateway.states import PaymentStatus, RefundStatus

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "Audit",
    "Check",
    "Evidence",
    "LedgerRow",
    "MerchantAnswer",
    "Notice",
    "PaymentRow",
    "PostingRow",
    "RefundRow",
    "RouteCounts",
    "WalletEntry",
    "audit",
    "read_ledger",
]

_FINAL = frozenset(s.value for s in PaymentStatus if s.is_final)
_REFUND_FINAL = frozenset(s.value for s in RefundStatus if s.is_final)

_Row = TypeVar("_Row", bound="DataclassInstance")


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """A payment as the gateway recorded it; ``ever_succeeded`` from its events."""

    payment_id: str
    payment_request_id: str
    status: str
    result_code: str
    route: str
    currency: str
    amount: int
    pay_to_currency: str
    pay_to_amount: int
    notify_url: str | None
    ever_succeeded: bool
    wallet_request_id: str = ""  # what the wallet knows it by; empty: the payment id

    @property
    def wallet_key(self) -> str:
        return self.wallet_request_id or self.payment_id


@dataclass(frozen=True, slots=True)
class RefundRow:
    refund_id: str
    payment_id: str
    refund_request_id: str
    status: str
    amount: int
    refund_from_amount: int


@dataclass(frozen=True, slots=True)
class PostingRow:
    movement: str
    movement_id: str
    payment_id: str | None
    role: str
    account: str
    entry: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """An outbox row: whether the gateway thinks the merchant has the notification."""

    payment_id: str
    status: str


#: What each simulator's ledger calls the hub's ids (``GET /_sim/ledger``), protocol by
#: protocol: Alipay+, SNAP BI, WeChat Pay. Each names the hub's ``wallet_request_id`` and
#: refund id; the rest of an entry (kind, amount in minor units, currency) is common.
_PAYMENT_KEYS = ("payment_request_id", "partner_reference_no", "out_trade_no")
_REFUND_KEYS = ("refund_request_id", "partner_refund_no", "out_refund_no")


@dataclass(frozen=True, slots=True)
class WalletEntry:
    """One movement in a simulated wallet's own ledger."""

    kind: str  # pay, reverse or refund
    payment_request_id: str  # the hub's wallet-side id: the gateway's payment id
    refund_request_id: str | None  # the gateway's refund id
    amount: int
    currency: str

    @classmethod
    def from_json(cls, entry: Mapping[str, Any]) -> WalletEntry:
        """An entry of any simulator's ledger, whatever its protocol calls the ids.

        Raises ``ValueError`` for an entry that names no payment in a known way.
        """
        payment = next((key for key in _PAYMENT_KEYS if key in entry), None)
        if payment is None:
            raise ValueError(f"a wallet ledger entry without a payment id: {sorted(entry)}")
        refund = next((entry[key] for key in _REFUND_KEYS if key in entry), None)
        return cls(
            str(entry["kind"]),
            str(entry[payment]),
            None if refund is None else str(refund),
            int(entry["amount"]),
            str(entry["currency"]),
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification the merchant received (its signature already verified)."""

    notification_id: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class MerchantAnswer:
    """One answer the merchant got (every one is kept, replays and concurrent duplicates
    too): ``api`` is pay, cancel or refund; ``key`` the paymentRequestId (pay, cancel) or
    refundRequestId (refund)."""

    api: str
    key: str
    status: str  # S, F or U
    code: str


@dataclass(frozen=True)
class Evidence:
    """Everything the auditor looks at. ``wallets`` maps a route name to its wallet's
    ledger."""

    payments: tuple[PaymentRow, ...]
    refunds: tuple[RefundRow, ...]
    postings: tuple[PostingRow, ...]
    outbox: tuple[LedgerRow, ...]
    wallets: Mapping[str, tuple[WalletEntry, ...]]
    inbox: tuple[Notice, ...]
    answers: tuple[MerchantAnswer, ...] = ()

    def replace(self, **changes: Any) -> Evidence:
        return dataclasses.replace(self, **changes)


@dataclass
class Check:
    """One invariant: how many things it looked at, and every violation, named."""

    name: str
    checked: int = 0
    violations: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.violations.append(message)


@dataclass
class RouteCounts:
    """What one route saw: its payments and refunds by state, as the gateway recorded
    them, and its wallet's movements by kind, as the wallet's ledger has them."""

    payments: Counter[str] = field(default_factory=Counter)
    refunds: Counter[str] = field(default_factory=Counter)
    movements: Counter[str] = field(default_factory=Counter)


@dataclass
class Audit:
    checks: list[Check]
    notes: list[str]
    payments: Counter[str]
    refunds: Counter[str]
    #: Route name → its counts: every route with a payment or a wallet ledger.
    routes: dict[str, RouteCounts] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(check.violations for check in self.checks)

    @property
    def violations(self) -> list[str]:
        return [f"{c.name}: {v}" for c in self.checks for v in c.violations]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)


async def read_ledger(database_url: str) -> Evidence:
    """The gateway's side of the evidence (no wallets, no inbox yet) from its database."""
    ever_succeeded = sa.or_(
        payments.c.status == "SUCCEEDED",
        sa.exists().where(
            payment_events.c.payment_id == payments.c.payment_id,
            payment_events.c.target == "SUCCEEDED",
            payment_events.c.refund_id.is_(None),
        ),
    )
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            return Evidence(
                payments=await _read(
                    connection, PaymentRow, payments, ever_succeeded=ever_succeeded
                ),
                refunds=await _read(connection, RefundRow, refunds),
                postings=await _read(connection, PostingRow, postings),
                outbox=await _read(connection, LedgerRow, notifications),
                wallets={},
                inbox=(),
            )
    finally:
        await engine.dispose()


async def _read(
    connection: AsyncConnection,
    cls: type[_Row],
    table: sa.Table,
    **computed: sa.ColumnElement[Any],
) -> tuple[_Row, ...]:
    """Every row of ``table`` as a ``cls``: each field is the column of its name, or the
    expression ``computed`` names for it."""
    columns = [
        computed[f.name].label(f.name) if f.name in computed else table.c[f.name]
        for f in fields(cls)
    ]
    return tuple(cls(*row) for row in await connection.execute(sa.select(*columns)))


def audit(evidence: Evidence) -> Audit:
    """Check every invariant over ``evidence``; never raises for a violation."""
    result = Audit(
        checks=[],
        notes=[],
        payments=Counter(p.status for p in evidence.payments),
        refunds=Counter(r.status for r in evidence.refunds),
        routes=_route_counts(evidence),
    )
    wallet_by_payment: dict[str, list[WalletEntry]] = defaultdict(list)
    for entries in evidence.wallets.values():
        for entry in entries:
            wallet_by_payment[entry.payment_request_id].append(entry)
    refunds_by_payment: dict[str, list[RefundRow]] = defaultdict(list)
    for refund in evidence.refunds:
        refunds_by_payment[refund.payment_id].append(refund)
    result.checks = [
        _final(evidence),
        _charged_once(evidence, wallet_by_payment),
        _no_stray_money(evidence, wallet_by_payment),
        _refunds(evidence, wallet_by_payment, refunds_by_payment),
        _books_balance(evidence, refunds_by_payment),
        _notified(evidence, result.notes),
        _truthful(evidence),
        _answers(evidence),
    ]
    return result


def _route_counts(evidence: Evidence) -> dict[str, RouteCounts]:
    counts: dict[str, RouteCounts] = defaultdict(RouteCounts)
    route_of = {p.payment_id: p.route for p in evidence.payments}
    for p in evidence.payments:
        counts[p.route].payments[p.status] += 1
    for r in evidence.refunds:
        counts[route_of.get(r.payment_id, "?")].refunds[r.status] += 1
    for route, entries in evidence.wallets.items():
        counts[route].movements.update(e.kind for e in entries)
    return dict(sorted(counts.items()))


def _final(evidence: Evidence) -> Check:
    check = Check("final")
    for p in evidence.payments:
        check.checked += 1
        if p.status not in _FINAL:
            check.fail(f"payment {p.payment_id} ({p.payment_request_id}) is still {p.status}")
    for r in evidence.refunds:
        check.checked += 1
        if r.status not in _REFUND_FINAL:
            check.fail(f"refund {r.refund_id} ({r.refund_request_id}) is still {r.status}")
    return check


def _net(entries: Iterable[WalletEntry]) -> int:
    """What the traveller is out of pocket: charged, less reversed and refunded."""
    return sum(e.amount if e.kind == "pay" else -e.amount for e in entries)


def _charged_once(evidence: Evidence, wallet: Mapping[str, list[WalletEntry]]) -> Check:
    check = Check("charged once")
    for p in evidence.payments:
        entries = wallet.get(p.wallet_key, [])
        pays = [e for e in entries if e.kind == "pay"]
        reversals = [e for e in entries if e.kind == "reverse"]
        if p.status == "SUCCEEDED":
            check.checked += 1
            if len(pays) != 1:
                check.fail(f"payment {p.payment_id} SUCCEEDED but charged {len(pays)} times")
            elif (pays[0].currency, pays[0].amount) != (p.pay_to_currency, p.pay_to_amount):
                check.fail(
                    f"payment {p.payment_id} charged {pays[0].amount} {pays[0].currency}, "
                    f"expected {p.pay_to_amount} {p.pay_to_currency}"
                )
            if reversals:
                check.fail(f"payment {p.payment_id} SUCCEEDED but the wallet reversed it")
        elif p.status in ("FAILED", "CANCELLED"):
            check.checked += 1
            if len(pays) > 1:
                check.fail(f"payment {p.payment_id} {p.status} but charged {len(pays)} times")
            if _net(entries):
                check.fail(
                    f"payment {p.payment_id} {p.status} but the traveller is out "
                    f"{_net(entries)} {p.pay_to_currency}"
                )
    return check


def _no_stray_money(evidence: Evidence, wallet: Mapping[str, list[WalletEntry]]) -> Check:
    check = Check("no stray money")
    known = {p.wallet_key for p in evidence.payments}
    for payment_id, entries in wallet.items():
        check.checked += 1
        if payment_id not in known:
            check.fail(
                f"the wallet moved money for {payment_id}, which the gateway does not know "
                f"(net {_net(entries)})"
            )
    return check


def _refunds(
    evidence: Evidence,
    wallet: Mapping[str, list[WalletEntry]],
    by_payment: Mapping[str, list[RefundRow]],
) -> Check:
    check = Check("refunds")
    gateway_refunds = {r.refund_id: r for r in evidence.refunds}
    for p in evidence.payments:
        mine = by_payment.get(p.payment_id, [])
        done = [r for r in mine if r.status == "SUCCEEDED"]
        at_wallet = [e for e in wallet.get(p.wallet_key, []) if e.kind == "refund"]
        if not mine and not at_wallet:
            continue
        check.checked += 1
        if sum(r.amount for r in done) > p.amount:
            check.fail(f"payment {p.payment_id}: refunds exceed {p.amount} {p.currency}")
        if sum(e.amount for e in at_wallet) > p.pay_to_amount:
            check.fail(
                f"payment {p.payment_id}: the wallet refunded more than {p.pay_to_amount} "
                f"{p.pay_to_currency}"
            )
        if done and p.status != "SUCCEEDED":
            check.fail(f"payment {p.payment_id} is {p.status} but has succeeded refunds")
        wallet_ids = Counter(e.refund_request_id for e in at_wallet)
        for r in done:
            times = wallet_ids.get(r.refund_id, 0)
            if times != 1:
                check.fail(f"refund {r.refund_id} SUCCEEDED but the wallet made it {times} times")
        for e in at_wallet:
            known = gateway_refunds.get(e.refund_request_id or "")
            if known is None or known.status != "SUCCEEDED":
                state = "unknown to the gateway" if known is None else known.status
                check.fail(f"the wallet refunded {e.refund_request_id}, which is {state}")
            elif e.amount != known.refund_from_amount:
                check.fail(
                    f"refund {known.refund_id}: the wallet gave back {e.amount}, "
                    f"the gateway recorded {known.refund_from_amount}"
                )
    return check


def _books_balance(evidence: Evidence, by_payment: Mapping[str, list[RefundRow]]) -> Check:
    check = Check("books balance")
    per_currency: Counter[str] = Counter()
    per_movement: Counter[tuple[str, str, str]] = Counter()
    wallet_principal: Counter[str] = Counter()
    for row in evidence.postings:
        check.checked += 1
        per_currency[row.currency] += row.amount
        per_movement[(row.movement, row.movement_id, row.currency)] += row.amount
        if (
            row.payment_id is not None
            and row.role == Role.WALLET.value
            and row.account == Account.SETTLEMENT.value
            and row.entry == Entry.PRINCIPAL.value
        ):
            wallet_principal[row.payment_id] += row.amount
    for currency, total in sorted(per_currency.items()):
        if total:
            check.fail(f"postings in {currency} sum to {total}, not zero")
    for (movement, movement_id, currency), total in sorted(per_movement.items()):
        if total:
            check.fail(f"{movement} {movement_id}: postings in {currency} sum to {total}")
    for p in evidence.payments:
        refunded = sum(
            r.refund_from_amount
            for r in by_payment.get(p.payment_id, [])
            if r.status == "SUCCEEDED"
        )
        # The wallet owes the hub what the traveller paid, less what was given back.
        expected = -(p.pay_to_amount - refunded) if p.status == "SUCCEEDED" else 0
        if wallet_principal.get(p.payment_id, 0) != expected:
            check.fail(
                f"payment {p.payment_id} ({p.status}): the wallet's postings net "
                f"{wallet_principal.get(p.payment_id, 0)}, expected {expected}"
            )
    return check


def _notices_by_payment(evidence: Evidence) -> dict[str, list[Notice]]:
    found: dict[str, list[Notice]] = defaultdict(list)
    for notice in evidence.inbox:
        found[str(notice.body.get("paymentId"))].append(notice)
    return found


def _notified(evidence: Evidence, notes: list[str]) -> Check:
    check = Check("notified")
    received = _notices_by_payment(evidence)
    pending = {row.payment_id for row in evidence.outbox if row.status != "DELIVERED"}
    silent_cancels = 0
    for p in evidence.payments:
        if not p.notify_url or p.status not in _FINAL:
            continue
        if p.status == "CANCELLED" and not p.ever_succeeded:
            # The gateway notifies S and F; a payment closed by a cancel is not notified.
            silent_cancels += not received.get(p.payment_id)
            continue
        check.checked += 1
        wanted = "F" if p.status == "FAILED" else "S"
        statuses = {
            n.body.get("paymentResult", {}).get("resultStatus")
            for n in received.get(p.payment_id, [])
        }
        if wanted not in statuses:
            undelivered = " (its outbox row is undelivered)" if p.payment_id in pending else ""
            check.fail(
                f"payment {p.payment_id} ended {p.status}; the merchant never received "
                f"{wanted}{undelivered}"
            )
    if silent_cancels:
        notes.append(
            f"{silent_cancels} payments were cancelled before succeeding; the gateway sends "
            "no notification for those (only S and F are notified)"
        )
    return check


def _truthful(evidence: Evidence) -> Check:
    check = Check("truthful")
    payments_by_id = {p.payment_id: p for p in evidence.payments}
    bodies: dict[str, Mapping[str, Any]] = {}
    for notice in evidence.inbox:
        check.checked += 1
        first = bodies.setdefault(notice.notification_id, notice.body)
        if first != notice.body:
            check.fail(f"notification {notice.notification_id} was sent with different bodies")
        payment_id = str(notice.body.get("paymentId"))
        p = payments_by_id.get(payment_id)
        result = notice.body.get("paymentResult", {})
        status, code = result.get("resultStatus"), result.get("resultCode")
        if p is None:
            check.fail(f"notification {notice.notification_id} names unknown payment {payment_id}")
        elif p.status not in _FINAL:
            check.fail(f"payment {payment_id} was notified {status} while {p.status}")
        elif status == "S" and not p.ever_succeeded:
            check.fail(f"payment {payment_id} was notified S but ended {p.status}")
        elif status == "F" and (p.status != "FAILED" or code != p.result_code):
            check.fail(
                f"payment {payment_id} was notified F {code} but is {p.status} {p.result_code}"
            )
        elif status not in ("S", "F"):
            check.fail(f"payment {payment_id} was notified with status {status!r}")
    return check


def _answers(evidence: Evidence) -> Check:
    check = Check("answers")
    by_request = {p.payment_request_id: p for p in evidence.payments}
    refunds_by_request = {r.refund_request_id: r for r in evidence.refunds}
    for answer in evidence.answers:
        if answer.status == "U":
            continue  # unknown promises nothing
        check.checked += 1
        if answer.api == "pay":
            p = by_request.get(answer.key)
            if answer.status == "S" and (p is None or not p.ever_succeeded):
                check.fail(f"pay {answer.key} was answered S but the payment never succeeded")
            # A replay after a cancel is F ORDER_IS_CLOSED, though the payment had succeeded.
            if answer.status == "F" and p is not None and p.status == "SUCCEEDED":
                check.fail(f"pay {answer.key} was answered F {answer.code} but it succeeded")
        elif answer.api == "cancel":
            p = by_request.get(answer.key)
            if answer.status == "S" and p is not None and p.status not in ("CANCELLED", "FAILED"):
                check.fail(f"cancel {answer.key} was answered S but the payment is {p.status}")
        elif answer.api == "refund":
            r = refunds_by_request.get(answer.key)
            if answer.status == "S" and (r is None or r.status != "SUCCEEDED"):
                state = "missing" if r is None else r.status
                check.fail(f"refund {answer.key} was answered S but is {state}")
            if answer.status == "F" and r is not None and r.status == "SUCCEEDED":
                check.fail(f"refund {answer.key} was answered F {answer.code} but it succeeded")
    return check
