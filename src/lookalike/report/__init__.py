"""Reports: the private report of an evaluation or audit, and the shareable release sheet.

:func:`build_report` turns an evaluation (and/or an audit, the fitted model, its schema and
its privacy facts) into a :class:`Report`. It compares the synthetic data with the real rows,
so it is as private as the data, and its first screen says so. :func:`build_release_sheet`
describes a differentially private release with only what the release discloses (the
guarantee, the releases and their costs, the synthesizer, the public and DP-released domain,
statistics of the synthetic rows): the :class:`ReleaseSheet` is what may be shared.
Both write one self-contained HTML page (inline CSS and SVG plots, no scripts) and a JSON
file with the same facts; :func:`report_paths` names every file a report run writes.
"""

from lookalike.report._privacy import is_differentially_private
from lookalike.report._release import ReleaseSheet, build_release_sheet, report_paths
from lookalike.report._report import Report, build_report

__all__ = [
    "ReleaseSheet",
    "Report",
    "build_release_sheet",
    "build_report",
    "is_differentially_private",
    "report_paths",
]
