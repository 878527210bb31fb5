"""Wording shared by messages and the report."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """A number with its noun in the right form.

    >>> count(1, "contact"), count(3, "contact"), count(0, "step")
    ('1 contact', '3 contacts', '0 steps')
    """
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def percent(fraction: float) -> str:
    """A fraction as a whole percentage, with a space before ``%`` as the report writes units.

    >>> percent(0.2), percent(0.996)
    ('20 %', '100 %')
    """
    return f"{fraction * 100:.0f} %"
