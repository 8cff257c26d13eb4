"""Metric names: the known ones (from a list the lead keeps) and the ones a text uses.

Shared by check_rules.py and check_dashboard.py. Only the Python standard library.
"""

import re

# vigil_* and process_* names; a histogram's series are reduced to its base name.
_NAME = re.compile(r"\b(?:vigil|process)_[a-z_]+")
_HISTOGRAM_SUFFIX = re.compile(r"_(?:bucket|sum|count)$")


def names_in(text):
    """Every vigil_*/process_* metric name in text, histogram suffixes stripped."""
    return {_HISTOGRAM_SUFFIX.sub("", name) for name in _NAME.findall(text)}


def known_names(path):
    """The metric names listed in path: a plain list or a Markdown page (any text in
    which the names appear); returns the set, or raises if the file names none."""
    with open(path, encoding="utf-8") as f:
        names = names_in(f.read())
    if not names:
        raise ValueError(f"{path}: no vigil_* or process_* metric names in it")
    return names


def unknown_names(text, known):
    """Names that text uses but known does not list, sorted."""
    return sorted(names_in(text) - known)
