"""The conformance kit as a pytest plugin: the standard scenarios, against any connector.

Causeway registers this module as a pytest plugin (entry point ``pytest11``), so wherever
it is installed a wallet provider's test module needs only a target and a subclass::

    import pytest

    from connectors.conformance import ConformanceTarget
    from connectors.conformance_suite import ConformanceSuite
    from gopay_connector.simulator import conformance_target as gopay_target


    @pytest.fixture
    def conformance_target() -> ConformanceTarget:
        return gopay_target()


    class TestGoPay(ConformanceSuite):
        pass

The plugin provides the ``conformance_wallet`` fixture: the target's connector connected to
its simulator, served by uvicorn on 127.0.0.1 for the length of one test (or to its sandbox,
when the target has a ``base_url`` and no simulator). Scenarios that need the simulator's
control API are skipped against a sandbox. With plugin autoloading disabled, add
``pytest_plugins = ["connectors.conformance_suite"]`` to the root ``conftest.py``.

Every scenario uses fresh request ids, and waits out ``PENDING`` answers for the target's
``settle_seconds`` (by reading the wallet's callbacks when it sends them, then by inquiry,
or by sending a cancel or refund again), so asynchronous protocols pass the same scenarios
as synchronous ones. Scenarios respect what the connector declares: amounts are multiples
of its ``amount_step``; where the wallet cannot be asked by our id
(``inquiry_by_request_id=False``) the two scenarios that need it are skipped, after checking
that such an inquiry claims nothing; the callback scenarios run for a
:class:`~connectors.NotificationParser` whose simulator records its callbacks, and the
refund lookup scenarios for a :class:`~connectors.RefundInquiry` (each is skipped for any
other connector).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import httpx
import pytest

from connectors import (
    CancelRequest,
    ConnectorError,
    Operation,
    OperationNotSupported,
    Outcome,
    PaymentResult,
    RefundInquiry,
    RefundPresence,
    WalletTimeout,
)
from connectors._conformance_checks import (
    a_part,
    an_inquiry_without_the_wallet_id_claims_nothing,
    asks_by_request_id,
    assert_found,
    forgeries,
    looked_up,
    movements,
    named_ids,
    needs,
    needs_callbacks,
    needs_control,
    needs_refund_inquiry,
    paid_state,
    read_lookup,
    refunded_part,
    refused,
    secret_needles,
    succeeded,
    unreadable,
    with_body,
    without_the_wallet_id,
)
from connectors.conformance import ConformanceTarget, ConformanceWallet, open_wallet

__all__ = ["ConformanceSuite", "conformance_target", "conformance_wallet"]

#: How slow the simulator is told to be, and how long the caller waits, in the timeout
#: scenario: far enough apart that a busy machine does not blur them.
_SLOW_SECONDS = 0.6
_IMPATIENT_SECONDS = 0.15


@pytest.fixture
def conformance_target() -> ConformanceTarget:
    """Replaced by yours: the kit cannot guess which connector to test."""
    pytest.fail(
        "define a fixture named `conformance_target` returning your connector's "
        "ConformanceTarget (see docs/connectors.md, 'Testing')",
        pytrace=False,
    )


@pytest.fixture
async def conformance_wallet(
    conformance_target: ConformanceTarget,
) -> AsyncIterator[ConformanceWallet]:
    """The target's connector, connected to its simulator on loopback (or its sandbox)."""
    async with open_wallet(conformance_target) as wallet:
        yield wallet


