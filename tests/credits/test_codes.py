"""Credit codes: the format customers see, what typing they forgive, what the check catches."""

from __future__ import annotations

import math
import re

import pytest

from returns_service.credits.codes import (
    ALPHABET,
    RANDOM_LENGTH,
    InvalidCode,
    is_code,
    new_code,
    parse_code,
)

FORMAT = re.compile(r"^RS-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")


def test_codes_are_grouped_typable_and_never_repeat() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert FORMAT.match(code), code
        assert not set(code[3:].replace("-", "")) & set("01OIL")
        assert parse_code(code) == code


def test_the_random_part_carries_at_least_50_bits() -> None:
    assert not set(ALPHABET) & set("01OIL") and len(set(ALPHABET)) == len(ALPHABET) == 31
    assert RANDOM_LENGTH * math.log2(len(ALPHABET)) >= 50


@pytest.mark.parametrize("typed", ["rs-7kq4-m2xd-9ptn", "RS7KQ4M2XD9PTN", " rs 7KQ4 m2xd 9ptn ",
                                   "7KQ4-M2XD-9PTN", "7kq4m2xd9ptn", "RS--7KQ4_M2XD-9PTN"])
def test_case_dashes_spaces_and_a_missing_prefix_are_forgiven(typed: str) -> None:
    assert parse_code(typed) == "RS-7KQ4-M2XD-9PTN"


@pytest.mark.parametrize("typed", ["", "RS-", "RS-7KQ4-M2XD-9PT", "RS-7KQ4-M2XD-9PTNN",
                                   "RS-7KQ4-M2XD-9PT0", "RS-7KQ4-M2XD-9PTI",
                                   "XX-7KQ4-M2XD-9PTN", "R-7KQ4-M2XD-9PTN", "☃" * 12])
def test_what_cannot_be_a_code_is_refused(typed: str) -> None:
    with pytest.raises(InvalidCode):
        parse_code(typed)
    assert not is_code(typed)


def test_one_mistyped_character_or_two_swapped_neighbours_fail_the_check() -> None:
    body = "7KQ4M2XD9PTN"
    for position in range(len(body)):
        for char in ALPHABET:
            if char != body[position]:
                typo = body[:position] + char + body[position + 1:]
                assert not is_code(typo), typo
    for position in range(len(body) - 1):
        a, b = body[position], body[position + 1]
        if a != b:
            swapped = body[:position] + b + a + body[position + 2:]
            assert not is_code(swapped), swapped
