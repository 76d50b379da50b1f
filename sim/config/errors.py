"""Configuration errors that name the field, the value and what is allowed.

A planner edits YAML by hand. When a value is wrong the run must stop before any
simulation starts, and the message must point at the exact field, echo what was
given and say what would have been accepted. Problems are collected rather than
raised one at a time so that a single run reports every mistake in a file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One invalid value in a configuration.

    Attributes:
        path: Dotted path of the field, e.g. ``beds.acute``.
        value: The value that was given (``repr`` is shown to the user).
        allowed: Plain-language description of what is accepted.
        hint: Optional extra advice, such as the closest valid field name.
    """

    path: str
    value: object
    allowed: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.path}: got {self.value!r}; allowed: {self.allowed}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(ValueError):
    """Raised when a configuration cannot be turned into a valid model setup."""

    def __init__(self, problems: list[ConfigProblem] | ConfigProblem | str):
        if isinstance(problems, str):
            problems = [ConfigProblem("config", None, problems)]
        elif isinstance(problems, ConfigProblem):
            problems = [problems]
        self.problems: list[ConfigProblem] = list(problems)
        lines = [f"  - {p}" for p in self.problems]
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(
            f"invalid configuration ({len(self.problems)} {noun}):\n" + "\n".join(lines)
        )
