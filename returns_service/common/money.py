"""Money as integer minor units plus an ISO 4217 currency: validation and display."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# ISO 4217 exponents that are not 2. Anything else listed here or in ISO_CURRENCIES uses 2.
ZERO_DECIMAL = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}
THREE_DECIMAL = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
ISO_CURRENCIES = ZERO_DECIMAL | THREE_DECIMAL | {
    "AED", "ARS", "AUD", "BGN", "BRL", "CAD", "CHF", "CNY", "COP", "CZK", "DKK", "EGP", "EUR",
    "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "MAD", "MXN", "MYR", "NGN", "NOK", "NZD", "PEN",
    "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "UAH",
    "USD", "ZAR"}
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
# The largest amount Stripe takes in one payment (12 digits, in the currencies that allow the
# most). No order, line or refund is larger; sums of them stay far inside 64-bit columns.
MAX_AMOUNT = 999_999_999_999
MAX_LINE_QUANTITY = 100_000


def exponent(currency: str) -> int:
    currency = currency.upper()
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def refund_step(currency: str) -> int:
    """The smallest step, in minor units, a card refund can be made in: Stripe takes
    three-decimal currencies (KWD, BHD…) only in tens (5.120, not 5.124)."""
    return 10 if currency.upper() in THREE_DECIMAL else 1


def is_currency(code: str) -> bool:
    return isinstance(code, str) and code.upper() in ISO_CURRENCIES


def format_money(amount: int, currency: str) -> str:
    """1999, "EUR" -> "€19.99"; 500, "JPY" -> "¥500"; unknown symbols use the code."""
    exp = exponent(currency)
    value = Decimal(amount).scaleb(-exp)
    text = f"{abs(value):,.{exp}f}"
    sign = "-" if amount < 0 else ""
    symbol = SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"


def parse_money(text: str, currency: str) -> int:
    """What a person types ("25", "25.00", "1,234.5") as minor units of `currency`;
    ValueError with a message for anything else (more decimals than the currency has, a
    negative or absurd amount)."""
    cleaned = (text or "").strip().replace(",", "").replace(" ", "")
    for symbol in (*SYMBOLS.values(), currency.upper()):
        cleaned = cleaned.removeprefix(symbol).removesuffix(symbol)
    exp = exponent(currency)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("Enter an amount, e.g. 25.00.") from None
    if not value.is_finite() or value.as_tuple().exponent < -exp:  # type: ignore[operator]
        raise ValueError(f"Use at most {exp} decimals for {currency.upper()}.")
    minor = int(value.scaleb(exp))
    if not 0 < minor <= MAX_AMOUNT:
        raise ValueError("Must be more than zero.") if minor <= 0 else \
            ValueError("That amount is too large.")
    return minor


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Split `amount` over `weights` in proportion, by largest remainder: each part is the
    floor of its exact share, and the units left over go one each to the parts with the
    largest remainders (the earliest first on a tie), so the parts sum to `amount` exactly.
    All-zero weights split as equal weights would."""
    if not weights:
        return []
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    total = sum(weights)
    parts = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    left = amount - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return parts
