"""Credit codes: unguessable, easy to read out and type, with a check character.

`RS-7KQ4-M2XD-9PTN`: the prefix, then 12 characters from an alphabet without 0/O and 1/I/L:
11 random ones drawn with `secrets` (31^11, about 54 bits) and a
check character. Input is case-insensitive and tolerates missing or extra dashes and spaces;
a typo in one character, or two neighbours swapped, fails the check, so it is caught before
the database is asked.
"""

from __future__ import annotations

import secrets

PREFIX = "RS"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # 31 symbols, a prime: see _check_char
RANDOM_LENGTH = 11
GROUP = 4
_VALUE = {char: index for index, char in enumerate(ALPHABET)}


class InvalidCode(ValueError):
    """Not a credit code: wrong characters, wrong length, or the check character is off."""


def _check_char(body: str) -> str:
    """A weighted sum modulo 31 (prime): every weight 1..11 is invertible, so any single
    changed character or swap of two adjacent ones changes the sum."""
    total = sum((position + 1) * _VALUE[char] for position, char in enumerate(body))
    return ALPHABET[total % len(ALPHABET)]


def _format(chars: str) -> str:
    groups = [chars[i:i + GROUP] for i in range(0, len(chars), GROUP)]
    return "-".join([PREFIX, *groups])


def new_code() -> str:
    """A fresh code, e.g. RS-7KQ4-M2XD-9PTN."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return _format(body + _check_char(body))


def parse_code(text: str) -> str:
    """What a person or a till typed ("rs 7kq4m2xd9ptn", "7KQ4-M2XD-9PTN") as the code's
    canonical form; InvalidCode when it cannot be one."""
    chars = "".join(ch for ch in str(text).upper() if ch not in " -_\t")
    length = RANDOM_LENGTH + 1
    if len(chars) == length + len(PREFIX) and chars.startswith(PREFIX):
        chars = chars[len(PREFIX):]  # the alphabet has R and S: the length tells a prefix
    if len(chars) != length or any(ch not in _VALUE for ch in chars):
        raise InvalidCode("Not a credit code: it looks like RS-7KQ4-M2XD-9PTN.")
    if _check_char(chars[:-1]) != chars[-1]:
        raise InvalidCode("Not a credit code: a character is mistyped.")
    return _format(chars)


def is_code(text: str) -> bool:
    try:
        parse_code(text)
    except InvalidCode:
        return False
    return True
