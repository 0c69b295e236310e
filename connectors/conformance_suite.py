"""The conformance kit as a pytest plugin: the standard scenarios, against any connector.

Causeway registers this module as a pytest plugin (entry point ``pytest11``), so wherever
it is installed a wallet provider's test module needs only a target and a subclass::

    import httpx
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

Every scenario uses fresh request ids, and waits out ``PENDING`` answers (by inquiry, or
by sending a cancel or refund again) for the target's ``settle_seconds``, so asynchronous
protocols pass the same scenarios as synchronous ones.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from connectors import (
    CancelRequest,
    Operation,
    OperationNotSupported,
    Outcome,
    PaymentResult,
    PayRequest,
    WalletTimeout,
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


def _needs_control(wallet: ConformanceWallet) -> None:
    if not wallet.simulated:
        pytest.skip("needs the simulator's control API; this target is a sandbox")


def _needs(wallet: ConformanceWallet, operation: Operation) -> None:
    if operation not in wallet.connector.capabilities.operations:
        pytest.skip(f"the connector does not declare {operation.value!r}")


async def _paid(wallet: ConformanceWallet, request: PayRequest) -> PaymentResult:
    """Pay, then inquire while the answer is pending."""
    return await wallet.until_final(
        lambda: wallet.pay(request), lambda: wallet.inquire(request.wallet_request_id)
    )


async def _paid_state(wallet: ConformanceWallet, request: PayRequest) -> PaymentResult:
    """What inquiries say about ``request`` once they stop saying pending."""
    return await wallet.until_final(lambda: wallet.inquire(request.wallet_request_id))


async def _succeeded(wallet: ConformanceWallet) -> tuple[PayRequest, PaymentResult]:
    request = wallet.new_pay()
    result = await _paid(wallet, request)
    assert result.outcome is Outcome.SUCCEEDED, f"the payer's payment did not succeed: {result}"
    return request, result


def _needles(secrets: tuple[str, ...]) -> list[str]:
    """The secrets, and each line of a multi-line one (a PEM key): a ``repr`` escapes
    newlines, so the whole value would never be found in one. Armour lines
    (``-----BEGIN...``) and short ones are not secret enough to look for."""
    lines = [
        line.strip()
        for secret in secrets
        if "\n" in secret
        for line in secret.splitlines()
        if len(line.strip()) >= 16 and not line.startswith("-----")
    ]
    return [*secrets, *lines]


async def _movements(wallet: ConformanceWallet) -> Counter[str]:
    """How many entries of each kind the wallet's ledger holds."""
    return Counter(str(entry["kind"]) for entry in await wallet.ledger())


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
        pay = wallet.new_pay()
        builds: dict[Operation, Callable[[], httpx.Request]] = {
            Operation.CANCEL: lambda: wallet.connector.build_cancel(
                CancelRequest(pay.wallet_request_id, pay.acquirer_id)
            ),
            Operation.REFUND: lambda: wallet.connector.build_refund(
                wallet.new_refund(pay, PaymentResult.succeeded(wallet_payment_id=None), 1)
            ),
        }
        for operation, build in builds.items():
            if operation not in capabilities.operations:
                with pytest.raises(OperationNotSupported):
                    build()

    async def test_pay_succeeds(self, conformance_wallet: ConformanceWallet) -> None:
        wallet = conformance_wallet
        if wallet.simulated:
            before, books = await wallet.stats(), await _movements(wallet)
        _, result = await _succeeded(wallet)
        assert result.code == "SUCCESS"
        if wallet.simulated:
            assert (await wallet.stats()).charges == before.charges + 1
            assert (await _movements(wallet))["pay"] == books["pay"] + 1

    async def test_an_unknown_payer_is_declined(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        if wallet.target.unknown_payer is None:
            pytest.skip("the target names no unknown_payer")
        if wallet.simulated:
            before = await wallet.stats()
        result = await _paid(wallet, wallet.new_pay(wallet.target.unknown_payer))
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
        result = await _paid(wallet, wallet.new_pay(wallet.target.poor_payer))
        assert result.outcome is Outcome.FAILED, result
        assert result.code == "USER_BALANCE_NOT_ENOUGH", result
        if wallet.simulated:
            assert (await wallet.stats()).charges == before.charges

    async def test_inquiry_reports_the_payment(self, conformance_wallet: ConformanceWallet) -> None:
        wallet = conformance_wallet
        request, paid = await _succeeded(wallet)
        inquired = await wallet.inquire(request.wallet_request_id)
        assert inquired.outcome is Outcome.SUCCEEDED, inquired
        if paid.wallet_payment_id and inquired.wallet_payment_id:
            assert inquired.wallet_payment_id == paid.wallet_payment_id

    async def test_inquiry_of_an_unknown_payment_is_order_not_exist(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        never_sent = conformance_wallet.new_pay()
        result = await conformance_wallet.inquire(never_sent.wallet_request_id)
        assert (result.outcome, result.code) == (Outcome.FAILED, "ORDER_NOT_EXIST"), result

    async def test_cancel_reverses_a_payment(self, conformance_wallet: ConformanceWallet) -> None:
        wallet = conformance_wallet
        _needs(wallet, Operation.CANCEL)
        request, _ = await _succeeded(wallet)
        if wallet.simulated:
            books = await _movements(wallet)
        cancelled = await wallet.until_final(lambda: wallet.cancel(request.wallet_request_id))
        assert cancelled.outcome is Outcome.SUCCEEDED, cancelled
        if wallet.simulated:
            assert (await _movements(wallet))["reverse"] == books["reverse"] + 1
        # A cancel wins: the wallet must not report the payment as charged any more.
        after = await _paid_state(wallet, request)
        assert after.outcome is Outcome.FAILED, after

    async def test_a_full_refund_moves_money_once(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        _needs(wallet, Operation.REFUND)
        request, paid = await _succeeded(wallet)
        if wallet.simulated:
            books = await _movements(wallet)
        refund = wallet.new_refund(request, paid, request.pay_to_amount.value)
        first = await wallet.until_final(lambda: wallet.refund(refund))
        assert first.outcome is Outcome.SUCCEEDED, first
        # The contract resolves a pending refund by sending it again: the wallet must
        # deduplicate on the refund id.
        again = await wallet.refund(refund)
        assert again.outcome is Outcome.SUCCEEDED, again
        if wallet.simulated:
            assert (await _movements(wallet))["refund"] == books["refund"] + 1

    async def test_partial_refunds_up_to_the_payment(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        _needs(wallet, Operation.REFUND)
        request, paid = await _succeeded(wallet)
        if wallet.simulated:
            books = await _movements(wallet)
        total = request.pay_to_amount.value
        part = max(1, total // 3)
        for value in (part, total - part):
            refund = wallet.new_refund(request, paid, value)
            result = await wallet.until_final(functools.partial(wallet.refund, refund))
            assert result.outcome is Outcome.SUCCEEDED, (value, result)
        over = wallet.new_refund(request, paid, 1)
        refused = await wallet.until_final(lambda: wallet.refund(over))
        assert refused.outcome is Outcome.FAILED, f"a refund beyond the payment: {refused}"
        if wallet.simulated:
            assert (await _movements(wallet))["refund"] == books["refund"] + 2

    async def test_a_repeated_request_id_charges_once(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        if wallet.simulated:
            before = await wallet.stats()
        request, first = await _succeeded(wallet)
        second = await _paid(wallet, request)
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
        _needs_control(wallet)
        before = await wallet.stats()
        request = wallet.new_pay()
        await wallet.set_faults(latency_seconds=_SLOW_SECONDS)
        try:
            with pytest.raises(WalletTimeout):
                await wallet.pay(request, deadline=_IMPATIENT_SECONDS)
        finally:
            await wallet.set_faults()
        # The answer was lost, not the payment: only an inquiry can tell what happened.
        result = await _paid_state(wallet, request)
        assert result.outcome is Outcome.SUCCEEDED, result
        assert (await wallet.stats()).charges == before.charges + 1

    async def test_an_unknown_wallet_status_is_pending(
        self, conformance_wallet: ConformanceWallet
    ) -> None:
        wallet = conformance_wallet
        _needs_control(wallet)
        request = wallet.new_pay()
        await wallet.set_faults(unknown_status=True)
        try:
            paid = await wallet.pay(request)
            inquired = await wallet.inquire(request.wallet_request_id)
        finally:
            await wallet.set_faults()
        assert paid.outcome is Outcome.PENDING, f"pay with an unknown status: {paid}"
        assert inquired.outcome is Outcome.PENDING, f"inquiry with an unknown status: {inquired}"
        settled = await _paid_state(wallet, request)
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
        request, paid = await _succeeded(wallet)
        await wallet.inquire(request.wallet_request_id)
        operations = wallet.connector.capabilities.operations
        if Operation.REFUND in operations:
            await wallet.refund(wallet.new_refund(request, paid, 1))
        if Operation.CANCEL in operations:
            await wallet.cancel(request.wallet_request_id)
        places = [
            ("repr(connector)", repr(wallet.connector)),
            ("str(connector)", str(wallet.connector)),
            *((f"repr({type(x).__name__})", repr(x)) for x in wallet.exchanged),
            ("the log", caplog.text),
        ]
        needles = _needles(secrets)
        # Only where a secret leaked is reported: a failure must not print the secret.
        leaks = sorted({where for where, text in places if any(n in text for n in needles)})
        assert not leaks, f"a secret appears in {', '.join(leaks)}"
