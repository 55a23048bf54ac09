"""Griffe extension: show docstring examples (``>>>`` lines and their output) as code.

Most docstrings here are free-form, with doctests inline rather than in an ``Examples``
section; without this, Markdown would render them as prose (``[3]`` even reads as a link).
Only the rendering changes: the docstrings, and the doctests ``make test`` runs, stay as written.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

# a numpy-style "Examples" section: griffe renders its doctests itself
EXAMPLES_SECTION = re.compile(r"^\s*Examples?\s*\n\s*-{3,}\s*$", re.MULTILINE)


def fence_doctests(text: str) -> str:
    """Wrap each run of ``>>>`` lines and the output below them (up to a blank line) in a fence."""
    lines = text.splitlines()
    out: list[str] = []
    in_example = False
    for line in lines:
        starts = line.lstrip().startswith(">>>")
        if starts and not in_example:
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            in_example = True
        elif in_example and not line.strip():
            out.append("```")
            in_example = False
        out.append(line)
    if in_example:
        out.append("```")
    return "\n".join(out)


class FenceDoctests(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **_: Any) -> None:
        docstring = obj.docstring
        if docstring is not None and ">>>" in docstring.value and "```" not in docstring.value and not EXAMPLES_SECTION.search(docstring.value):
            docstring.value = fence_doctests(docstring.value)
