"""The learnt half of distress detection (SPEC §5.6): a character n-gram linear classifier.

``bot.domain.distress`` asks this model about every message its word lists do not catch. The model
is
trained in-process, at first use, from text files only (no pickled artefact):

- positives: ``bot/domain/data/distress/train*.yml``, everyday and dialect wordings per
  language (en, es, fr, ar including Moroccan Darija in Arabic script and in Latin letters,
  Egyptian, Levantine) and kind;
- negatives: the near misses and ordinary messages in the same files, plus every example of the
  ordinary NLU data (``data/nlu/*.yml``): what people say to the assistant when nothing is wrong.

Character n-grams within words cope with typos, missing accents, Arabic clitics and Darija's
digits-for-letters ("ma3ndi", "n9tel"); word uni- and bigrams add the phrase context
("nowhere to sleep" versus "nowhere to park"); concepts (``bot.domain.distress_concepts``) add
what the words mean, so that a blow, a child or an empty fridge is known in words no training
sentence used. Training is deterministic (files read in a fixed order, features sorted, so hash
seeds do not matter; liblinear with a fixed seed) and takes about a second of CPU.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.config import PROJECT_ROOT
from bot.language.normal_form import normalise

DATA_DIR = Path(__file__).resolve().parent / "data" / "distress"
NLU_DIR = PROJECT_ROOT / "data" / "nlu"
LANGUAGES = ("en", "es", "fr", "ar")
KINDS = ("self_harm", "violence", "child_abuse", "housing", "hunger", "emergency")
NONE = "none"
# P(distress) at or above the threshold of the message's script is distress. The thresholds are
# chosen by cross-validation on the NLU examples (``python -m scripts.distress_report
# --choose-thresholds``, folds other than the report's): the lowest at which no language has
# more than 0.8 % of its held-out NLU examples taken for distress (the target is 1 %). Arabic
# script has its own (its scores run lower); Latin script (en, es, fr and Darija in Latin
# letters) shares one, so that no language guess is needed. C and CONCEPT_WEIGHT were chosen
# on the training data's own cross-validated recall at that false-alarm rate (C 10-300, concept
# weight 0-0.7).
THRESHOLDS = {"arabic": 0.33, "latin": 0.6}
C = 100.0  # weak regularisation: few positives, each phrase matters
CLASS_WEIGHT: dict[bool, float] | str = "balanced"  # ~1,200 positives against ~5,700 ordinary
CONCEPT_WEIGHT = 0.2  # each concept (and pair) found, beside the L2-normalised n-grams
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10x faster
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    label: str  # a kind from KINDS, or NONE


def load_examples(path: Path) -> list[Example]:
    """Positives and negatives of a ``train.yml``/``heldout.yml`` file, in file order."""
    document = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER) or {}
    examples = []
    for language, kinds in (document.get("positives") or {}).items():
        for kind, texts in kinds.items():
            if kind not in KINDS:
                raise ValueError(f"{path.name}: unknown kind {kind!r} ({language})")
            examples += [Example(str(text), language, kind) for text in texts]
    for language, texts in (document.get("negatives") or {}).items():
        examples += [Example(str(text), language, NONE) for text in texts]
    return examples


def nlu_examples(nlu_dir: Path = NLU_DIR) -> list[Example]:
    """Every example of the ordinary NLU data, as plain text (entity annotations removed)."""
    examples = []
    for path in sorted(nlu_dir.glob("*.yml")):
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=LOADER) or {}
        for block in document.get("nlu") or []:
            for line in str(block.get("examples", "")).splitlines():
                text = _ANNOTATION.sub(r"\1", line.strip().removeprefix("- ").strip())
                if text:
                    examples.append(Example(text, path.stem, NONE))
    return examples


def features(text: str) -> dict[str, float]:
    """A message's features: :func:`ngrams` and, at :data:`CONCEPT_WEIGHT` each, its concepts
    and pairs of concepts (``bot.domain.distress_concepts``); sorted, so that sums and the
    vocabulary's order do not depend on Python's string hashing."""
    from bot.domain import distress_concepts

    grams = ngrams(normalise(text))
    found = distress_concepts.load().find(normalise(text, apostrophe=" ").split())
    grams.update((name, CONCEPT_WEIGHT) for name in distress_concepts.features(found))
    return dict(sorted(grams.items()))


def ngrams(plain: str) -> dict[str, float]:
    """Character n-grams (2-5, within words padded by spaces) and word uni- and bigrams of a
    normalised message, each counted once, L2-normalised."""
    grams: set[str] = set()
    tokens = plain.split()
    for token in tokens:
        padded = f" {token} "
        for size in range(2, 6):
            grams.update(padded[i:i + size] for i in range(len(padded) - size + 1))
    grams.update(f"w:{token}" for token in tokens)
    grams.update(f"w:{a}_{b}" for a, b in itertools.pairwise(tokens))
    if not grams:
        return {}
    weight = 1.0 / math.sqrt(len(grams))
    return dict.fromkeys(grams, weight)


def _matrix(rows: list[dict[str, float]]) -> tuple[Any, list[str]]:
    """A sparse matrix of the rows and its column names (first-seen order: deterministic)."""
    from scipy.sparse import csr_matrix

    vocabulary: dict[str, int] = {}
    indices: list[int] = []
    values: list[float] = []
    indptr = [0]
    for row in rows:
        for gram, value in row.items():
            indices.append(vocabulary.setdefault(gram, len(vocabulary)))
            values.append(value)
        indptr.append(len(indices))
    matrix = csr_matrix((values, indices, indptr), shape=(len(rows), len(vocabulary)))
    return matrix, list(vocabulary)


class DistressModel:
    """Two linear models over :func:`features`: distress or not (trained on everything), and
    which kind (trained on the positives). Fitted with scikit-learn's liblinear, then kept as
    plain weight dictionaries, so that scoring a message is a few hundred look-ups."""

    def __init__(self, examples: list[Example]) -> None:
        from sklearn.linear_model import LogisticRegression

        matrix, names = _matrix([features(e.text) for e in examples])
        distress = [e.label != NONE for e in examples]
        binary = LogisticRegression(C=C, class_weight=CLASS_WEIGHT, solver="liblinear",
                                    random_state=0).fit(matrix, distress)
        self._weights = {name: float(w) for name, w in zip(names, binary.coef_[0], strict=True)
                         if w}
        self._bias = float(binary.intercept_[0])
        positive = [i for i, is_distress in enumerate(distress) if is_distress]
        kinds = LogisticRegression(C=C, solver="liblinear", random_state=0).fit(
            matrix[positive], [examples[i].label for i in positive])
        self._kind_weights = {
            kind: {name: float(w) for name, w in zip(names, row, strict=True) if w}
            for kind, row in zip(kinds.classes_, kinds.coef_, strict=True)}
        self._kind_bias = {kind: float(b)
                           for kind, b in zip(kinds.classes_, kinds.intercept_, strict=True)}

    @staticmethod
    def features(text: str) -> dict[str, float]:
        return features(text)

    def score_features(self, grams: dict[str, float]) -> float:
        """Probability that a message with these features speaks of distress (0..1)."""
        if not grams:
            return 0.0
        z = self._bias + sum(self._weights.get(g, 0.0) * v for g, v in grams.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def kind_features(self, grams: dict[str, float]) -> str:
        """The most likely kind of distress, for a message taken as distress."""
        return max(sorted(self._kind_weights), key=lambda kind: self._kind_bias[kind] + sum(
            self._kind_weights[kind].get(g, 0.0) * v for g, v in grams.items()))

    @staticmethod
    def threshold(text: str) -> float:
        """The bar for a message: its script's (:func:`script`)."""
        return THRESHOLDS[script(text)]

    def score(self, text: str) -> float:
        return self.score_features(features(text))

    def kind(self, text: str) -> str:
        return self.kind_features(features(text))

    def predict(self, text: str) -> str | None:
        """The kind of distress the model alone sees, or None when the message reads as
        ordinary."""
        grams = features(text)
        if self.score_features(grams) >= self.threshold(text):
            return self.kind_features(grams)
        return None


def script(text: str) -> str:
    """"arabic" when a message has Arabic letters, else "latin" (the keys of THRESHOLDS)."""
    return "arabic" if _ARABIC_SCRIPT.search(text) else "latin"


def training_files() -> list[Path]:
    """``train.yml`` and the later ``train_*.yml`` files, in name order."""
    return sorted(DATA_DIR.glob("train*.yml"))


def written_examples() -> list[Example]:
    """The training examples written for the detector (not the NLU data)."""
    return [e for path in training_files() for e in load_examples(path)]


def training_examples() -> list[Example]:
    return written_examples() + nlu_examples()


@lru_cache(maxsize=1)
def model() -> DistressModel:
    """The model, trained once per process on first use."""
    return DistressModel(training_examples())
