"""Phone numbers: E.164 normalisation, masking for logs, and telling a phone from an address."""

from __future__ import annotations

import pytest

from bot.config import get_settings
from bot.domain.phones import looks_like_phone, mask, to_e164


@pytest.fixture(autouse=True)
def us_default_region(monkeypatch: pytest.MonkeyPatch):
    """Pin the default region (CIVICLINE_DEFAULT_REGION) so national numbers read the same."""
    monkeypatch.setenv("CIVICLINE_DEFAULT_REGION", "US")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+1 555 010 0001", "+15550100001"),
        ("+15550100001", "+15550100001"),
        ("  +1 (555) 010-0001 ", "+15550100001"),
        ("0034 612 345 678", "+34612345678"),
        ("+34 612 34 56 78", "+34612345678"),
        ("0033 6 12 34 56 78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+212 612-345678", "+212612345678"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_to_e164_international(raw: str, e164: str) -> None:
    assert to_e164(raw) == e164
    # A number with its country code ignores the region.
    assert to_e164(raw, "FR") == e164


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("(555) 010-0001", None, "+15550100001"),  # default region: US
        ("555-010-0001", None, "+15550100001"),
        ("555 010 0001", "US", "+15550100001"),
        ("612 345 678", "ES", "+34612345678"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("0612345678", "FR", "+33612345678"),
        ("0612-345678", "MA", "+212612345678"),
    ],
)
def test_to_e164_national_numbers_use_the_region(raw: str, region: str | None, e164: str) -> None:
    assert to_e164(raw, region) == e164


def test_default_region_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLINE_DEFAULT_REGION", "ES")
    get_settings.cache_clear()
    assert to_e164("612 345 678") == "+34612345678"


@pytest.mark.parametrize(
    "raw",
    [None, "", "   ", "hello", "call me", "12", "+1 5", "++++", "+", "00", "4021 7382 x",
     "+999 123 456", "not a number 555"],
)
def test_to_e164_junk_is_none(raw: str | None) -> None:
    assert to_e164(raw) is None


@pytest.mark.parametrize(
    "phone",
    ["+15550100001", "+34612345678", "+33612345678", "+212612345678", "+442079460958",
     "+15550100100"],
)
def test_mask_reveals_only_the_last_three_digits(phone: str) -> None:
    masked = mask(phone)
    assert len(masked) == len(phone)
    assert masked.startswith(phone[:2])  # "+" and the first digit of the country code
    assert masked.endswith(phone[-3:])
    middle = masked[2:-3]
    assert middle and set(middle) == {"•"}
    assert [ch for ch in masked[2:] if ch.isdigit()] == list(phone[-3:])
    assert phone[2:-3] not in masked


@pytest.mark.parametrize("value", ["+123", "+1234", "12345", "tg:1", "5550"])
def test_mask_of_short_values_reveals_nothing_extra(value: str) -> None:
    masked = mask(value)
    assert len(masked) == len(value)
    assert masked != value
    assert sum(ch.isdigit() for ch in masked) <= 3


@pytest.mark.parametrize("empty", [None, ""])
def test_mask_of_nothing(empty: str | None) -> None:
    assert mask(empty) == "-"


@pytest.mark.parametrize(
    "text",
    ["+15550100001", "+1 555 010 0001", "(555) 010-0001", "555-010-0001", "0034 612 345 678",
     "+212 612 345 678", " +33 6 12 34 56 78 "],
)
def test_looks_like_phone(text: str) -> None:
    assert looks_like_phone(text)


@pytest.mark.parametrize(
    "text",
    [
        "12 Main Street",
        "45 Oak Road",
        "1 Main Square, apt 5550100",  # an address with a long number in it
        "5550100 River Street",
        "Calle Mayor 5550100",
        "شارع 5550100",
        "call me on +15550100001",  # contains a phone, but is not only one
        "12345",
        "4021",
        "2026-12-25",
        "hello",
        "",
    ],
)
def test_looks_like_phone_is_false(text: str) -> None:
    assert not looks_like_phone(text)
