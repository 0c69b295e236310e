"""The acquiring API end to end: signed HTTP to the gateway, real HTTP to the simulators.

Every test here runs on SQLite and on PostgreSQL + Redis.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connectors import RsaSigner
from tests.gateway.conftest import JOSE, MARIA, LocalHub, pay_body, refund_body

pytestmark = pytest.mark.anyio


async def test_pay_charges_the_wallet_in_its_currency_at_the_quoted_price(hub: LocalHub) -> None:
    before = await hub.accounts("kakaopay-aps")

    answer = await hub.siam.call("pay", pay_body("pay-1"))

    assert answer["result"] == {
        "resultCode": "SUCCESS",
        "resultStatus": "S",
        "resultMessage": "Success.",
    }
    assert answer["pspId"] == "KAKAOPAY"
    assert answer["paymentAmount"] == {"currency": "THB", "value": "125000"}
    pay_to = answer["payToAmount"]
    quote = answer["paymentQuote"]
    assert pay_to["currency"] == "KRW"
    assert quote["quoteCurrencyPair"] == "THB/KRW"
    # THB has two decimals and KRW none: 1,250.00 THB × price, rounded half up to whole won.
    expected = (Decimal("1250.00") * Decimal(quote["quotePrice"])).quantize(Decimal("1"))
    assert Decimal(pay_to["value"]) == expected
    assert answer["settlementAmount"] == {"currency": "THB", "value": "125000"}
    after = await hub.accounts("kakaopay-aps")
    assert before["KP-0001"] - after["KP-0001"] == int(pay_to["value"])


async def test_a_repeat_returns_the_stored_result_and_charges_once(hub: LocalHub) -> None:
    first = await hub.siam.call("pay", pay_body("pay-2"))
    again = await hub.siam.call("pay", pay_body("pay-2"))

    assert again["result"]["resultStatus"] == "S"
    assert again["paymentId"] == first["paymentId"]
    assert again["payToAmount"] == first["payToAmount"]
    assert await hub.stats("kakaopay-aps") == {"pay_requests": 1, "charges": 1}


async def test_a_repeat_with_other_key_fields_is_inconsistent(hub: LocalHub) -> None:
    await hub.siam.call("pay", pay_body("pay-3"))

    answer = await hub.siam.call("pay", pay_body("pay-3", value="125001"))

    assert answer["result"]["resultCode"] == "REPEAT_REQ_INCONSISTENT"
    assert answer["result"]["resultStatus"] == "F"
    assert "paymentId" not in answer
    assert (await hub.stats("kakaopay-aps"))["charges"] == 1


async def test_the_order_and_merchant_are_key_fields(hub: LocalHub) -> None:
    await hub.siam.call("pay", pay_body("pay-3b"))
    other_order = pay_body("pay-3b")
    other_order["order"]["referenceOrderId"] = "ANOTHER-ORDER"

    answer = await hub.siam.call("pay", other_order)

    assert answer["result"]["resultCode"] == "REPEAT_REQ_INCONSISTENT"


async def test_request_ids_are_per_acquirer(hub: LocalHub) -> None:
    siam = await hub.siam.call("pay", pay_body("shared-id"))
    tokyo = await hub.tokyo.call(
        "pay", pay_body("shared-id", code=MARIA, currency="JPY", value="800")
    )

    assert siam["result"]["resultStatus"] == tokyo["result"]["resultStatus"] == "S"
    assert siam["paymentId"] != tokyo["paymentId"]


async def test_twenty_concurrent_duplicates_reach_the_wallet_once(hub: LocalHub) -> None:
    answers = await asyncio.gather(
        *(hub.siam.call("pay", pay_body("pay-burst")) for _ in range(20))
    )

    stats = await hub.stats("kakaopay-aps")
    assert stats == {"pay_requests": 1, "charges": 1}
    payment_ids = {a["paymentId"] for a in answers if a["result"]["resultStatus"] == "S"}
    assert len(payment_ids) == 1
    # None may claim a different outcome: each is the stored success or "in process".
    assert {a["result"]["resultCode"] for a in answers} <= {"SUCCESS", "PAYMENT_IN_PROCESS"}


async def test_an_insufficient_balance_is_declined_and_nothing_moves(hub: LocalHub) -> None:
    before = await hub.accounts("gcash-aps")

    answer = await hub.tokyo.call(
        "pay", pay_body("pay-poor", code=JOSE, currency="JPY", value="12000")
    )

    assert answer["result"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"
    assert answer["result"]["resultStatus"] == "F"
    assert await hub.accounts("gcash-aps") == before
    inquiry = await hub.tokyo.call("inquiryPayment", {"paymentRequestId": "pay-poor"})
    assert inquiry["paymentResult"]["resultCode"] == "USER_BALANCE_NOT_ENOUGH"


async def test_a_payment_above_the_wallets_limit_is_declined(hub: LocalHub) -> None:
    # KakaoPay's simulated single-payment limit is KRW 3,000,000; THB 100,000 is far above.
    answer = await hub.siam.call("pay", pay_body("pay-big", value="10000000"))

    assert answer["result"]["resultCode"] == "PAYMENT_AMOUNT_EXCEED_LIMIT"
    assert (await hub.stats("kakaopay-aps"))["charges"] == 0


async def test_a_code_of_no_known_wallet_is_refused_and_nothing_is_sent(hub: LocalHub) -> None:
    answer = await hub.siam.call("pay", pay_body("pay-nowallet", code="999999000000000001"))

    assert answer["result"]["resultCode"] == "UNAVAILABLE_PAYMENT_METHOD"
    assert answer["result"]["resultStatus"] == "F"
    assert "code" in answer["result"]["resultMessage"]
    for route in hub.wallets:
        assert (await hub.stats(route))["pay_requests"] == 0
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "pay-nowallet"})
    assert inquiry["result"]["resultCode"] == "ORDER_NOT_EXIST"


async def test_allowed_psp_regions_are_respected(hub: LocalHub) -> None:
    answer = await hub.siam.call("pay", pay_body("pay-regions", allowedPspRegions=["PH", "MY"]))

    assert answer["result"]["resultCode"] == "UNAVAILABLE_PAYMENT_METHOD"
    assert "allowedPspRegions" in answer["result"]["resultMessage"]
    assert (await hub.stats("kakaopay-aps"))["pay_requests"] == 0


async def test_the_method_type_names_the_wallet(hub: LocalHub) -> None:
    answer = await hub.siam.call("pay", pay_body("pay-typed", method_type="KAKAOPAY"))
    assert answer["pspId"] == "KAKAOPAY"

    mismatch = await hub.siam.call("pay", pay_body("pay-mismatch", method_type="GCASH"))
    assert mismatch["result"]["resultCode"] == "UNAVAILABLE_PAYMENT_METHOD"


async def test_inquiry_reports_the_payment(hub: LocalHub) -> None:
    paid = await hub.siam.call("pay", pay_body("pay-inq"))

    by_request = await hub.siam.call("inquiryPayment", {"paymentRequestId": "pay-inq"})
    by_id = await hub.siam.call("inquiryPayment", {"paymentId": paid["paymentId"]})

    assert by_request["result"]["resultStatus"] == "S"
    assert by_request["paymentResult"]["resultCode"] == "SUCCESS"
    assert by_request["paymentStatus"] == "SUCCEEDED"
    assert by_request["customerId"] == "KP-0001"
    assert by_id["paymentRequestId"] == "pay-inq"
    other = await hub.tokyo.call("inquiryPayment", {"paymentId": paid["paymentId"]})
    assert other["result"]["resultCode"] == "ORDER_NOT_EXIST"  # not this acquirer's payment


async def test_cancel_reverses_the_charge_and_closes_the_payment(hub: LocalHub) -> None:
    before = await hub.accounts("kakaopay-aps")
    await hub.siam.call("pay", pay_body("pay-cancel"))

    cancelled = await hub.siam.call("cancelPayment", {"paymentRequestId": "pay-cancel"})
    again = await hub.siam.call("cancelPayment", {"paymentRequestId": "pay-cancel"})

    assert cancelled["result"]["resultStatus"] == "S"
    assert again["result"]["resultStatus"] == "S"
    assert await hub.accounts("kakaopay-aps") == before
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "pay-cancel"})
    assert inquiry["paymentStatus"] == "CANCELLED"
    assert inquiry["paymentResult"]["resultCode"] == "ORDER_IS_CLOSED"
    replay = await hub.siam.call("pay", pay_body("pay-cancel"))
    assert replay["result"]["resultCode"] == "ORDER_IS_CLOSED"  # a cancel wins, replays too
    refund = await hub.siam.call("refund", refund_body("pay-cancel", "ref-after-cancel", "100"))
    assert refund["result"]["resultCode"] == "ORDER_STATUS_INVALID"


async def test_a_cancel_that_overtakes_its_pay_wins(hub: LocalHub) -> None:
    cancelled = await hub.siam.call("cancelPayment", {"paymentRequestId": "late-pay"})
    late = await hub.siam.call("pay", pay_body("late-pay"))

    assert cancelled["result"]["resultStatus"] == "S"
    assert late["result"]["resultCode"] == "ORDER_IS_CLOSED"
    assert (await hub.stats("kakaopay-aps"))["pay_requests"] == 0
    unknown_id = await hub.siam.call("cancelPayment", {"paymentId": "P-NOT-OURS"})
    assert unknown_id["result"]["resultCode"] == "ORDER_NOT_EXIST"


async def test_refunds_partial_several_and_never_above_the_payment(hub: LocalHub) -> None:
    before = await hub.accounts("kakaopay-aps")
    paid = await hub.siam.call("pay", pay_body("pay-ref", value="100001"))

    first = await hub.siam.call("refund", refund_body("pay-ref", "r1", "33333"))
    second = await hub.siam.call("refund", refund_body("pay-ref", "r2", "33333"))
    too_much = await hub.siam.call("refund", refund_body("pay-ref", "r3", "33336"))
    last = await hub.siam.call("refund", refund_body("pay-ref", "r4", "33335"))

    assert first["result"]["resultStatus"] == second["result"]["resultStatus"] == "S"
    assert too_much["result"]["resultCode"] == "REFUND_AMOUNT_EXCEED"
    assert "33335" in too_much["result"]["resultMessage"]
    assert last["result"]["resultStatus"] == "S"
    # Each refund is converted at the payment's own price; the last one takes exactly
    # what remains, so the traveller gets back to the won what they paid.
    back = sum(int(r["refundFromAmount"]["value"]) for r in (first, second, last))
    assert back == int(paid["payToAmount"]["value"])
    assert await hub.accounts("kakaopay-aps") == before
    inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "pay-ref"})
    assert inquiry["refundedAmount"] == {"currency": "THB", "value": "100001"}


async def test_a_refund_is_idempotent_by_its_request_id(hub: LocalHub) -> None:
    await hub.siam.call("pay", pay_body("pay-ref2"))

    first = await hub.siam.call("refund", refund_body("pay-ref2", "r-same", "5000"))
    again = await hub.siam.call("refund", refund_body("pay-ref2", "r-same", "5000"))
    other = await hub.siam.call("refund", refund_body("pay-ref2", "r-same", "6000"))

    assert again["refundId"] == first["refundId"]
    assert other["result"]["resultCode"] == "REPEAT_REQ_INCONSISTENT"
    ledger = (await hub.http.get(hub.wallets["kakaopay-aps"] + "/_sim/ledger")).json()
    assert [e["kind"] for e in ledger].count("refund") == 1


async def test_concurrent_refunds_never_exceed_the_payment(hub: LocalHub) -> None:
    await hub.siam.call("pay", pay_body("pay-ref3", value="10000"))

    answers = await asyncio.gather(
        *(hub.siam.call("refund", refund_body("pay-ref3", f"rc-{i}", "3000")) for i in range(6))
    )

    succeeded = [a for a in answers if a["result"]["resultStatus"] == "S"]
    assert len(succeeded) == 3  # 3 × 3,000 ≤ 10,000 < 4 × 3,000
    assert all(
        a["result"]["resultCode"] in ("SUCCESS", "REFUND_AMOUNT_EXCEED", "UNKNOWN_EXCEPTION")
        for a in answers
    )


async def test_a_refund_in_another_currency_is_refused(hub: LocalHub) -> None:
    await hub.siam.call("pay", pay_body("pay-ref4"))
    answer = await hub.siam.call("refund", refund_body("pay-ref4", "r-usd", "100", currency="USD"))
    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert "refundAmount.currency" in answer["result"]["resultMessage"]


async def test_consult_lists_the_wallets_that_can_pay(hub: LocalHub) -> None:
    answer = await hub.siam.call(
        "consultPayment",
        {"paymentAmount": {"currency": "THB", "value": "0"}, "allowedPspRegions": ["KR", "PH"]},
    )

    options = {o["paymentMethodType"]: o for o in answer["paymentOptions"]}
    assert answer["result"]["resultStatus"] == "S"
    assert options["KAKAOPAY"]["enabled"] == "true"
    assert options["GCASH"]["enabled"] == "true"
    assert options["DANA"]["enabled"] == "false"
    assert options["DANA"]["disableReason"] == "REGION_NOT_ALLOWED"


async def test_consult_disables_wallets_for_a_currency_without_rates(hub: LocalHub) -> None:
    answer = await hub.siam.call(
        "consultPayment", {"paymentAmount": {"currency": "CHF", "value": "0"}}
    )

    reasons = {o["disableReason"] for o in answer["paymentOptions"]}
    assert reasons == {"CURRENCY_NOT_SUPPORT"}


async def test_a_payment_in_a_currency_without_rates_is_refused_unsent(hub: LocalHub) -> None:
    answer = await hub.siam.call("pay", pay_body("pay-chf", currency="CHF", value="5000"))

    assert answer["result"]["resultCode"] == "CURRENCY_NOT_SUPPORT"
    assert "CHF" in answer["result"]["resultMessage"]
    assert (await hub.stats("kakaopay-aps"))["pay_requests"] == 0


async def test_the_acquirer_may_settle_in_another_currency(hub: LocalHub) -> None:
    answer = await hub.siam.call(
        "pay", pay_body("pay-usd", settlementStrategy={"settlementCurrency": "USD"})
    )

    quote = answer["settlementQuote"]
    assert quote["quoteCurrencyPair"] == "THB/USD"
    assert answer["settlementAmount"]["currency"] == "USD"
    # The hub pays out USD below mid (its spread), rounded half up to the cent.
    expected = (Decimal("1250.00") * Decimal(quote["quotePrice"])).quantize(Decimal("0.01"))
    assert Decimal(answer["settlementAmount"]["value"]) / 100 == expected
    again = await hub.siam.call("pay", pay_body("pay-usd"))
    assert again["result"]["resultCode"] == "REPEAT_REQ_INCONSISTENT"  # settlement is a key field


async def test_a_refund_too_small_for_the_wallets_currency_is_refused(hub: LocalHub) -> None:
    # THB 0.03 is KRW 1; THB 0.01 would be KRW 0: nothing the wallet could give back.
    await hub.siam.call("pay", pay_body("pay-tiny", value="3"))

    answer = await hub.siam.call("refund", refund_body("pay-tiny", "r-tiny", "1"))
    whole = await hub.siam.call("refund", refund_body("pay-tiny", "r-whole", "3"))

    assert answer["result"]["resultCode"] == "PARAM_ILLEGAL"
    assert "too small to refund in KRW" in answer["result"]["resultMessage"]
    assert whole["result"]["resultStatus"] == "S"


async def test_a_pay_beyond_the_limit_is_refused_unstored_and_may_be_retried(
    hub: LocalHub,
) -> None:
    engine = hub.app_hub.engine
    engine.payments_in_flight = 1
    # A pay waiting for its request id's lock holds the one place.
    async with engine.payment_lock("SIAM_ACQ", "pay-busy"):
        waiting = asyncio.create_task(hub.siam.call("pay", pay_body("pay-busy")))
        for _ in range(500):
            if engine.in_flight:
                break
            await asyncio.sleep(0.01)

        refused = await hub.siam.call("pay", pay_body("pay-over"))

        assert refused["result"]["resultCode"] == "REQUEST_TRAFFIC_EXCEED_LIMIT"
        assert refused["result"]["resultStatus"] == "U"
        assert "paymentId" not in refused
        inquiry = await hub.siam.call("inquiryPayment", {"paymentRequestId": "pay-over"})
        assert inquiry["result"]["resultCode"] == "ORDER_NOT_EXIST"
        assert (await hub.stats("kakaopay-aps"))["pay_requests"] == 0
    assert (await waiting)["result"]["resultStatus"] == "S"

    retried = await hub.siam.call("pay", pay_body("pay-over"))

    assert retried["result"]["resultStatus"] == "S"
    assert engine.in_flight == 0
    assert await hub.stats("kakaopay-aps") == {"pay_requests": 2, "charges": 2}


async def test_an_overload_is_refused_before_the_request_is_read(hub: LocalHub) -> None:
    engine = hub.app_hub.engine
    engine.payments_in_flight = 0  # every place taken

    # Not even signed: shedding load must not cost a verification.
    refused = await hub.raw("pay", b"{not json", {"Client-Id": "SIAM_ACQ"})
    inquiry = await hub.raw("inquiryPayment", b"{not json", {"Client-Id": "SIAM_ACQ"})

    assert refused.json()["result"]["resultCode"] == "REQUEST_TRAFFIC_EXCEED_LIMIT"
    assert inquiry.json()["result"]["resultStatus"] == "F"  # only pays are shed


async def test_refusals_for_overload_are_signed_once_a_second(
    hub: LocalHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.app_hub.engine.payments_in_flight = 0
    signer = hub.app_hub.signer
    signed: list[bytes] = []

    def counting(content: bytes) -> str:
        signed.append(content)
        return RsaSigner.header(signer, content)

    monkeypatch.setattr(signer, "header", counting)
    answers = []
    for attempt in range(40):
        request = hub.siam.build("pay", pay_body(f"pay-shed-{attempt}"))
        response = await hub.http.send(request)
        hub.siam.verify(request, response)  # raises unless the hub signed this answer
        answers.append(response)
    tokyo = hub.tokyo.build("pay", pay_body("pay-shed-tokyo"))
    hub.tokyo.verify(tokyo, await hub.http.send(tokyo))

    seconds = {answer.headers["response-time"] for answer in answers}
    assert {a.json()["result"]["resultCode"] for a in answers} == {"REQUEST_TRAFFIC_EXCEED_LIMIT"}
    # One signature per second per client: the answers span one second or two.
    assert len(signed) == len(seconds) + 1
    assert len(seconds) < len(answers)
