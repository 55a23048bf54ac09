"""Reports: one self-contained HTML page and a JSON file with the same numbers.

:func:`build_report` turns an evaluation (and, when known, the fitted model, its schema and
its privacy facts) into a :class:`Report`; ``write_html`` writes a page that opens offline
(inline CSS and SVG plots, no scripts), ``write_json`` the same numbers as JSON.
"""

from lookalike.report._report import Report, build_report

__all__ = ["Report", "build_report"]
