"""The city's own catalogue file (issue 14 §3): `python -m bot catalogue load|export`, its
schema (docs/catalogue.md) and errors that name the line and the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.domain import catalogue_schema
from bot.domain.catalogue_schema import CatalogueError
from bot.store.seed import DEMO_DATA_PATH
from tests.support.environment import ROOT, base_env

EXAMPLE = ROOT / "docs" / "catalogue.example.yml"


def bot(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=base_env(url),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def empty_database(tmp_path: Path) -> str:
    """A migrated database with no catalogue at all (what production starts from)."""
    url = f"sqlite:///{tmp_path / 'city.db'}"
    assert bot(url, "setup").returncode == 0
    return url


@pytest.mark.slow  # processes
def test_load_then_export_gives_the_file_back(empty_database: str, tmp_path: Path) -> None:
    loaded = bot(empty_database, "catalogue", "load", str(EXAMPLE))
    assert loaded.returncode == 0, loaded.stderr
    assert "services +2" in loaded.stdout and "offices +1" in loaded.stdout
    exported = bot(empty_database, "catalogue", "export")
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == EXAMPLE.read_text(encoding="utf-8")  # identical, line for line

    again = bot(empty_database, "catalogue", "load", str(EXAMPLE))  # a second load: no change
    assert "services +0 ~0, offices +0 ~0" in again.stdout, again.stdout
    written = tmp_path / "out.yml"
    assert bot(empty_database, "catalogue", "export", str(written)).returncode == 0
    assert written.read_bytes() == EXAMPLE.read_bytes()


@pytest.mark.slow  # processes
def test_a_changed_file_changes_what_it_names_and_keeps_the_rest(empty_database: str,
                                                                 tmp_path: Path) -> None:
    assert bot(empty_database, "catalogue", "load", str(EXAMPLE)).returncode == 0
    changed = EXAMPLE.read_text(encoding="utf-8").replace("2 Harbour Road", "4 Harbour Road")
    changed = changed.replace("  desks: 3\n", "  desks: 5\n")
    path = tmp_path / "city.yml"
    path.write_text(changed, encoding="utf-8")
    done = bot(empty_database, "catalogue", "load", str(path))
    assert "offices +0 ~1" in done.stdout, done.stdout
    assert bot(empty_database, "catalogue", "export").stdout == changed


@pytest.mark.slow  # processes
def test_the_demo_catalogue_round_trips_too(empty_database: str) -> None:
    """The Riverton demo is a catalogue file like any city's (plus its cases)."""
    assert bot(empty_database, "seed").returncode == 0
    exported = bot(empty_database, "catalogue", "export").stdout
    demo = catalogue_schema.parse_yaml(DEMO_DATA_PATH.read_text(encoding="utf-8"), "demo.yml",
                                       extra_sections=("cases",))
    assert catalogue_schema.parse_yaml(exported, "export") == demo


@pytest.mark.slow  # processes
def test_an_invalid_file_changes_nothing_and_names_line_and_field(empty_database: str,
                                                                  tmp_path: Path) -> None:
    bad = tmp_path / "city.yml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("'4':", "'7':"), "utf-8")
    done = bot(empty_database, "catalogue", "load", str(bad))
    assert done.returncode == 2
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if "'7':" in text)
    assert f'{bad}:{line}: offices[0].hours."7": not a weekday' in done.stderr, done.stderr
    assert "nothing was changed" in done.stderr
    assert bot(empty_database, "catalogue", "export").stdout.count("slug:") == 0


# (what is replaced, by what, where the error is, what it says)
MISTAKES = [
    ("- slug: waste", "- slug: Waste Collection", "services[0].slug", "must be a slug"),
    ("    ar: جمع النفايات\n", "", "services[0].names", "missing language(s): ar"),
    ("    en: Waste collection", "    de: Müllabfuhr", "services[0].names.de",
     "not a supported language"),
    ("  status: disrupted", "  status: broken", "services[1].status", "must be one of"),
    ("    en: [library, card]", "    en: [Library, card]", "services[1].keywords.en[0]",
     "lower case"),
    ("- slug: library_cards", "- slug: waste", "services[1].slug", "waste is used twice"),
    ("  address: 2 Harbour Road\n", "", "offices[0]", "'address' is missing"),
    ("  phone: '+15550107000'", "  phone: 5550107000", "offices[0].phone", "E.164"),
    ("    - ['09:00', '15:00']", "    - ['09:00', '25:00']", 'offices[0].hours."4"[0]',
     "two quoted times"),
    ("    - ['09:00', '15:00']", "    - ['15:00', '09:00']", 'offices[0].hours."4"[0]',
     "opens (15:00) after it closes (09:00)"),
    ("  desks: 3", "  desks: 0", "offices[0].desks", "from 1 to 100"),
    ("  services: [library_cards, waste]", "  services: [library_cards, parking]",
     "offices[0].services[1]", "unknown service 'parking'"),
    ("  - day: '2027-01-01'", "  - day: '2027-02-30'", "offices[0].holidays[0].day",
     "a date like"),
    ("  kind: access", "  kind: cafe", "digital_places[0].kind", "access"),
    ("  address: 5 Quay Street", "  adress: 5 Quay Street", "digital_places[0].adress",
     "unknown field"),
    ("digital_guides:", "digital_guide:", "digital_guide", "unknown section"),
    ("  - ['09:00', '17:00']\n    '1':", "  - ['09:00', '17:00'\n    '1':", "the file",
     "not valid YAML"),
]


@pytest.mark.parametrize(("old", "new", "field", "says"), MISTAKES,
                         ids=[m[2] + ":" + m[3][:20] for m in MISTAKES])
def test_each_kind_of_mistake_names_its_line_and_field(old: str, new: str, field: str,
                                                       says: str) -> None:
    good = EXAMPLE.read_text(encoding="utf-8")
    assert old in good, old
    text = good.replace(old, new, 1)
    with pytest.raises(CatalogueError) as raised:
        catalogue_schema.parse_yaml(text, "city.yml")
    described = raised.value.describe()
    matching = [d for d in described if f": {field}: " in d and says in d]
    assert matching, described
    line = int(matching[0].split(":")[1])
    # The line named is the mistake's own line; a removed field's entry starts above it.
    mistake = good[:good.index(old)].count("\n") + 1
    if says == "not valid YAML":  # the parser notices on the line after the missing "]"
        assert line in (mistake, mistake + 1), matching
    elif new.strip():
        assert line == mistake, matching
    else:
        assert line < mistake, matching


def test_the_example_file_is_valid_and_canonical() -> None:
    document = catalogue_schema.parse_yaml(EXAMPLE.read_text(encoding="utf-8"), "example")
    assert [s["slug"] for s in document["services"]] == ["waste", "library_cards"]
    office = document["offices"][0]
    assert office["hours"]["5"] == [] and office["desks"] == 3
