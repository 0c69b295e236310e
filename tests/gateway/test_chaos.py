"""The chaos run passes its audit, and the auditor catches what it must.

A short run (payments under wallet faults, gateway SIGKILLs and, on PostgreSQL, Redis
restarts) must end with every invariant holding; then the same evidence, doctored — a
double charge, a lost notification, postings that do not balance — must fail the check
that guards each. The auditor is also checked on a small hand-made ledger, doctored once
for each violation it names.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections import Counter
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
from gateway.chaos import ChaosOptions, ChaosReport, HubTimings, audit_saved, run_chaos
from gateway.chaos._ledgers import in_hub_ids
from gateway.chaos._urls import hide_password
from gateway.chaos._wallets import Kind
from gateway.errors import ConfigError
from tests.conftest import POSTGRES_URL, REQUIRE_SERVICES, Backend

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


def _payment(
    number: int,
    status: str,
    code: str,
    *,
    thb: int,
    krw: int,
    notify_url: str | None = "http://m/n",
    ever_succeeded: bool = False,
) -> PaymentRow:
    """Payment P<number> (req-<number>) of THB ``thb`` on KakaoPay, paid as KRW ``krw``."""
    return PaymentRow(
        payment_id=f"P{number}",
        payment_request_id=f"req-{number}",
        status=status,
        result_code=code,
        route="kakaopay-aps",
        currency="THB",
        amount=thb,
        pay_to_currency="KRW",
        pay_to_amount=krw,
        notify_url=notify_url,
        ever_succeeded=ever_succeeded,
    )


def _books() -> Evidence:
    """Two payments: P1 succeeded (KRW 4000) with a refund of KRW 1000; P2 declined."""
    p1 = _payment(1, "SUCCEEDED", "SUCCESS", thb=10_000, krw=4000, ever_succeeded=True)
    p2 = _payment(2, "FAILED", "USER_BALANCE_NOT_ENOUGH", thb=500, krw=200)
    refund = RefundRow("R1", "P1", "req-1-R1", "SUCCEEDED", 2500, 1000)
    refund_lines = [
        PostingRow("REFUND", "R1", "P1", "wallet", "settlement", "PRINCIPAL", "KRW", 1000),
        PostingRow("REFUND", "R1", "P1", "hub", "fx", "PRINCIPAL", "KRW", -1000),
    ]
    return Evidence(
        payments=(p1, p2),
        refunds=(refund,),
        postings=(*_lines("P1", 4000, 10_000), *refund_lines),
        outbox=(LedgerRow("P1", "DELIVERED"), LedgerRow("P2", "DELIVERED")),
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


@pytest.mark.parametrize(
    ("entry", "failing"),
    [
        pytest.param(
            WalletEntry("pay", "P1", None, 4000, "KRW"),  # P1's charge, again
            {"charged once": ["payment P1 SUCCEEDED but charged 2 times"]},
            id="a-double-charge",
        ),
        pytest.param(
            WalletEntry("pay", "P2", None, 200, "KRW"),
            {"charged once": ["payment P2 FAILED but the traveller is out 200 KRW"]},
            id="a-charge-of-a-failed-payment",
        ),
        pytest.param(
            WalletEntry("reverse", "P1", None, 4000, "KRW"),
            {"charged once": ["payment P1 SUCCEEDED but the wallet reversed it"]},
            id="a-succeeded-payment-the-wallet-reversed",
        ),
        pytest.param(
            WalletEntry("refund", "P1", "R1", 1000, "KRW"),  # R1's refund, again
            {"refunds": ["refund R1 SUCCEEDED but the wallet made it 2 times"]},
            id="a-refund-made-twice",
        ),
        pytest.param(
            WalletEntry("refund", "P1", "R9", 100, "KRW"),
            {"refunds": ["the wallet refunded R9, which is unknown to the gateway"]},
            id="a-refund-the-gateway-does-not-know",
        ),
    ],
)
def test_a_wallet_entry_the_books_do_not_account_for_is_caught(
    entry: WalletEntry, failing: dict[str, list[str]]
) -> None:
    books = _books()
    doctored = books.replace(wallets={"kakaopay-aps": (*books.wallets["kakaopay-aps"], entry)})
    assert _failing(doctored) == failing


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
    p4 = _payment(4, "CANCELLED", "ORDER_IS_CLOSED", thb=800, krw=320, ever_succeeded=True)
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
    stuck = _payment(3, "UNKNOWN", "PAYMENT_IN_PROCESS", thb=900, krw=360, notify_url=None)
    told = MerchantAnswer("pay", "req-3", "S", "SUCCESS")
    failing = _failing(
        books.replace(payments=(*books.payments, stuck), answers=(*books.answers, told))
    )
    assert failing == {
        "final": ["payment P3 (req-3) is still UNKNOWN"],
        "answers": ["pay req-3 was answered S but the payment never succeeded"],
    }


def test_wallet_postings_that_do_not_match_the_payment_are_caught() -> None:
    books = _books()
    # Balanced, so only the comparison with the payment's state can notice.
    shift = [
        PostingRow("PAYMENT", "P1", "P1", "wallet", "settlement", "PRINCIPAL", "KRW", -1),
        PostingRow("PAYMENT", "P1", "P1", "hub", "fx", "PRINCIPAL", "KRW", 1),
    ]
    assert _failing(books.replace(postings=(*books.postings, *shift))) == {
        "books balance": ["payment P1 (SUCCEEDED): the wallet's postings net -3001, expected -3000"]
    }


def test_a_wallet_refund_of_another_amount_is_caught() -> None:
    books = _books()
    ledger = books.wallets["kakaopay-aps"]
    short = WalletEntry("refund", "P1", "R1", 999, "KRW")
    assert _failing(books.replace(wallets={"kakaopay-aps": (ledger[0], short)})) == {
        "refunds": ["refund R1: the wallet gave back 999, the gateway recorded 1000"]
    }


def test_a_succeeded_refund_of_a_payment_that_did_not_succeed_is_caught() -> None:
    books = _books()
    refund = RefundRow("R2", "P2", "req-2-R2", "SUCCEEDED", 100, 40)
    assert _failing(books.replace(refunds=(*books.refunds, refund))) == {
        "refunds": [
            "payment P2 is FAILED but has succeeded refunds",
            "refund R2 SUCCEEDED but the wallet made it 0 times",
        ]
    }


def test_a_charge_of_the_wrong_amount_is_caught() -> None:
    books = _books()
    ledger = books.wallets["kakaopay-aps"]
    doctored = books.replace(
        wallets={"kakaopay-aps": (WalletEntry("pay", "P1", None, 3999, "KRW"), *ledger[1:])}
    )
    assert _failing(doctored) == {
        "charged once": ["payment P1 charged 3999 KRW, expected 4000 KRW"]
    }


def test_a_failed_payment_charged_twice_is_caught_though_it_nets_to_zero() -> None:
    books = _books()
    charge, reversal = (WalletEntry(kind, "P2", None, 200, "KRW") for kind in ("pay", "reverse"))
    ledger = (*books.wallets["kakaopay-aps"], charge, reversal, charge, reversal)
    assert _failing(books.replace(wallets={"kakaopay-aps": ledger})) == {
        "charged once": ["payment P2 FAILED but charged 2 times"]
    }


def test_an_unfinished_refund_is_caught() -> None:
    books = _books()
    open_refund = RefundRow("R2", "P1", "req-1-R2", "UNKNOWN", 500, 200)
    assert _failing(books.replace(refunds=(*books.refunds, open_refund))) == {
        "final": ["refund R2 (req-1-R2) is still UNKNOWN"]
    }


def test_a_notification_before_the_payment_is_final_is_caught() -> None:
    books = _books()
    open_payment = _payment(3, "UNKNOWN", "PAYMENT_IN_PROCESS", thb=900, krw=360)
    doctored = books.replace(
        payments=(*books.payments, open_payment),
        inbox=(*books.inbox, _notice("P3", "S", "SUCCESS")),
    )
    assert _failing(doctored) == {
        "final": ["payment P3 (req-3) is still UNKNOWN"],
        "truthful": ["payment P3 was notified S while UNKNOWN"],
    }


def test_a_failure_notified_with_the_wrong_code_or_for_a_success_is_caught() -> None:
    books = _books()
    wrong_code = _notice("P2", "F", "RISK_REJECT")
    late_failure = Notice(
        "NP1-late", {"paymentId": "P1", "paymentResult": {"resultStatus": "F", "resultCode": "X"}}
    )
    doctored = books.replace(inbox=(books.inbox[0], wrong_code, late_failure))
    assert _failing(doctored) == {
        "truthful": [
            "payment P2 was notified F RISK_REJECT but is FAILED USER_BALANCE_NOT_ENOUGH",
            "payment P1 was notified F X but is SUCCEEDED SUCCESS",
        ]
    }


def test_a_notification_of_no_payment_or_of_no_result_is_caught() -> None:
    books = _books()
    unknown = Notice("NP1-u", {"paymentId": "P1", "paymentResult": {"resultStatus": "U"}})
    doctored = books.replace(inbox=(*books.inbox, _notice("P9", "S", "SUCCESS"), unknown))
    assert _failing(doctored) == {
        "truthful": [
            "notification NP9 names unknown payment P9",
            "payment P1 was notified with status 'U'",
        ]
    }


def test_a_cancel_answered_for_a_payment_that_succeeded_is_caught() -> None:
    books = _books()
    told = MerchantAnswer("cancel", "req-1", "S", "SUCCESS")
    assert _failing(books.replace(answers=(*books.answers, told))) == {
        "answers": ["cancel req-1 was answered S but the payment is SUCCEEDED"]
    }


def test_refund_answers_that_contradict_the_ledger_are_caught() -> None:
    books = _books()
    refused = MerchantAnswer("refund", "req-1-R1", "F", "REFUND_AMOUNT_EXCEED")
    invented = MerchantAnswer("refund", "req-1-R9", "S", "SUCCESS")
    assert _failing(books.replace(answers=(*books.answers, refused, invented))) == {
        "answers": [
            "refund req-1-R1 was answered F REFUND_AMOUNT_EXCEED but it succeeded",
            "refund req-1-R9 was answered S but is missing",
        ]
    }


#: The stage's routes, one per wallet: two on Alipay+, one on SNAP BI, one on WeChat Pay,
#: one on M-Pesa (Daraja), one on Mojaloop. Named here, not read from the stage, so that a
#: wallet dropped from it fails the test.
STAGE = {
    "kakaopay-aps",
    "gcash-aps",
    "dana-snap",
    "wechatpay-v2",
    "mpesa-daraja",
    "tzwallet-mojaloop",
}
#: The stage's routes whose wallets cannot cancel: the merchant's cancels are refused.
NO_CANCEL = {"mpesa-daraja", "tzwallet-mojaloop"}

_STILL_OPEN = re.compile(r"(payment|refund) (\S+) \(\S+\) is still (?:PENDING|UNKNOWN)")


def _unexplained(report: ChaosReport) -> list[str]:
    """The run's violations, less the breaches the run finds today in code this test does
    not cover (docs/chaos.md, "Known breaches"), each recognised narrowly — its route,
    its shape — so that any other violation still fails the test. Drop an exception once
    its cause is fixed:

    - M-Pesa: a payment whose STK push answer and callback were both lost (the gateway
      was down when the callback came) stays open, charged at most once and given
      nothing back: the hub can ask M-Pesa about a push only by the CheckoutRequestID
      that answer, or the callback, carried, and never sends the push again.
    """
    evidence = report.evidence
    payments = {p.payment_id: p for p in evidence.payments}
    moved: dict[str, Counter[str]] = {}
    for entries in evidence.wallets.values():
        for e in entries:
            moved.setdefault(e.payment_request_id, Counter())[e.kind] += 1
    left = []
    for check in report.audit.checks:
        for violation in check.violations:
            found = _STILL_OPEN.fullmatch(violation) if check.name == "final" else None
            if found is not None and found[1] == "payment":
                p = payments[found[2]]
                at_wallet = moved.get(p.wallet_key, Counter())
                charged_once_at_most = set(at_wallet) <= {"pay"} and at_wallet["pay"] <= 1
                if p.route == "mpesa-daraja" and charged_once_at_most:
                    continue
            left.append(f"{check.name}: {violation}")
    return left


def test_wallet_ledgers_are_read_in_the_hub_ids() -> None:
    # M-Pesa knows a push by 12 characters of SHA-256 of our id (base32): P1's and P2's.
    mpesa = [
        {"kind": "pay", "account_reference": "7PVOPQMGM63J", "receipt": "QK1", "amount": 500},
        {"kind": "refund", "account_reference": "7PVOPQMGM63J", "occasion": "R1", "amount": 200},
        {"kind": "pay", "account_reference": "VS53OQWHKJGO", "receipt": "QK2", "amount": 700},
        {"kind": "pay", "account_reference": "NOBODYSPUSH0", "receipt": "QK3", "amount": 900},
    ]
    # A Mojaloop refund names its payment by the payment's transferId.
    mojaloop = [
        {"kind": "pay", "transfer_id": "t-1", "home_transaction_id": "P1", "amount": 500},
        {
            "kind": "refund",
            "transfer_id": "t-2",
            "home_transaction_id": "R1",
            "original_transfer_id": "t-1",
            "amount": 200,
        },
    ]

    def read(kind: Kind, ledger: list[dict[str, object]]) -> list[WalletEntry]:
        entries = in_hub_ids(kind, [e | {"currency": "XXX"} for e in ledger], ["P1", "P2"])
        return [WalletEntry.from_json(e) for e in entries]

    assert read("mpesa", mpesa) == [
        WalletEntry("pay", "P1", None, 500, "XXX"),
        WalletEntry("refund", "P1", "R1", 200, "XXX"),
        WalletEntry("pay", "P2", None, 700, "XXX"),
        WalletEntry("pay", "NOBODYSPUSH0", None, 900, "XXX"),  # stray: the wallet's name
    ]
    assert read("mojaloop", mojaloop) == [
        WalletEntry("pay", "P1", None, 500, "XXX"),
        WalletEntry("refund", "P1", "R1", 200, "XXX"),
    ]
    alipayplus = [{"kind": "pay", "payment_request_id": "P1", "amount": 500}]
    assert read("alipayplus", alipayplus) == [WalletEntry("pay", "P1", None, 500, "XXX")]


def test_only_the_known_breaches_are_let_through() -> None:
    books = _books()

    def still_open(number: int, route: str) -> PaymentRow:
        payment = _payment(number, "UNKNOWN", "PAYMENT_IN_PROCESS", thb=900, krw=400)
        return dataclasses.replace(payment, route=route, notify_url=None)

    paid = dataclasses.replace(
        _payment(5, "SUCCEEDED", "SUCCESS", thb=900, krw=400, ever_succeeded=True),
        route="mpesa-daraja",
    )
    payments = [
        still_open(3, "mpesa-daraja"),  # its push answer lost: charged once, let through
        still_open(4, "tzwallet-mojaloop"),  # never reached the switch: closed by now
        paid,
        still_open(6, "mpesa-daraja"),  # charged twice: no known breach
        still_open(7, "tzwallet-mojaloop"),  # charged: no known breach
        still_open(8, "kakaopay-aps"),  # an Alipay+ wallet closes what it never saw
    ]
    refunds = [
        RefundRow("R5", "P5", "req-5-R1", "UNKNOWN", 300, 100),  # nothing given back: no breach
        RefundRow("R6", "P5", "req-5-R2", "UNKNOWN", 300, 100),  # given back: no breach
    ]
    # KRW stands in for the wallets' currencies: only the shapes matter here.
    mpesa = [
        WalletEntry("pay", "P3", None, 400, "KRW"),
        WalletEntry("pay", "P5", None, 400, "KRW"),
        WalletEntry("refund", "P5", "R6", 100, "KRW"),
        WalletEntry("pay", "P6", None, 400, "KRW"),
        WalletEntry("pay", "P6", None, 400, "KRW"),
    ]
    evidence = books.replace(
        payments=(*books.payments, *payments),
        refunds=(*books.refunds, *refunds),
        postings=(*books.postings, *_lines("P5", 400, 900)),
        wallets={
            **books.wallets,
            "mpesa-daraja": tuple(mpesa),
            "tzwallet-mojaloop": (WalletEntry("pay", "P7", None, 400, "KRW"),),
        },
        inbox=(*books.inbox, _notice("P5", "S", "SUCCESS")),
    )
    report = ChaosReport(audit(evidence), evidence)

    assert len(report.audit.check("final").violations) == 7
    assert _unexplained(report) == [
        "final: payment P4 (req-4) is still UNKNOWN",
        "final: payment P6 (req-6) is still UNKNOWN",
        "final: payment P7 (req-7) is still UNKNOWN",
        "final: payment P8 (req-8) is still UNKNOWN",
        "final: refund R5 (req-5-R1) is still UNKNOWN",
        "final: refund R6 (req-5-R2) is still UNKNOWN",
        "refunds: the wallet refunded R6, which is UNKNOWN",
    ]


async def test_a_short_chaos_run_passes_its_audit(backend: Backend, tmp_path: Path) -> None:
    on_postgres = backend.name == "postgres"
    # With PostgreSQL the run restarts a redis-server of its own; without the binary it
    # uses the test Redis (and cannot restart it), which CI does not accept.
    own_redis = shutil.which("redis-server") is not None
    if on_postgres and not own_redis and REQUIRE_SERVICES:
        pytest.fail(
            "no redis-server on the PATH to restart, and CAUSEWAY_REQUIRE_SERVICES=1 makes "
            "that a failure"
        )
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
        # How long the merchant asks again while an answer stays unknown: the hub's own
        # recovery settles the rest, and the payments the run leaves open for good (the
        # known breaches) would each hold the load up this long.
        patience=8,
        postgres_url=POSTGRES_URL if on_postgres else None,
        redis_url=None if own_redis or not on_postgres else backend.redis_url,
    )
    report = await run_chaos(options, say=lambda _: None)

    assert not _unexplained(report), "\n".join(_unexplained(report))
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
        saved = report.run_dir / "evidence.json"
        assert (await audit_saved(saved)).violations == report.audit.violations
        # A ledger's URL is saved without its password: it must be given again.
        hidden = tmp_path / "hidden.json"
        url = "postgresql+asyncpg://chaos:***@db.internal/ledger"
        hidden.write_text(json.dumps({**json.loads(saved.read_text()), "database_url": url}))
        with pytest.raises(ConfigError, match="without its password"):
            await audit_saved(hidden)
        again = await audit_saved(hidden, report.database_url)
        assert again.violations == report.audit.violations


async def test_every_wallet_of_the_stage_is_driven_and_its_ledger_audited(
    tmp_path: Path,
) -> None:
    # Wallet faults only: what is looked at here is where the payments went. Payments are
    # refunded or cancelled; the seed draws, among the first thirty, at least two of each
    # for every wallet, so that a slow machine plays them too. A slow machine starts as few
    # as 35 payments in the 6 s, five or so a wallet, so faults strike one request in
    # seven: at one in twenty, a wallet was seen to go through the run untouched.
    options = ChaosOptions(
        state_dir=tmp_path,
        payments=400,
        duration=6,
        seed=45,
        concurrency=12,
        fault_rate=0.15,
        kill_every=0,
        outage_every=0,
        settle_timeout=30,
        patience=6,
        scripts={"refund part": 3, "cancel": 2},
        # No order codes, and the simulators act on a request as it comes: the hub's clocks
        # that can hold a payment still (a late arrival, an order's life) are short here,
        # and so is settling, which outwaits them.
        timings=HubTimings(late_arrival_seconds=5, order_ttl_seconds=5),
    )
    report = await run_chaos(options, say=lambda _: None)

    evidence, stats = report.evidence, report.stats
    assert set(stats["wallets"]) == STAGE
    assert set(evidence.wallets) == STAGE  # every wallet's own ledger was read
    assert not _unexplained(report), "\n".join(_unexplained(report))
    # Settling ended once what the known breaches leave open stood still, not by waiting
    # out settle_timeout.
    assert stats["settled"] in ("final", "still"), stats["settled"]
    requests = {p.payment_request_id: p for p in evidence.payments}
    for route in sorted(STAGE):
        wallet = stats["wallets"][route]
        assert wallet["started"] > 0, route
        assert sum(stats["faults_struck"][wallet["wallet"]].values()) > 0, route
        paid = [p for p in evidence.payments if p.route == route and p.status == "SUCCEEDED"]
        ledger = evidence.wallets[route]
        assert paid, f"no payment on {route} succeeded"
        assert {p.wallet_key for p in paid} <= {e.payment_request_id for e in ledger}, route
        assert any(e.kind == "refund" for e in ledger), f"no refund reached {route}'s wallet"
        assert report.audit.routes[route].movements == Counter(e.kind for e in ledger)
        cancels = [a for a in evidence.answers if a.api == "cancel" and a.key in requests]
        mine_cancels = [a for a in cancels if requests[a.key].route == route]
        if route in NO_CANCEL:
            # Its cancels were played, and refused: none closed a payment or moved money
            # (a cancel of a payment that had failed anyway is answered S, as any).
            assert any(a.code == "ORDER_STATUS_INVALID" for a in mine_cancels), route
            assert all(
                a.status != "S" or requests[a.key].status == "FAILED" for a in mine_cancels
            ), route
            assert "CANCELLED" not in report.audit.routes[route].payments, route
            assert not any(e.kind == "reverse" for e in ledger), route
        # The audit reads this ledger: without it, every charge on the route is missing.
        unread = evidence.replace(wallets={r: e for r, e in evidence.wallets.items() if r != route})
        missing = audit(unread).check("charged once").violations
        assert {f"payment {p.payment_id} SUCCEEDED but charged 0 times" for p in paid} <= set(
            missing
        ), route


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@10.0.0.5:6379/0", "redis://:***@10.0.0.5:6379/0"),
        ("rediss://app:s3cret@cache:6380/1?ssl=1", "rediss://app:***@cache:6380/1?ssl=1"),
        ("redis://cache:6379/0?password=s3cret&db=2", "redis://cache:6379/0?password=***&db=2"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        (
            "postgresql+asyncpg://app:s%40cret@db:5432/test",
            "postgresql+asyncpg://app:***@db:5432/test",
        ),
        ("postgresql://postgres@127.0.0.1:5432/test", "postgresql://postgres@127.0.0.1:5432/test"),
        ("sqlite+aiosqlite:////tmp/run/ledger.db", "sqlite+aiosqlite:////tmp/run/ledger.db"),
    ],
)
def test_the_run_shows_and_saves_service_urls_without_passwords(url: str, shown: str) -> None:
    assert hide_password(url) == shown
