"""pydantic's validation errors as one line of `Message`s: the field path (each field named
through its code) and what is wrong (the Message a validator raised, or pydantic's own words
under their code), so the CLI and the API print pydantic's English and the studio its own
language."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from engine.core.messages import TEMPLATES, Listing, Message


def readable(exc: ValidationError | Sequence[Mapping[str, Any]], tags: Collection[str] = (),
             whole: str | None = None) -> str:
    """'stages.2.strength: Input should be less than or equal to 1' from pydantic's errors,
    or from their list as FastAPI hands it over (a validator's own Message without the list
    positions: 'the lowest price 100 is above the highest price 10', not 'stages.0: …';
    `tags`: the union members' names, left out of the path; `whole`: the name of an error
    about the whole object, else its problem stands alone); more than five end with
    '(and N more)'."""
    parts = []
    for error in exc.errors() if isinstance(exc, ValidationError) else exc:
        own = _own(error)
        where = _where(error, tags, own) or (None if own else whole)
        parts.append(Message("field_problem", where=where, problem=_problem(error))
                     if where else _problem(error))
    shown = Listing(parts[:5], "; ")
    return Message("and_more", problems=shown, n=len(parts) - 5) if len(parts) > 5 else shown


def _own(error: Any) -> bool:
    """Whether a validator raised the error with its own `Message` (no path needed)."""
    cause = (error.get("ctx") or {}).get("error")
    return isinstance(cause, ValueError) and bool(cause.args) and \
        isinstance(cause.args[0], Message)


def _where(error: Any, tags: Collection[str], own: bool = False) -> str | None:
    """'stages.2.strength', each field name a `Message` (positions as they are); for a
    check's own sentence (`own`) only the fields after the last position: the sentence names
    the row ('stages.0', 'targets.0' are no words of the form)."""
    path = [part for part in error.get("loc", ()) if not (isinstance(part, str)
                                                          and part in tags)]
    if own:
        last = max((i for i, part in enumerate(path) if isinstance(part, int)), default=-1)
        path = path[last + 1:]
    if not path:
        return None
    return Listing([Message(f"field_{part}") if f"field_{part}" in TEMPLATES else str(part)
                    for part in path], ".")


def _problem(error: Any) -> str:
    """One error's wording: the Message a validator raised, pydantic's own words under
    their code when the code words them the same, else pydantic's text."""
    context = error.get("ctx") or {}
    cause = context.get("error")
    if isinstance(cause, ValueError) and cause.args and isinstance(cause.args[0], Message):
        return cause.args[0]
    text = error.get("msg", "invalid value").removeprefix("Value error, ")
    code = f"pydantic_{error.get('type')}"
    if code not in TEMPLATES:
        return text
    values = {k: _worded(k, v) for k, v in context.items() if isinstance(v, str | int | float)}
    try:
        said = Message(code, **values)
    except (KeyError, IndexError, ValueError):
        return text
    return said if said == text else text


QUOTED = re.compile(r"'([^'\\]*)'")


def _worded(name: str, value: object) -> object:
    """A context value in codes where pydantic's words are inside it: the choices of a
    literal or enum ("'a', 'b' or 'c'"), a discriminator naming a field, the expected tags
    (stage kinds); anything else as it is. Each says exactly pydantic's text in English."""
    if not isinstance(value, str):
        return value
    if name == "discriminator":
        return _quoted(value, "field_")
    if name == "expected_tags":
        tags = [_quoted(f"'{tag}'", "kind_") for tag in QUOTED.findall(value)]
        listed = Listing(tags, ", ")
        return listed if listed == value else value
    if name == "expected":
        options = [f"'{option}'" for option in QUOTED.findall(value)]
        if len(options) < 2:
            return value
        said = Message("pydantic_choices", first=Listing(options[:-1], ", "), last=options[-1])
        return said if said == value else value
    return value


def _quoted(text: str, prefix: str) -> str:
    """"'kind'" as a quoted Message of the field's (or stage kind's) code, when it has one."""
    found = QUOTED.fullmatch(text)
    code = f"{prefix}{found.group(1)}" if found else ""
    return Message("pydantic_quoted", value=Message(code)) if code in TEMPLATES else text
