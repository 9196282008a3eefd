from datetime import date

import pytest

from assistant import years


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in 2024/25", ["2024/25"]),
        ("for 2024-25 and 2025/2026", ["2024/25", "2025/26"]),
        ("what about 24/25?", ["2024/25"]),
        ("FY25 rates", ["2024/25"]),
        ("1,234/56 is not a year", []),
        ("a 0.6/1.0 WTE split", []),
        ("2024/26 is not a financial year", []),
    ],
)
def test_find_all_reads_common_spellings(text, expected):
    assert years.find_all(text) == expected


def test_financial_year_of_a_date_turns_on_1_april():
    assert years.of_date(date(2025, 3, 31)) == "2024/25"
    assert years.of_date(date(2025, 4, 1)) == "2025/26"


def test_bounds_and_labels_round_trip():
    start, end = years.bounds("2026/27")
    assert (start, end) == (date(2026, 4, 1), date(2027, 3, 31))
    assert years.label(years.start_year_of("2019/20")) == "2019/20"
    with pytest.raises(ValueError):
        years.start_year_of("2019/21")
