"""The colour rule: WCAG 2's contrast ratio against white button text, 4.5:1 at least."""

from __future__ import annotations

import pytest

from returns_service.branding.contrast import (
    ColourRefused,
    check_primary,
    contrast_ratio,
    parse_hex,
    ratio_text,
    relative_luminance,
)

WHITE, BLACK = (255, 255, 255), (0, 0, 0)


def test_luminance_of_black_white_and_the_primaries_follows_the_wcag_formula() -> None:
    assert relative_luminance(BLACK) == 0
    assert relative_luminance(WHITE) == pytest.approx(1)
    assert relative_luminance((255, 0, 0)) == pytest.approx(0.2126)
    assert relative_luminance((0, 255, 0)) == pytest.approx(0.7152)
    assert relative_luminance((0, 0, 255)) == pytest.approx(0.0722)
    # Below the sRGB knee (0.04045) a channel is linear: 10/255/12.92.
    assert relative_luminance((10, 10, 10)) == pytest.approx(10 / 255 / 12.92)


@pytest.mark.parametrize(("colour", "ratio"), [
    ("#000000", 21.0),       # the most there is
    ("#ffffff", 1.0),        # white on white
    ("#767676", 4.54),       # the lightest grey that passes, as the WCAG examples give it
    ("#777777", 4.47),       # one step lighter fails
    ("#0b5cad", 6.67),       # the default accent
    ("#ff0000", 3.99),       # pure red is too light for white text
])
def test_contrast_ratio_against_white(colour: str, ratio: float) -> None:
    assert contrast_ratio(parse_hex(colour), WHITE) == pytest.approx(ratio, abs=0.01)
    assert contrast_ratio(WHITE, parse_hex(colour)) == contrast_ratio(parse_hex(colour), WHITE)


def test_a_dark_enough_colour_is_accepted_and_normalised() -> None:
    assert check_primary("#0B5CAD") == "#0b5cad"
    assert check_primary(" 767676 ") == "#767676"
    assert check_primary("#000") == "#000000"


def test_a_too_light_colour_is_refused_with_its_ratio() -> None:
    with pytest.raises(ColourRefused) as refused:
        check_primary("#777777")
    assert "4.47:1" in str(refused.value) and "at least 4.5:1" in str(refused.value)
    with pytest.raises(ColourRefused, match=r"1\.00:1"):
        check_primary("#fff")


def test_the_ratio_is_rounded_down_so_a_refusal_never_reads_as_enough() -> None:
    assert ratio_text(4.4999) == "4.49:1"
    assert ratio_text(21.0) == "21.00:1"


@pytest.mark.parametrize("value", ["red", "#12345", "#gggggg", "", "rgb(0,0,0)",
                                   "#000000; background:url(x)"])
def test_anything_but_a_hex_colour_is_refused(value: str) -> None:
    with pytest.raises(ColourRefused, match="six hex digits"):
        check_primary(value)


def test_the_service_refuses_to_start_with_a_too_light_colour_setting(build_app) -> None:
    with pytest.raises(ValueError, match="BRAND_PRIMARY_COLOR"):
        build_app(BRAND_PRIMARY_COLOR="#ffff00")
