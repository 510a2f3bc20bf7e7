"""SMS encoding and segment counts (SPEC §1.4): the exact GSM 03.38 and UCS-2 rules."""

from __future__ import annotations

import pytest

from bot.messaging.sms.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_SEGMENTS,
    encoding,
    segments,
    septets,
    units,
)

ARABIC = "ع"  # one BMP character, one UTF-16 unit
EMOJI = "😀"  # outside the BMP: a surrogate pair, two UTF-16 units


def test_tables_are_complete() -> None:
    # 128 code points in the default alphabet, one of them the escape to the extension table.
    assert len(GSM7_BASIC) == 127
    assert frozenset("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert "\x1b" not in GSM7_BASIC
    assert set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") <= GSM7_BASIC
    assert set(" \n\r@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà") <= GSM7_BASIC


def test_max_segments() -> None:
    assert MAX_SEGMENTS == 3


def test_empty_text_is_no_segment() -> None:
    assert segments("") == 0


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (160, 1), (161, 2), (153 * 2, 2), (153 * 2 + 1, 3), (153 * 3, 3), (153 * 3 + 1, 4)],
)
def test_gsm7_segments(length: int, expected: int) -> None:
    text = "a" * length
    assert encoding(text) == "GSM-7"
    assert segments(text) == expected


def test_extension_characters_count_two_septets() -> None:
    assert septets("€") == 2
    assert septets("a[b]c{d}e^f~g\\h|i") == 9 + 2 * 8
    assert encoding("Price: 5€ [approx] {x} ^ ~ \\ |") == "GSM-7"
    assert segments("€" * 80) == 1  # 160 septets
    assert segments("€" * 80 + "a") == 2  # 161 septets


def test_extension_character_is_not_split_across_segments() -> None:
    # 459 septets would be 3 segments of 153, but the escape pair cannot straddle septets 153 and
    # 154: the first segment stops at 152, and the text spills into a fourth.
    split = "a" * 152 + "€" + "a" * 305
    assert septets(split) == 153 * 3
    assert segments(split) == 4
    aligned = "a" * 151 + "€" + "a" * 151 + "€" + "a" * 149  # 153 | 153 | 149
    assert segments(aligned) == 3


@pytest.mark.parametrize("text", ["ñ", "é", "Ñ", "ü", "Ü", "¿", "¡", "É", "è", "à", "ù", "Ç"])
def test_spanish_and_french_letters_in_gsm7(text: str) -> None:
    assert encoding(f"Año {text}") == "GSM-7"


@pytest.mark.parametrize("text", ["á", "í", "ó", "ú", "â", "ê", "î", "ô", "û", "ç", "œ", "’", "–"])
def test_other_accents_force_ucs2(text: str) -> None:
    assert encoding(f"Hello {text}") == "UCS-2"
    with pytest.raises(ValueError):
        septets(text)


def test_ucs2_takes_the_whole_message() -> None:
    text = "a" * 100 + "á"
    assert encoding(text) == "UCS-2"
    assert units(text) == 101
    assert segments(text) == 2  # would be 1 segment in GSM-7


def test_arabic_ucs2_boundaries() -> None:
    assert encoding(ARABIC) == "UCS-2"
    assert segments(ARABIC * 70) == 1
    assert segments(ARABIC * 71) == 2
    assert segments(ARABIC * 134) == 2
    assert segments(ARABIC * 135) == 3
    assert segments(ARABIC * 201) == 3
    assert segments(ARABIC * 202) == 4


def test_emoji_counts_two_utf16_units() -> None:
    assert units(EMOJI) == 2
    assert encoding(EMOJI) == "UCS-2"
    assert segments(EMOJI * 35) == 1  # 70 units
    assert segments(EMOJI * 35 + "a") == 2  # 71 units


def test_surrogate_pair_is_not_split_across_segments() -> None:
    # 201 units would be 3 segments of 67, but the pair cannot straddle units 67 and 68.
    split = "a" * 66 + EMOJI + "a" * 133
    assert units(split) == 67 * 3
    assert segments(split) == 4
    aligned = "a" * 65 + EMOJI + "a" * 65 + EMOJI + "a" * 63  # 67 | 67 | 63
    assert segments(aligned) == 3
