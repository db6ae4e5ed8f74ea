"""What store credit refuses, as domain errors (rendered as problem+json by the API and as
messages by the console)."""

from __future__ import annotations

from returns_service.common.errors import DomainError, NotFound
from returns_service.common.money import format_money


class CreditNotFound(NotFound):
    type, title = "credit-not-found", "No such credit code"

    def __init__(self, code: str):
        super().__init__(f"No credit code {code!r}: check it for typos.")


class InsufficientCredit(DomainError):
    """The amount asked is above what the code still holds; `balance` says what it holds."""

    status, type, title = 409, "insufficient-credit", "Not enough credit on this code"

    def __init__(self, *, balance: int, currency: str, asked: int):
        super().__init__(
            f"{format_money(asked, currency)} asked, {format_money(balance, currency)} left on "
            "this code.", balance=balance, currency=currency)
        self.balance, self.currency = balance, currency


class CreditExpired(DomainError):
    status, type, title = 409, "credit-expired", "This credit has expired"

    def __init__(self, code: str):
        super().__init__(f"The credit on {code} has expired.", balance=0)


class IdempotencyKeyReused(DomainError):
    """The key was used before on this code for another redemption (another amount, order
    reference or currency): nothing is recorded; send a new key for a new redemption."""

    status, type, title = 422, "idempotency-key-reused", "Idempotency key used for another request"
