"""posecoach._text: numbers with their nouns in messages and the report."""

from posecoach._text import count, percent


def test_count_uses_the_singular_for_one_only():
    assert [count(n, "contact") for n in (0, 1, 2)] == ["0 contacts", "1 contact", "2 contacts"]
    assert count(3, "person", "people") == "3 people" and count(1, "person", "people") == "1 person"


def test_percent_is_a_whole_percentage_with_a_space():
    assert [percent(x) for x in (0.0, 0.2, 0.125, 1.0)] == ["0 %", "20 %", "12 %", "100 %"]