@pytest.mark.anyio
class ConformanceSuite:
    """The standard scenarios. Subclass it as ``Test<Wallet>`` and provide a
    ``conformance_target`` fixture; each ``test_*`` method is one scenario."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        # uvicorn serves the simulator in the test's own event loop, which must be asyncio.
        return "asyncio"

    async def test_capabilities_are_honest(self, conformance_wallet: ConformanceWallet) -> None:
        wallet = conformance_wallet
        capabilities = wallet.connector.capabilities
        assert wallet.connector.name, "a connector has a name"
        assert {Operation.PAY, Operation.INQUIRE} <= capabilities.operations
        assert wallet.target.wallet_currency in capabilities.currencies
        step = capabilities.amount_step
        assert step >= 1, f"amount_step {step}: the smallest amount moved is a whole minor unit"
        assert wallet.target.pay_to_amount % step == 0, (
            f"the target's pay_to_amount is not a multiple of the amount_step {step}"
        )
        assert wallet.target.pay_to_amount >= 2 * step, "a partial refund needs a part"
        pay = wallet.new_pay()
        paid = PaymentResult.succeeded(wallet_payment_id="W-CONFORMANCE")
        builds: dict[Operation, Callable[[], httpx.Request]] = {
            Operation.CANCEL: lambda: wallet.connector.build_cancel(
                CancelRequest(pay.wallet_request_id, pay.acquirer_id)
            ),
            Operation.REFUND: lambda: wallet.connector.build_refund(
                wallet.new_refund(pay, paid, step)
            ),
        }
        for operation, build in builds.items():
            if operation not in capabilities.operations:
                with pytest.raises(OperationNotSupported):
                    build()
        if step > 1:
            # An amount the wallet cannot move is refused, never rounded to one it can:
            # the traveller would be charged (or refunded) other than what was agreed.
            off_step = replace(pay.pay_to_amount, value=pay.pay_to_amount.value + 1)
            with pytest.raises(ConnectorError):
                wallet.connector.build_pay(replace(pay, pay_to_amount=off_step))
            if Operation.REFUND in capabilities.operations:
                with pytest.raises(ConnectorError):
                    wallet.connector.build_refund(wallet.new_refund(pay, paid, step + 1))

    async def test_pay_succeeds(self, conformance_wallet: ConformanceWallet) -> None:
        wallet = conformance_wallet
        if wallet.simulated:
            before, books = await wallet.stats(), await movements(wallet)
        _, result = await succeeded(wallet)
        assert result.code == "SUCCESS"
        if wallet.simulated:
            assert (await wallet.stats()).charges == before.charges + 1
            assert (await movements(wallet))["pay"] == books["pay"] + 1

    async def test_an_unknown_payer_is_declined(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        if wallet.target.unknown_payer is None:
            pytest.skip("the target names no unknown_payer")
        if wallet.simulated:
            before = await wallet.stats()
        result = await wallet.paid(wallet.new_pay(wallet.target.unknown_payer))
        assert result.outcome is Outcome.FAILED, result
        assert result.code not in ("SUCCESS", "PAYMENT_IN_PROCESS"), result
        if wallet.simulated:
            assert (await wallet.stats()).charges == before.charges

    async def test_insufficient_balance_is_declined(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        if wallet.simulated:
            before = await wallet.stats()
        result = await wallet.paid(wallet.new_pay(wallet.target.poor_payer))
        assert result.outcome is Outcome.FAILED, result
        assert result.code == "USER_BALANCE_NOT_ENOUGH", result
        if wallet.simulated:
            assert (await wallet.stats()).charges == before.charges

    async def test_inquiry_reports_the_payment(self, conformance_wallet: ConformanceWallet) -> None:
        wallet = conformance_wallet
        request, _ = await succeeded(wallet)
        given = wallet.wallet_payment_ids(request.wallet_request_id)
        inquired = await wallet.inquire(request.wallet_request_id)
        assert inquired.outcome is Outcome.SUCCEEDED, inquired
        if given and inquired.wallet_payment_id:
            # By an id the wallet already gave this payment (M-Pesa names it by its
            # CheckoutRequestID when queried and by its receipt when paid): any other
            # would be another payment's.
            assert inquired.wallet_payment_id in given, (inquired, given)

    async def test_inquiry_of_an_unknown_payment_is_order_not_exist(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        never_sent = wallet.new_pay()
        if not asks_by_request_id(wallet):
            await an_inquiry_without_the_wallet_id_claims_nothing(
                wallet, never_sent.wallet_request_id
            )
            pytest.skip(without_the_wallet_id("a payment it never saw"))
        result = await wallet.inquire(never_sent.wallet_request_id)
        assert (result.outcome, result.code) == (Outcome.FAILED, "ORDER_NOT_EXIST"), result

    async def test_cancel_reverses_a_payment(self, conformance_wallet: ConformanceWallet) -> None:
        wallet = conformance_wallet
        needs(wallet, Operation.CANCEL)
        request, _ = await succeeded(wallet)
        if wallet.simulated:
            books = await movements(wallet)
        cancelled = await wallet.until_final(lambda: wallet.cancel(request.wallet_request_id))
        assert cancelled.outcome is Outcome.SUCCEEDED, cancelled
        if wallet.simulated:
            assert (await movements(wallet))["reverse"] == books["reverse"] + 1
        # A cancel wins: the wallet must not report the payment as charged any more.
        after = await paid_state(wallet, request)
        assert after.outcome is Outcome.FAILED, after

    async def test_a_full_refund_moves_money_once(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        needs(wallet, Operation.REFUND)
        request, paid = await succeeded(wallet)
        if wallet.simulated:
            books = await movements(wallet)
        refund = wallet.new_refund(request, paid, request.pay_to_amount.value)
        first = await wallet.refunded(refund)
        assert first.outcome is Outcome.SUCCEEDED, first
        # The contract resolves a pending refund by sending it again: the wallet must
        # deduplicate on the refund id (and, if it calls back, not report a second one).
        again = await wallet.refunded(refund)
        assert again.outcome is Outcome.SUCCEEDED, again
        if wallet.simulated:
            assert (await movements(wallet))["refund"] == books["refund"] + 1

    async def test_partial_refunds_up_to_the_payment(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        needs(wallet, Operation.REFUND)
        request, paid = await succeeded(wallet)
        if wallet.simulated:
            books = await movements(wallet)
        total, step = request.pay_to_amount.value, wallet.amount_step
        part = a_part(wallet, request)
        for value in (part, total - part):
            refund = wallet.new_refund(request, paid, value)
            result = await wallet.refunded(refund)
            assert result.outcome is Outcome.SUCCEEDED, (value, result)
        over = wallet.new_refund(request, paid, step)  # the least the wallet could move
        refused = await wallet.refunded(over)
        assert refused.outcome is Outcome.FAILED, f"a refund beyond the payment: {refused}"
        if wallet.simulated:
            assert (await movements(wallet))["refund"] == books["refund"] + 2

    async def test_a_repeated_request_id_charges_once(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        if wallet.simulated:
            before = await wallet.stats()
        request, first = await succeeded(wallet)
        second = await wallet.paid(request)
        assert second.outcome is Outcome.SUCCEEDED, second
        if first.wallet_payment_id and second.wallet_payment_id:
            assert second.wallet_payment_id == first.wallet_payment_id
        if wallet.simulated:
            after = await wallet.stats()
            # Both requests reached the wallet, and the wallet deduplicated them.
            assert after.pay_requests == before.pay_requests + 2
            assert after.charges == before.charges + 1

    async def test_a_timeout_is_resolved_by_inquiry(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        needs_control(wallet)
        before = await wallet.stats()
        request = wallet.new_pay()
        await wallet.set_faults(latency_seconds=_SLOW_SECONDS)
        try:
            with pytest.raises(WalletTimeout):
                await wallet.pay(request, deadline=_IMPATIENT_SECONDS)
        finally:
            await wallet.set_faults()
        if not asks_by_request_id(wallet):
            # The pay reached the wallet (which charged, or will), and the hub never learnt
            # the id it could ask by.
            await an_inquiry_without_the_wallet_id_claims_nothing(wallet, request.wallet_request_id)
            after = await wallet.stats()
            assert after.pay_requests == before.pay_requests + 1, "the slow pay never arrived"
            pytest.skip(without_the_wallet_id("a payment whose answer was lost"))
        # The answer was lost, not the payment: only an inquiry can tell what happened.
        result = await paid_state(wallet, request)
        assert result.outcome is Outcome.SUCCEEDED, result
        assert (await wallet.stats()).charges == before.charges + 1

    async def test_an_unknown_wallet_status_is_pending(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        needs_control(wallet)
        request = wallet.new_pay()
        await wallet.set_faults(unknown_status=True)
        try:
            paid = await wallet.pay(request)
            inquired = await wallet.inquire(request.wallet_request_id)
        finally:
            await wallet.set_faults()
        assert paid.outcome is Outcome.PENDING, f"pay with an unknown status: {paid}"
        assert inquired.outcome is Outcome.PENDING, f"inquiry with an unknown status: {inquired}"
        settled = await paid_state(wallet, request)
        assert settled.outcome is Outcome.SUCCEEDED, settled

    async def test_secrets_stay_out_of_reprs_and_logs(
        self, conformance_wallet: ConformanceWallet, caplog: pytest.LogCaptureFixture
    ) -> None:
        wallet = conformance_wallet
        secrets = wallet.target.secrets
        if not secrets:
            pytest.skip("the target names no secrets")
        assert all(secrets), "an empty string cannot be looked for"
        caplog.set_level(logging.DEBUG)
        request, paid = await succeeded(wallet)
        await wallet.inquire(request.wallet_request_id)
        operations = wallet.connector.capabilities.operations
        if Operation.REFUND in operations:
            refund = wallet.new_refund(request, paid, wallet.amount_step)
            await wallet.refund(refund)
            if isinstance(wallet.connector, RefundInquiry):
                await wallet.look_up_refund(refund)
        if Operation.CANCEL in operations:
            await wallet.cancel(request.wallet_request_id)
        places = [
            ("repr(connector)", repr(wallet.connector)),
            ("str(connector)", str(wallet.connector)),
            *((f"repr({type(x).__name__})", repr(x)) for x in wallet.exchanged),
            ("the log", caplog.text),
        ]
        needles = secret_needles(secrets)
        # Only where a secret leaked is reported: a failure must not print the secret.
        leaks = sorted({where for where, text in places if any(n in text for n in needles)})
        assert not leaks, f"a secret appears in {', '.join(leaks)}"

    # --- callbacks (a NotificationParser whose simulator records them) --------------------

    async def test_callbacks_report_what_an_inquiry_reports(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        await needs_callbacks(wallet)
        reported = 0
        for who, payer in (
            ("payer", wallet.target.payer),
            ("poor payer", wallet.target.poor_payer),
        ):
            request = wallet.new_pay(payer)
            first = await wallet.pay(request)
            inquired = await paid_state(wallet, request)
            assert inquired.outcome is not Outcome.PENDING, f"the {who}'s payment: {inquired}"
            notify = functools.partial(wallet.notified_payment, request.wallet_request_id)
            if first.outcome is Outcome.PENDING:
                notified = await wallet.until_final(notify)
                assert notified.outcome is not Outcome.PENDING, (
                    f"the {who}'s payment was pending, and no callback reports its end"
                )
            else:
                notified = await notify()  # a final answer needs no callback: if one came...
                if notified.outcome is Outcome.PENDING:
                    continue
            reported += 1
            assert (notified.outcome, notified.code) == (inquired.outcome, inquired.code), (
                f"the {who}'s payment: the callback says {notified}, an inquiry {inquired}"
            )
        if not reported:
            pytest.skip("every pay answer was final, and the wallet sent no callback")

    async def test_a_forged_or_garbled_callback_is_refused(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        parser = await needs_callbacks(wallet)
        await wallet.paid(wallet.new_pay())
        recorded = await wallet.callbacks()
        if not recorded:
            pytest.skip("the wallet sent no callback about a payment")
        genuine = recorded[-1]
        named = wallet.read_callback(genuine)
        # A callback rewritten to name another operation, one id at a time: a forgery where
        # callbacks are signed, so refused. Where they are not, a callback about an
        # operation the connector cannot know of, which it must still read as naming that
        # one (the core decides what an unknown id means); a protocol that signs some ids
        # and not others (a signed callback URL, an unsigned body) refuses a rewrite of a
        # signed one, but reads at least one rewrite.
        rewritten = forgeries(genuine, named)
        if not rewritten:
            pytest.skip("the callback names its operation by no id in its text")
        read_any = False
        for field, other, request in rewritten:
            if wallet.target.signed_callbacks:
                assert refused(parser, request), (
                    f"a signed callback rewritten to name another {field} was accepted"
                )
            elif not refused(parser, request):
                read_any = True
                read = named_ids(wallet.read_callback(request))
                assert read.get(field) == other, (
                    f"a callback naming another {field} was read as naming {read.get(field)!r}"
                )
        assert wallet.target.signed_callbacks or read_any, (
            "an unsigned callback rewritten to name another operation was refused: the "
            "connector cannot know which operations exist"
        )
        # What cannot be understood is refused, and the refusal does not read as "received".
        half = genuine.content[: len(genuine.content) // 2]
        for garbage in (b"", half, b"\xff\xfe\x00 not a callback"):
            assert refused(parser, with_body(genuine, garbage)), f"{garbage!r} was read"
        refusal, acceptance = parser.acknowledge(None), parser.acknowledge(named)
        assert (refusal.status_code, refusal.content) != (
            acceptance.status_code,
            acceptance.content,
        ), "acknowledge(None) answers a refused callback as it answers an accepted one"

    # --- refund lookups (a RefundInquiry) -------------------------------------------------

    async def test_a_refund_the_wallet_made_is_found(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        needs_refund_inquiry(wallet)
        _, _, refund = await refunded_part(wallet)
        assert_found(wallet, refund, await wallet.look_up_refund(refund), "a refund")

    async def test_a_refund_never_sent_is_absent(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        needs_refund_inquiry(wallet)
        request, paid = await succeeded(wallet)
        if wallet.simulated:
            books = await movements(wallet)
        never_sent = wallet.new_refund(request, paid, a_part(wallet, request))
        lookup = await wallet.look_up_refund(never_sent)
        if wallet.simulated:
            assert await movements(wallet) == books, "looking a refund up moved money"
        # FOUND would record a refund whose money never moved; UNKNOWN would leave it
        # unknown for good, where the hub could safely send it.
        assert lookup.presence is RefundPresence.ABSENT, (
            "a refund never sent, of a payment with no refund, was looked up as "
            f"{lookup.presence}, not ABSENT ({lookup})"
        )

    async def test_a_lookup_tells_one_refund_from_another(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        needs_refund_inquiry(wallet)
        request, paid, first = await refunded_part(wallet)
        # Another refund of the same payment and amount: only its id tells it apart.
        second = wallet.new_refund(request, paid, first.refund_from_amount.value)
        lookup = await wallet.look_up_refund(second)
        assert lookup.presence is RefundPresence.ABSENT, (
            "a refund never sent, of a payment another refund of the same amount was made "
            f"of, was looked up as {lookup.presence}, not ABSENT: a lookup must match the "
            f"refund, not its payment or its amount ({lookup})"
        )
        made = await wallet.refunded(second)
        assert made.outcome is Outcome.SUCCEEDED, f"the second refund did not succeed: {made}"
        for what, refund in (("the first refund", first), ("the second refund", second)):
            assert_found(wallet, refund, await wallet.look_up_refund(refund), what)

    async def test_a_refund_lookup_it_cannot_read_is_unknown(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        inquiry = needs_refund_inquiry(wallet)
        _, _, refund = await refunded_part(wallet)
        answer = await wallet.refund_lookup_answer(refund)
        assert_found(wallet, refund, inquiry.parse_inquire_refund(refund, answer), "a refund")
        # The same answer, spoilt: it can no longer say that the refund was made (a success
        # the hub would book) or that it was not (a second refund the hub would send).
        for spoilt, garbled in unreadable(answer):
            lookup = read_lookup(inquiry, refund, garbled)
            assert lookup is None or lookup.presence is RefundPresence.UNKNOWN, (
                f"an answer with {spoilt} was read as {lookup.presence}: only UNKNOWN or a "
                f"WalletProtocolError can come of it ({lookup})"
            )

    async def test_a_refund_lookup_with_an_unknown_status_is_not_absent(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        needs_refund_inquiry(wallet)
        needs_control(wallet)
        request, paid, made = await refunded_part(wallet)
        never_sent = wallet.new_refund(request, paid, a_part(wallet, request))
        await wallet.set_faults(unknown_status=True)
        try:
            made_lookup = await looked_up(wallet, made)
            never_sent_lookup = await looked_up(wallet, never_sent)
        finally:
            await wallet.set_faults()
        assert made_lookup is None or made_lookup.presence is not RefundPresence.ABSENT, (
            "with an unknown status, a refund the wallet made was looked up as ABSENT: the "
            f"hub would send it again ({made_lookup})"
        )
        # A status the connector does not know says nothing of whether the wallet's list
        # of refunds is whole: "not there" cannot be read from it.
        assert never_sent_lookup is None or never_sent_lookup.presence is RefundPresence.UNKNOWN, (
            "with an unknown status, a refund never sent was looked up as "
            f"{never_sent_lookup.presence}: only UNKNOWN or a WalletProtocolError can come "
            f"of it ({never_sent_lookup})"
        )
