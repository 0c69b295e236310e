"""What the conformance scenarios check with: skips, waits, the pieces of callbacks, and
the refunds a lookup is asked about.

The scenarios themselves are :mod:`connectors.conformance_suite`; these helpers stand apart
so that the suite reads as the list of rules it checks.
"""

from __future__ import annotations

import string
from collections import Counter

import httpx
import pytest

from connectors import (
    NotificationParser,
    Operation,
    OperationNotSupported,
    Outcome,
    PaymentResult,
    PayRequest,
    RefundInquiry,
    RefundLookup,
    RefundPresence,
    RefundRequest,
    WalletNotification,
    WalletProtocolError,
)
from connectors.conformance import ConformanceWallet

__all__ = [
    "a_part",
    "an_inquiry_without_the_wallet_id_claims_nothing",
    "asks_by_request_id",
    "assert_found",
    "forgeries",
    "looked_up",
    "movements",
    "named_ids",
    "needs",
    "needs_callbacks",
    "needs_control",
    "needs_refund_inquiry",
    "other_id",
    "paid_state",
    "read_lookup",
    "refunded_part",
    "refused",
    "secret_needles",
    "succeeded",
    "unreadable",
    "with_body",
    "without_the_wallet_id",
]


def needs_control(wallet: ConformanceWallet) -> None:
    if not wallet.simulated:
        pytest.skip("needs the simulator's control API; this target is a sandbox")


def needs(wallet: ConformanceWallet, operation: Operation) -> None:
    if operation not in wallet.connector.capabilities.operations:
        pytest.skip(f"the connector does not declare {operation.value!r}")


async def needs_callbacks(wallet: ConformanceWallet) -> NotificationParser:
    connector = wallet.connector
    if not isinstance(connector, NotificationParser):
        pytest.skip("the connector is not a NotificationParser (its wallet does not call back)")
    needs_control(wallet)
    if not await wallet.records_callbacks():
        pytest.skip("the simulator does not record callbacks (GET /_sim/callbacks)")
    return connector


def needs_refund_inquiry(wallet: ConformanceWallet) -> RefundInquiry:
    connector = wallet.connector
    if not isinstance(connector, RefundInquiry):
        pytest.skip("the connector is not a RefundInquiry (the hub cannot ask about a refund)")
    needs(wallet, Operation.REFUND)
    return connector


async def paid_state(wallet: ConformanceWallet, request: PayRequest) -> PaymentResult:
    """What inquiries say about ``request`` once they stop saying pending."""
    return await wallet.until_final(lambda: wallet.inquire(request.wallet_request_id))


async def succeeded(wallet: ConformanceWallet) -> tuple[PayRequest, PaymentResult]:
    request = wallet.new_pay()
    result = await wallet.paid(request)
    assert result.outcome is Outcome.SUCCEEDED, f"the payer's payment did not succeed: {result}"
    return request, result


def secret_needles(secrets: tuple[str, ...]) -> list[str]:
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


async def movements(wallet: ConformanceWallet) -> Counter[str]:
    """How many entries of each kind the wallet's ledger holds."""
    return Counter(str(entry["kind"]) for entry in await wallet.ledger())


def asks_by_request_id(wallet: ConformanceWallet) -> bool:
    return wallet.connector.capabilities.inquiry_by_request_id


async def an_inquiry_without_the_wallet_id_claims_nothing(
    wallet: ConformanceWallet, wallet_request_id: str
) -> None:
    """What ``inquiry_by_request_id=False`` promises: asked about a payment whose wallet id
    the hub never learnt, the connector refuses to ask (``OperationNotSupported``) or
    answers ``PENDING``; a "no such payment" or a success would be a guess."""
    assert not wallet.wallet_payment_ids(wallet_request_id), "the kit knows the wallet's id"
    try:
        result = await wallet.inquire(wallet_request_id)
    except OperationNotSupported:
        return
    assert result.outcome is Outcome.PENDING, (
        "the connector declares inquiry_by_request_id=False, yet an inquiry without the "
        f"wallet's id answered {result.outcome} {result.code}: the core would take a guess "
        f"for the payment's fate ({result})"
    )


def without_the_wallet_id(scenario: str) -> str:
    return (
        "the connector declares inquiry_by_request_id=False (the wallet is asked by its own "
        f"id only): {scenario} cannot be checked; checked instead that an inquiry without "
        "the wallet's id claims nothing"
    )


def other_id(value: str) -> str:
    """An id shaped like ``value`` that is not it: its digits moved on by one
    (``ws_CO_1299`` -> ``ws_CO_2300``), or its letters when it has no digit (``value``
    itself when it has neither). A connector that checks the shape of ids still reads it."""
    digits, lower, upper = string.digits, string.ascii_lowercase, string.ascii_uppercase
    if any(c in digits for c in value):
        return value.translate(str.maketrans(digits, digits[1:] + digits[0]))
    return value.translate(
        str.maketrans(lower + upper, lower[1:] + lower[0] + upper[1:] + upper[0])
    )


