"""Domain: projections keep the order given; sizes, axes and merges; bad input is refused."""

import pytest

from lookalike.errors import ConfigError
from lookalike.graphical import Domain

DOM = Domain(("age", "sex", "income", "race"), (10, 2, 3, 5))


@pytest.mark.parametrize(
    ("attrs", "shape"),
    [
        (("income", "age"), (3, 10)),
        (("race",), (5,)),
        ("sex", (2,)),
        ((), ()),
    ],
)
def test_project_follows_the_given_order(attrs, shape):
    sub = DOM.project(attrs)
    assert sub.shape == shape
    assert sub.attrs == ((attrs,) if isinstance(attrs, str) else attrs)


def test_size_axes_contains_len():
    assert DOM.size() == 300
    assert DOM.size(("sex", "race")) == 10
    assert DOM.size(()) == 1
    assert DOM.axes(("race", "age")) == (3, 0)
    assert "income" in DOM and "zip" not in DOM
    assert len(DOM) == 4
    assert DOM["income"] == 3
    assert DOM.canonical(("race", "age", "race")) == ("age", "race")
    assert DOM.marginalize(("sex", "age")).attrs == ("income", "race")


def test_merge_appends_new_attributes_and_checks_sizes():
    other = Domain(("race", "zip"), (5, 7))
    assert DOM.merge(other) == Domain(("age", "sex", "income", "race", "zip"), (10, 2, 3, 5, 7))
    with pytest.raises(ConfigError, match="'race' has 5 values in one and 4"):
        DOM.merge(Domain(("race",), (4,)))


def test_from_dict():
    assert Domain.from_dict({"a": 2, "b": 3}) == Domain(("a", "b"), (2, 3))


@pytest.mark.parametrize(
    ("attrs", "shape", "message"),
    [
        (("a", "b"), (2,), "one size per attribute"),
        (("a", "a"), (2, 2), r"repeated: \['a'\]"),
        (("a",), (0,), "at least 1 value"),
        (("a",), (2.5,), "must be an integer"),
        ((1,), (2,), "must be strings"),
    ],
)
def test_invalid_domains_are_refused(attrs, shape, message):
    with pytest.raises(ConfigError, match=message):
        Domain(attrs, shape)


def test_unknown_attribute_is_named():
    with pytest.raises(ConfigError, match="'zip' is not in the domain"):
        DOM.project(("zip",))
