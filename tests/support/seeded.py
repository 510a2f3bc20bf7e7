"""Facts of the demo data every test database is seeded with (bot/store/seed.py), which tests
rely on."""

from __future__ import annotations

OWNER_PHONE = "+15550100001"  # owns 40217382: in_review, housing_support, born 1985-03-12
STRANGER = "+15559990000"  # nobody in the demo data
UNKNOWN_REFERENCE = "11111119"  # well formed, no such case