def with_body(request: httpx.Request, content: bytes) -> httpx.Request:
    """``request`` with another body (and the length that goes with it)."""
    headers = {name: value for name, value in request.headers.items() if name != "content-length"}
    return httpx.Request(request.method, request.url, headers=headers, content=content)


def named_ids(notification: WalletNotification) -> dict[str, str]:
    """The ids a notification names its operation by, by field."""
    named = {
        "wallet_request_id": notification.wallet_request_id,
        "wallet_payment_id": notification.wallet_payment_id,
        "refund_request_id": notification.refund_request_id,
        "wallet_refund_id": notification.wallet_refund_id,
    }
    return {name: value for name, value in named.items() if value}


def forgeries(
    callback: httpx.Request, notification: WalletNotification
) -> list[tuple[str, str, httpx.Request]]:
    """``callback``, about ``notification``'s operation, rewritten to name another, once
    for each id it names: the field changed, the id it now names, and the request. An id
    that appears nowhere in the callback's URL, headers or body as text gives none."""
    made = []
    for field, old in named_ids(notification).items():
        new = other_id(old)
        headers = {
            name: value.replace(old, new)
            for name, value in callback.headers.items()
            if name != "content-length"  # httpx sets it for the new body
        }
        content = callback.content.replace(old.encode(), new.encode())
        url = str(callback.url).replace(old, new)
        if new != old and (content, url, headers) != (
            callback.content,
            str(callback.url),
            {k: v for k, v in callback.headers.items() if k != "content-length"},
        ):
            made.append(
                (field, new, httpx.Request(callback.method, url, headers=headers, content=content))
            )
    return made


def refused(parser: NotificationParser, callback: httpx.Request) -> bool:
    """Whether the connector refuses ``callback`` (``WalletProtocolError``); any other
    exception is a bug, and propagates."""
    try:
        parser.parse_notification(callback)
    except WalletProtocolError:
        return True
    return False


# --- refund lookups ----------------------------------------------------------------------


def a_part(wallet: ConformanceWallet, request: PayRequest) -> int:
    """A third of the payment, on the amount step (one step at least): two parts fit in it."""
    total, step = request.pay_to_amount.value, wallet.amount_step
    return max(step, total // 3 // step * step)


async def refunded_part(
    wallet: ConformanceWallet,
) -> tuple[PayRequest, PaymentResult, RefundRequest]:
    """A payment by the payer, and a refund of a part of it that the wallet made."""
    request, paid = await succeeded(wallet)
    refund = wallet.new_refund(request, paid, a_part(wallet, request))
    result = await wallet.refunded(refund)
    assert result.outcome is Outcome.SUCCEEDED, f"the refund of a part did not succeed: {result}"
    return request, paid, refund


def assert_found(
    wallet: ConformanceWallet, refund: RefundRequest, lookup: RefundLookup, what: str
) -> None:
    """Check that ``lookup``, about ``refund`` (which the wallet made), found it, by the id
    the wallet gave it when it gave one: the hub records a found refund as a success under
    the lookup's id, and another refund's id would be a wrong record."""
    assert lookup.presence is RefundPresence.FOUND, (
        f"{what}, which the wallet made, was looked up as {lookup.presence}: the hub would "
        f"never record it ({lookup})"
    )
    given = wallet.wallet_refund_ids(refund.refund_request_id)
    if given:
        found_as = lookup.wallet_refund_id
        assert found_as in given, (
            f"{what} was found {'with no id' if found_as is None else f'as {found_as!r}'}, "
            f"but the wallet named it {', '.join(map(repr, given))} when it made it"
        )


def read_lookup(
    inquiry: RefundInquiry, refund: RefundRequest, answer: httpx.Response
) -> RefundLookup | None:
    """What the connector reads from ``answer`` about ``refund``; ``None`` when it refuses
    the answer (``WalletProtocolError``, which the hub takes as unknown). Any other
    exception is a bug, and propagates."""
    try:
        return inquiry.parse_inquire_refund(refund, answer)
    except WalletProtocolError:
        return None


async def looked_up(wallet: ConformanceWallet, refund: RefundRequest) -> RefundLookup | None:
    """:meth:`ConformanceWallet.look_up_refund`, ``None`` when the connector refuses the
    answer (``WalletProtocolError``)."""
    try:
        return await wallet.look_up_refund(refund)
    except WalletProtocolError:
        return None


def unreadable(answer: httpx.Response) -> list[tuple[str, httpx.Response]]:
    """``answer`` spoilt so that it says nothing of any refund, each with what was done to
    it: its body emptied, cut in half, or replaced by bytes that are not text, and its
    body as it was under HTTP 503 (the wallet failed while answering)."""
    headers = {
        name: value
        for name, value in answer.headers.items()
        # The body given is the decoded one, and httpx sets its length.
        if name not in ("content-length", "content-encoding", "transfer-encoding")
    }

    def spoilt(status: int, content: bytes) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=content, request=answer.request)

    status, body = answer.status_code, answer.content
    return [
        ("an empty body", spoilt(status, b"")),
        ("half its body", spoilt(status, body[: len(body) // 2])),
        ("a body that is not text", spoilt(status, b"\xff\xfe\x00 not an answer")),
        ("HTTP 503", spoilt(503, body)),
    ]
