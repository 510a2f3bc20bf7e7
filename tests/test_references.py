"""Case references (SPEC §5.1): 8 digits, the last a Luhn check digit, typed any old way."""

from __future__ import annotations

import pytest

from bot.domain import references
from tests.support.oracles import luhn_valid

DEMO_REFERENCES = ("40217382", "12345674", "55501233", "90000001", "31415920", "27182815",
                   "76543214", "10293843", "60606068", "88012349")


@pytest.mark.parametrize(
    ("payload", "check"),
    [
        ("7992739871", "3"),  # the classic Wikipedia vector: 79927398713
        ("4021738", "2"),
        ("1234567", "4"),
        ("5550123", "3"),
        ("9000000", "1"),
        ("3141592", "0"),
        ("0000000", "0"),
        ("1", "8"),  # 18
        ("12345", "5"),  # 123455
        ("453914880343646", "7"),  # a well-known test card number, 4539 1488 0343 6467
        ("411111111111111", "1"),  # 4111 1111 1111 1111
    ],
)
def test_luhn_check_digit_known_vectors(payload: str, check: str) -> None:
    assert references.luhn_check_digit(payload) == check
    assert luhn_valid(payload + check)


@pytest.mark.parametrize("payload", ["0000001", "1111111", "2718281", "9999999", "1029384",
                                     "8801234", "6060606", "7654321"])
def test_luhn_check_digit_agrees_with_textbook_luhn(payload: str) -> None:
    check = references.luhn_check_digit(payload)
    assert luhn_valid(payload + check)
    assert all(not luhn_valid(payload + str(other)) for other in range(10) if str(other) != check)


@pytest.mark.parametrize("reference", DEMO_REFERENCES)
def test_demo_references_are_valid(reference: str) -> None:
    assert references.is_valid(reference)


@pytest.mark.parametrize(
    "reference",
    [
        "40217385",  # wrong check digit
        "40217383",
        "12345670",
        "4021738",  # 7 digits
        "402173822",  # 9 digits
        "",
        "4021 7382",  # separators are removed by clean(), not accepted by is_valid()
        "4021-7382",
        "#40217382",
        "4021738a",
        "abcdefgh",
        "٤٠٢١٧٣٨٢",  # Arabic-Indic digits: valid only once normalised
        "۴۰۲۱۷۳۸۲",  # Eastern Arabic-Indic (Persian) digits
        "４０２１７３８２",  # full-width digits are digits to str.isdigit() but not ASCII
        "4021738²",  # superscript two: isdigit() is True for it
    ],
)
def test_is_valid_rejects(reference: str) -> None:
    assert not references.is_valid(reference)


@pytest.mark.parametrize(("raw", "ascii_digits"), [("٤٠٢١٧٣٨٢", "40217382"),
                                                   ("۴۰۲۱۷۳۸۲", "40217382"),
                                                   ("ref ٩٠٠٠٠٠٠١", "ref 90000001")])
def test_arabic_indic_digits_are_valid_once_normalised(raw: str, ascii_digits: str) -> None:
    assert references.normalise_digits(raw) == ascii_digits
    assert references.is_valid(references.clean(raw.removeprefix("ref ")))


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("4021 7382", "40217382"),
        ("4021-7382", "40217382"),
        ("#40217382", "40217382"),
        ("# 4021.7382", "40217382"),
        (" 4021 - 7382 ", "40217382"),
        ("٤٠٢١ ٧٣٨٢", "40217382"),
    ],
)
def test_clean(raw: str, cleaned: str) -> None:
    assert references.clean(raw) == cleaned
    assert references.is_valid(references.clean(raw))


@pytest.mark.parametrize(
    ("text", "candidate"),
    [
        ("4021 7382", "40217382"),
        ("4021-7382", "40217382"),
        ("#40217382", "40217382"),
        ("# 4021.7382", "40217382"),
        ("ref ٤٠٢١٧٣٨٢", "40217382"),
        ("my reference is 1234-5674 thanks", "12345674"),
        ("Mi número es 5550 1233.", "55501233"),
        ("رقم الملف ٩٠٠٠٠٠٠١", "90000001"),
        ("case #4021 7385 please", "40217385"),  # mistyped: still found, to say so
        ("4021738", "4021738"),  # a 7-digit typo is still what they meant
        ("ref 402173", "402173"),
    ],
)
def test_find_candidate(text: str, candidate: str) -> None:
    assert references.find_candidate(text) == candidate


@pytest.mark.parametrize(
    "text",
    ["", "hello, where is my application?", "my case number", "call 555", "12345",
     "ref #", "مرحبا"],
)
def test_find_candidate_without_a_number(text: str) -> None:
    assert references.find_candidate(text) is None


@pytest.mark.parametrize(("text", "valid"), [("4021 7382", True), ("4021 7385", False),
                                             ("4021738", False), ("# 1234.5674", True)])
def test_candidate_then_validity(text: str, valid: bool) -> None:
    candidate = references.find_candidate(text)
    assert candidate is not None
    assert references.is_valid(candidate) is valid


def test_generate_produces_valid_unique_references() -> None:
    generated = [references.generate() for _ in range(2000)]
    assert all(references.is_valid(ref) for ref in generated)
    assert all(not ref.startswith("0") for ref in generated)
    assert all(luhn_valid(ref) for ref in generated)
    # 2000 draws from ~9 million: a collision is a (~20 %) possibility, many would be a bug.
    assert len(set(generated)) >= 1995


def test_generate_respects_exists() -> None:
    taken: set[str] = set()
    asked: list[str] = []

    def exists(reference: str) -> bool:
        asked.append(reference)
        # Claim the first five proposals are taken: generate must keep trying.
        if len(asked) <= 5:
            taken.add(reference)
            return True
        return reference in taken

    reference = references.generate(exists)
    assert len(asked) == 6
    assert reference == asked[-1]
    assert reference not in taken
    assert references.is_valid(reference)


def test_generate_never_returns_an_existing_reference() -> None:
    existing: set[str] = set()
    for _ in range(300):
        reference = references.generate(lambda ref: ref in existing)
        assert reference not in existing
        existing.add(reference)
    assert len(existing) == 300


@pytest.mark.parametrize(("reference", "spoken"), [("40217382", "4021 7382"),
                                                   ("12345674", "1234 5674"),
                                                   ("90000001", "9000 0001")])
def test_spoken(reference: str, spoken: str) -> None:
    assert references.spoken(reference) == spoken
    assert references.clean(references.spoken(reference)) == reference
