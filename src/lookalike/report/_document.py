"""What every report document shares: its JSON form, its HTML page, and atomic file writes."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from lookalike._files import atomic_output

__all__ = ["Document"]


class Document:
    """Mixin for a frozen dataclass with ``to_dict()`` and ``_render() -> str`` (its HTML).

    ``to_json``, ``to_html``, ``write_json`` and ``write_html`` follow from those two; the
    page is rendered once per document (drawing plots takes seconds).
    """

    def to_dict(self) -> dict:  # pragma: no cover - every document defines it
        raise NotImplementedError

    def _render(self) -> str:  # pragma: no cover - every document defines it
        raise NotImplementedError

    def to_json(self) -> str:
        """:meth:`to_dict` as strict JSON text (no NaN), indented."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)

    @functools.cached_property
    def _html(self) -> str:
        return self._render()

    def to_html(self) -> str:
        """One self-contained HTML page (inline CSS and SVG, nothing fetched)."""
        return self._html

    def write_html(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the HTML page to ``path`` atomically; an existing file needs ``overwrite=True``."""
        html = self.to_html()
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.write_text(html, encoding="utf-8")
        return Path(path)

    def write_json(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write :meth:`to_dict` as JSON to ``path`` atomically; existing files need ``overwrite``."""
        text = self.to_json() + "\n"
        with atomic_output(path, overwrite=overwrite) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return Path(path)
