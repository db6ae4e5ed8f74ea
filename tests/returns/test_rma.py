"""RMA codes as people and scanners type them: the same return whatever the case or dash."""

import pytest

from returns_service.returns.rma import ALPHABET, CODE_LENGTH, new_rma, normalise_rma


@pytest.mark.parametrize("typed", [
    "R-RABCD2", "r-rabcd2", " rrabcd2 ", "RABCD2", "rabcd2", "R RABCD2", "r_rabcd2"])
def test_a_code_that_starts_with_r_survives_every_way_of_typing_it(typed):
    assert normalise_rma(typed) == "R-RABCD2"


@pytest.mark.parametrize("typed", ["R-23ABCD", "r23abcd", "23abcd", " 23-ab cd "])
def test_a_code_is_found_with_or_without_prefix_case_and_spaces(typed):
    assert normalise_rma(typed) == "R-23ABCD"


def test_every_code_drawn_reads_back_from_its_bare_lowercase_form():
    for first in ALPHABET:  # including R, which once was taken for the prefix
        rma = "R-" + first + new_rma()[2:2 + CODE_LENGTH - 1]
        assert normalise_rma(rma.lower()[2:]) == rma
        assert normalise_rma(rma.replace("-", "")) == rma
