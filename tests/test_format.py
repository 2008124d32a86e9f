"""The one formatter of answers: years as the documents write them (no model, no index)."""

from __future__ import annotations

import pytest

from assistant.pipeline.compose.format import year_text


@pytest.mark.parametrize(
    ("year", "language", "expected"),
    [
        (2024, "ja", "令和6年（2024年）"),
        (2019, "ja", "令和元年（2019年）"),
        (2018, "ja", "平成30年（2018年）"),
        (1989, "ja", "平成元年（1989年）"),
        (1985, "ja", "1985年"),
        (2024, "en", "2024"),
    ],
)
def test_years_are_written_with_their_era_in_japanese(year, language, expected):
    assert year_text(year, language) == expected
