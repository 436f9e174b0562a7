"""Errors raised by the engine; user-facing ones say what is wrong, where, and what to do.

An error raised with a `Message` (`raise RunError(Message("run_missing", path=...))`) prints
its English text as before (`str(exc)`, what the CLI and the API show) and keeps its code
and values in `message`, so the studio can say it in its own language.
"""

from __future__ import annotations

from engine.core.messages import Message


class PrismError(Exception):
    """Base class for every error the engine raises on purpose."""

    @property
    def message(self) -> Message | None:
        """The coded message the error was raised with, if it was raised with one."""
        first = self.args[0] if len(self.args) == 1 else None
        return first if isinstance(first, Message) else None


class DataError(PrismError, ValueError):
    """Bad input data: a file, a column, a value. The message is shown to the user as is."""


class ConfigError(PrismError, ValueError):
    """A setting out of range or of the wrong type. The message names the field."""


class NotFittedError(PrismError, RuntimeError):
    """A model was used before `fit`."""


class RunError(PrismError):
    """A run folder is missing files, is corrupt, or comes from an incompatible version."""


class RequestError(PrismError, ValueError):
    """A serving request that cannot be answered (unknown user, bad k, empty query, ...)."""


class ValueCheckError(RequestError, ConfigError):
    """One value of the wrong type or out of range (k, a weight, a mix), whether it came in a
    request or a setting. It is both a RequestError and a ConfigError, so the API answers 400
    and every command's handler shows the same message wherever the value was checked."""
