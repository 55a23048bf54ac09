"""``lookalike synthesizers [NAME]`` (issue 18, friction 9): per-synthesizer help.

Before, the command listed names and defaults only (``epochs=None``, ``rounds=None``
unexplained) and ``lookalike synthesizers NAME`` was an error ("unexpected extra argument").
Now NAME gets what the synthesizer models, whether it is DP, when to pick it and its cost, and
each hyper-parameter with its meaning, default (what None means) and valid range, and how to
pass it; the list gets a one-line description each and the hint.
"""

from __future__ import annotations

import lookalike
from lookalike.synthesizers import available


def words(text: str) -> str:
    return " ".join(text.split())


def test_describe_one_synthesizer_with_every_hyper_parameter(cli):
    result = cli("-q", "synthesizers", "mst")
    assert result.exit_code == 0, result.output
    text = words(result.stdout)
    assert "differentially private" in text and "Pick it" in text
    for param in lookalike.get_synthesizer("mst").get_params():
        assert f"{param} : " in result.stdout, param
    # a None default is explained by the rule the code applies
    assert "discovery_share : float or None, default None" in text
    assert "None: sized to the table from a noisy row count" in text
    assert "Range: number in (0, 1), or None" in text
    assert "--param" in text


def test_none_defaults_are_explained_for_the_neural_schedules(cli):
    tvae = words(cli("-q", "synthesizers", "tvae").stdout)
    assert "epochs : int or None, default None" in tvae
    assert "None: 300 at any row count" in tvae
    dp = words(cli("-q", "synthesizers", "dptvae").stdout)
    assert "None: min(30, max(10, ñ / 40))" in dp
    aim = words(cli("-q", "synthesizers", "aim").stdout)
    assert "rounds : int or None, default None" in aim
    assert "None: 2 × the number of modelled columns under DP" in aim


def test_the_list_has_a_line_per_synthesizer_and_the_hint(cli):
    result = cli("-q", "synthesizers")
    assert result.exit_code == 0, result.output
    text = words(result.stdout)
    for name in available():
        assert name in text
        summary = words(lookalike.describe_synthesizer(name).summary)
        assert " ".join(summary.split()[:3]) in text, name
    assert "lookalike synthesizers NAME" in text
    assert "epochs=None" not in text


def test_unknown_name_names_the_closest_and_all(cli, one_error_line):
    line = one_error_line(cli("synthesizers", "mts"))
    assert "unknown synthesizer 'mts' (did you mean 'mst'?)" in line
    assert "'privbayes'" in line and "'tvae'" in line


def test_help_mentions_name(cli):
    result = cli("synthesizers", "--help")
    assert result.exit_code == 0
    assert "NAME" in result.stdout and "valid range" in words(result.stdout)
