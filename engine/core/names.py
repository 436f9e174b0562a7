"""The one rule for the names people give things: policies, data sets, runs, experiments and
their arms. Each becomes a folder name, a URL path segment or a key, so one rule fits them all
and a merchandiser reads it in the same words wherever a name is refused (`name_rule`)."""

from __future__ import annotations

import re

from engine.core.messages import Message

# a letter or digit of any script, then up to 63 of them, "_", "." or "-" (str.isalnum's letters)
NAME_PATTERN = r"^[^\W_][\w.-]{0,63}$"


def is_name(name: object) -> bool:
    """Whether `name` follows the rule (NAME_PATTERN)."""
    return isinstance(name, str) and re.fullmatch(NAME_PATTERN, name) is not None


def name_problem(name: object, kind: str) -> Message:
    """The refusal of `name` as the name of a `kind` ("policy", "dataset", "run", "experiment"
    or "arm"): the thing, the name given and the rule, e.g. "dataset name 'my shop': use
    1-64 letters (of any script), …"."""
    return Message("bad_name", what=Message(f"what_{kind}_name"), name=name,
                   rule=Message("name_rule"))


def clean_name(name: str) -> str:
    """`name` with what the rule does not take made takeable where that keeps it readable:
    characters other than letters, digits, '.', '_' and '-' become '-' (spaces, '/', '!'),
    and dots around it go; a name still too long or empty is left for `is_name` to refuse."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in name.strip()).strip(".")
