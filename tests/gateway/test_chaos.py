"""The chaos run passes its audit, and the auditor catches what it must.

A short run (payments under wallet faults, gateway SIGKILLs and, on PostgreSQL, Redis
restarts) must end with every invariant holding; then the same evidence, doctored — a
double charge, a lost notification, postings that do not balance — must fail the check
that guards each. The auditor is also checked on a small hand-made ledger.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.audit import (
    Evidence,
    LedgerRow,
    MerchantAnswer,
    Notice,
    PaymentRow,
    PostingRow,
    RefundRow,
    WalletEntry,
    audit,
)
from gateway.chaos import ChaosOptions, audit_saved, run_chaos
from tests.conftest import POSTGRES_URL, Backend

pytestmark = pytest.mark.anyio


def _lines(payment_id: str, krw: int, thb: int, movement: str = "PAYMENT") -> list[PostingRow]:
    sign = 1 if movement == "PAYMENT" else -1
    return [
        PostingRow(
            movement,
            payment_id,
            payment_id,
            "wallet",
            "settlement",
            "PRINCIPAL",
            "KRW",
            -sign * krw,
        ),
        PostingRow(movement, payment_id, payment_id, "hub", "fx", "PRINCIPAL", "KRW", sign * krw),
        PostingRow(
            movement,
            payment_id,
            payment_id,
            "acquirer",
            "settlement",
            "PRINCIPAL",
            "THB",
            sign * thb,
        ),
        PostingRow(movement, payment_id, payment_id, "hub", "fx", "PRINCIPAL", "THB", -sign * thb),
    ]


def _notice(payment_id: str, status: str, code: str) -> Notice:
    body = {"paymentId": payment_id, "paymentResult": {"resultStatus": status, "resultCode": code}}
    return Notice(f"N{payment_id}", body)


def _books() -> Evidence:
    """Two payments: P1 succeeded (KRW 4000) with a refund of KRW 1000; P2 declined."""
    p1 = PaymentRow(
        "P1",
        "req-1",
        "SUCCEEDED",
        "SUCCESS",
        "kakaopay-aps",
        "THB",
        10_000,
        "KRW",
        4000,
        "http://m/n",
        True,
    )
    p2 = PaymentRow(
        "P2",
        "req-2",
        "FAILED",
        "USER_BALANCE_NOT_ENOUGH",
        "kakaopay-aps",
        "THB",
        500,
        "KRW",
        200,
        "http://m/n",
        False,
    )
    refund = RefundRow("R1", "P1", "req-1-R1", "SUCCEEDED", 2500, 1000)
    refund_lines = [
        PostingRow("REFUND", "R1", "P1", "wallet", "settlement", "PRINCIPAL", "KRW", 1000),
        PostingRow("REFUND", "R1", "P1", "hub", "fx", "PRINCIPAL", "KRW", -1000),
    ]
    return Evidence(
        payments=(p1, p2),
        refunds=(refund,),
        postings=(*_lines("P1", 4000, 10_000), *refund_lines),
        outbox=(LedgerRow("P1", "DELIVERED", 1), LedgerRow("P2", "DELIVERED", 2)),
        wallets={
            "kakaopay-aps": (
                WalletEntry("pay", "P1", None, 4000, "KRW"),
                WalletEntry("refund", "P1", "R1", 1000, "KRW"),
            )
        },
        inbox=(
            _notice("P1", "S", "SUCCESS"),
            _notice("P2", "F", "USER_BALANCE_NOT_ENOUGH"),
            _notice("P2", "F", "USER_BALANCE_NOT_ENOUGH"),  # a repeat is fine
        ),
        answers=(
            MerchantAnswer("pay", "req-1", "S", "SUCCESS"),
            MerchantAnswer("pay", "req-2", "F", "USER_BALANCE_NOT_ENOUGH"),
            MerchantAnswer("refund", "req-1-R1", "S", "SUCCESS"),
        ),
    )


def _failing(evidence: Evidence) -> dict[str, list[str]]:
    return {c.name: c.violations for c in audit(evidence).checks if c.violations}


def test_consistent_books_pass() -> None:
    result = audit(_books())
    assert result.ok, result.violations
    assert result.check("charged once").checked == 2
    assert result.check("notified").checked == 2


def test_a_double_charge_is_caught() -> None:
    books = _books()
    ledger = books.wallets["kakaopay-aps"]
    doctored = books.replace(wallets={"kakaopay-aps": (*ledger, ledger[0])})
    assert _failing(doctored) == {"charged once": ["payment P1 SUCCEEDED but charged 2 times"]}


def test_a_charge_of_a_failed_payment_is_caught() -> None:
    books = _books()
    charge = WalletEntry("pay", "P2", None, 200, "KRW")
    doctored = books.replace(wallets={"kakaopay-aps": (*books.wallets["kakaopay-aps"], charge)})
    assert _failing(doctored) == {
        "charged once": ["payment P2 FAILED but the traveller is out 200 KRW"]
    }


def test_money_the_gateway_does_not_know_is_caught() -> None:
    books = _books()
    stray = WalletEntry("pay", "P9", None, 700, "KRW")
    doctored = books.replace(wallets={"kakaopay-aps": (*books.wallets["kakaopay-aps"], stray)})
    assert list(_failing(doctored)) == ["no stray money"]


def test_a_missing_notification_is_caught() -> None:
    books = _books()
    doctored = books.replace(inbox=books.inbox[1:])
    assert _failing(doctored) == {
        "notified": ["payment P1 ended SUCCEEDED; the merchant never received S"]
    }


def test_a_notification_that_contradicts_the_ledger_is_caught() -> None:
    books = _books()
    doctored = books.replace(inbox=(*books.inbox, _notice("P2", "S", "SUCCESS")))
    assert _failing(doctored)["truthful"] == [
        "notification NP2 was sent with different bodies",
        "payment P2 was notified S but ended FAILED",
    ]


def test_postings_that_do_not_balance_are_caught() -> None:
    books = _books()
    extra = PostingRow("PAYMENT", "P1", "P1", "hub", "fx", "PRINCIPAL", "THB", 1)
    failing = _failing(books.replace(postings=(*books.postings, extra)))
    assert failing == {
        "books balance": [
            "postings in THB sum to 1, not zero",
            "PAYMENT P1: postings in THB sum to 1",
        ]
    }


def test_a_refund_above_the_payment_is_caught() -> None:
    books = _books()
    refund = RefundRow("R2", "P1", "req-1-R2", "SUCCEEDED", 9000, 3500)
    wallet = (*books.wallets["kakaopay-aps"], WalletEntry("refund", "P1", "R2", 3500, "KRW"))
    failing = _failing(
        books.replace(refunds=(*books.refunds, refund), wallets={"kakaopay-aps": wallet})
    )
    assert "payment P1: refunds exceed 10000 THB" in failing["refunds"]
    assert "payment P1: the wallet refunded more than 4000 KRW" in failing["refunds"]


def test_a_decline_answered_for_a_success_is_caught_but_a_replay_after_cancel_is_not() -> None:
    books = _books()
    told = MerchantAnswer("pay", "req-1", "F", "USER_BALANCE_NOT_ENOUGH")
    answers = (told, *books.answers[1:])
    assert _failing(books.replace(answers=answers)) == {
        "answers": ["pay req-1 was answered F USER_BALANCE_NOT_ENOUGH but it succeeded"]
    }
    # Cancelled after it succeeded: charged and reversed, booked and unbooked, notified S
    # when it succeeded; a replay of its pay now says ORDER_IS_CLOSED.
    p4 = PaymentRow(
        "P4",
        "req-4",
        "CANCELLED",
        "ORDER_IS_CLOSED",
        "kakaopay-aps",
        "THB",
        800,
        "KRW",
        320,
        "http://m/n",
        True,
    )
    ledger = (
        *books.wallets["kakaopay-aps"],
        WalletEntry("pay", "P4", None, 320, "KRW"),
        WalletEntry("reverse", "P4", None, 320, "KRW"),
    )
    cancelled = books.replace(
        payments=(*books.payments, p4),
        postings=(*books.postings, *_lines("P4", 320, 800), *_lines("P4", 320, 800, "CANCEL")),
        wallets={"kakaopay-aps": ledger},
        inbox=(*books.inbox, _notice("P4", "S", "SUCCESS")),
        answers=(*books.answers, MerchantAnswer("pay", "req-4", "F", "ORDER_IS_CLOSED")),
    )
    assert audit(cancelled).ok, audit(cancelled).violations


def test_an_unfinished_payment_and_a_lying_answer_are_caught() -> None:
    books = _books()
    stuck = PaymentRow(
        "P3",
        "req-3",
        "UNKNOWN",
        "PAYMENT_IN_PROCESS",
        "kakaopay-aps",
        "THB",
        900,
        "KRW",
        360,
        None,
        False,
    )
    told = MerchantAnswer("pay", "req-3", "S", "SUCCESS")
    failing = _failing(
        books.replace(payments=(*books.payments, stuck), answers=(*books.answers, told))
    )
    assert failing == {
        "final": ["payment P3 (req-3) is still UNKNOWN"],
        "answers": ["pay req-3 was answered S but the payment never succeeded"],
    }
    # On a route that cannot cancel, an unknown payment is noted, not a violation.
    lenient = audit(
        books.replace(payments=(*books.payments, stuck), no_cancel=frozenset({"kakaopay-aps"}))
    )
    assert lenient.ok
    assert any("cannot cancel" in note for note in lenient.notes)


async def test_a_short_chaos_run_passes_its_audit(backend: Backend, tmp_path: Path) -> None:
    on_postgres = backend.name == "postgres"
    # With PostgreSQL the run restarts a redis-server of its own; without the binary it
    # uses the test Redis (and cannot restart it).
    own_redis = shutil.which("redis-server") is not None
    options = ChaosOptions(
        state_dir=tmp_path,
        payments=300,
        duration=8,
        seed=7,
        concurrency=8,
        fault_rate=0.05,
        kill_every=4,
        redis_every=4,
        outage_every=4,
        settle_timeout=90,
        postgres_url=POSTGRES_URL if on_postgres else None,
        redis_url=None if own_redis or not on_postgres else backend.redis_url,
    )
    report = await run_chaos(options, say=lambda _: None)

    assert report.audit.ok, "\n".join(report.audit.violations)
    stats = report.stats
    assert stats["gateway_kills"] >= 1
    assert sum(sum(s.values()) for s in stats["faults_struck"].values()) > 0
    if on_postgres and own_redis:
        assert stats["redis_restarts"] >= 1
    assert report.audit.payments["SUCCEEDED"] > 0
    assert report.audit.check("notified").checked > 0

    # The same evidence, doctored: each check must notice.
    evidence = report.evidence
    paid = next(
        p
        for p in evidence.payments
        if p.status == "SUCCEEDED"
        and p.notify_url
        and p.payment_id in {n.body.get("paymentId") for n in evidence.inbox}
    )
    ledger = evidence.wallets[paid.route]
    charge = next(e for e in ledger if e.kind == "pay" and e.payment_request_id == paid.payment_id)
    twice = evidence.replace(wallets={**evidence.wallets, paid.route: (*ledger, charge)})
    assert any(paid.payment_id in v for v in audit(twice).check("charged once").violations)
    unheard = evidence.replace(
        inbox=tuple(n for n in evidence.inbox if n.body.get("paymentId") != paid.payment_id)
    )
    assert any(paid.payment_id in v for v in audit(unheard).check("notified").violations)
    skew = PostingRow(
        "PAYMENT", paid.payment_id, paid.payment_id, "hub", "fx", "PRINCIPAL", paid.currency, 1
    )
    unbalanced = evidence.replace(postings=(*evidence.postings, skew))
    assert audit(unbalanced).check("books balance").violations

    # The audit can be repeated from the saved evidence, when the ledger is kept.
    if not on_postgres:
        assert report.run_dir is not None
        assert (await audit_saved(report.run_dir / "evidence.json")).ok
