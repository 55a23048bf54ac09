"""GraphicalModel: exact sampling (statistically), seeds, model files, validation."""

import json

import numpy as np
import pytest
from graphical_brute import joint_of, marginal_of, random_model

from lookalike.errors import ConfigError, ModelFileError
from lookalike.graphical import Domain, GraphicalModel

DOM = Domain(("a", "b", "c", "d", "e"), (3, 2, 4, 2, 5))
CLIQUES = [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d"), ("d", "e")]
N = 200_000


@pytest.fixture(scope="module")
def model() -> GraphicalModel:
    return random_model(DOM, CLIQUES, np.random.default_rng(0), scale=1.5, total=1.0)


def counts(codes: np.ndarray, domain: Domain, attrs: tuple[str, ...]) -> np.ndarray:
    axes = domain.axes(attrs)
    shape = domain.project(attrs).shape
    flat = np.ravel_multi_index([codes[:, i] for i in axes], shape)
    return np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape)


PAIRS = [(x, y) for i, x in enumerate(DOM.attrs) for y in DOM.attrs[i + 1 :]]


@pytest.mark.parametrize("exact", [False, True], ids=["random", "counts_exact"])
def test_sampled_two_way_marginals_within_four_standard_errors(model, exact):
    codes = model.sample(N, np.random.default_rng(1), counts_exact=exact)
    assert codes.shape == (N, len(DOM)) and codes.dtype == np.int64
    assert (codes >= 0).all() and (codes < np.array(DOM.shape)).all()
    for pair in PAIRS:
        p = model.marginal(pair)  # total 1: probabilities
        se = np.sqrt(N * p * (1 - p))
        z = np.abs(counts(codes, DOM, pair) - N * p) / se
        assert z.max() < 4.0, f"{pair}: a cell is {z.max():.1f} standard errors off"


def test_counts_exact_rounds_the_root_clique(model):
    codes = model.sample(N, 3, counts_exact=True)
    root = model.tree.cliques[model.tree.order[0]]
    expected = N * model.marginal(root)
    assert np.abs(counts(codes, DOM, root) - expected).max() < 1.0


def test_equal_seeds_give_equal_samples(model):
    first = model.sample(1000, np.random.default_rng(7))
    assert np.array_equal(first, model.sample(1000, np.random.default_rng(7)))
    assert np.array_equal(model.sample(1000, 7), model.sample(1000, 7))
    assert not np.array_equal(first, model.sample(1000, np.random.default_rng(8)))
    assert model.sample(0, 1).shape == (0, len(DOM))


def test_sampling_respects_zero_probability_cells():
    dom = Domain(("a", "b"), (3, 3))
    log_p = np.log(np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]]) + 1e-300)
    model = GraphicalModel(dom, (("a", "b"),), (log_p,), 6.0)
    codes = model.sample(10_000, 0)
    assert (codes[:, 0] == codes[:, 1]).all()


def test_marginals_are_counts_in_the_given_order():
    model = random_model(DOM, CLIQUES, np.random.default_rng(5), total=500.0)
    joint = joint_of(model)
    got = model.marginal(("e", "a"))
    assert got.shape == (5, 3) and got.sum() == pytest.approx(500.0)
    np.testing.assert_allclose(got, marginal_of(DOM, joint, ("e", "a")), rtol=1e-9)
    np.testing.assert_allclose(model.marginal("c"), marginal_of(DOM, joint, ("c",)), rtol=1e-9)


def test_state_round_trip_gives_identical_marginals(model):
    meta, arrays = model.to_state()
    meta = json.loads(json.dumps(meta))
    back = GraphicalModel.from_state(meta, {k: np.array(v) for k, v in arrays.items()})
    assert back.domain == model.domain and back.cliques == model.cliques
    for pair in PAIRS:
        assert np.array_equal(back.marginal(pair), model.marginal(pair))
    assert np.array_equal(back.sample(100, 4), model.sample(100, 4))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m, a: m.update(kind="other"), "not a graphical model state"),
        (lambda m, a: m.update(version=2), "version 2 is not supported"),
        (lambda m, a: a.pop("potential.0"), "damaged graphical model state"),
        (lambda m, a: a.update({"potential.0": np.zeros(2)}), "damaged graphical model state"),
        (lambda m, a: m.update(total=-1.0), "damaged graphical model state"),
    ],
)
def test_damaged_states_are_refused(model, change, message):
    meta, arrays = model.to_state()
    change(meta, arrays)
    with pytest.raises(ModelFileError, match=message):
        GraphicalModel.from_state(meta, arrays)


@pytest.mark.parametrize(
    ("cliques", "potentials", "total", "message"),
    [
        ((("a", "b"),), (np.zeros((3, 2)), np.zeros(3)), 1.0, "one potential per clique"),
        ((("b", "a"),), (np.zeros((2, 3)),), 1.0, "in domain order"),
        ((("a", "b"),), (np.zeros((2, 3)),), 1.0, "shape"),
        ((("a", "b"),), (np.full((3, 2), np.nan),), 1.0, "finite"),
        ((("a", "b"),), (np.zeros((3, 2)),), 0.0, "total"),
    ],
)
def test_invalid_models_are_refused(cliques, potentials, total, message):
    with pytest.raises(ConfigError, match=message):
        GraphicalModel(DOM, cliques, potentials, total)


def test_bad_requests_are_refused(model):
    with pytest.raises(ConfigError, match="non-negative integer"):
        model.sample(-1)
    with pytest.raises(ConfigError, match="distinct"):
        model.marginal(("a", "a"))
    with pytest.raises(ConfigError, match="'z' is not in the domain"):
        model.marginal(("z",))
