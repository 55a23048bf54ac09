"""Neural generators: round trips, conditions, modes, DP-SGD accounting, PATE, bad input.

Small data (a few hundred rows), a few epochs: seconds each.
"""

from __future__ import annotations

import sys
import zipfile

import numpy as np
import pandas as pd
import pytest

import lookalike
from lookalike.errors import BudgetExceededError, ConfigError
from lookalike.privacy.accountant import RDP_ORDERS, epsilon_from_rdp
from lookalike.privacy.ledger import PrivacyLedger

torch = pytest.importorskip("torch")
pytest.importorskip("opacus")

from lookalike.synthesizers.neural import CTGAN, DPCTGAN, DPTVAE, PATEGAN, TVAE  # noqa: E402
from lookalike.synthesizers.neural.dp import plan_dp_sgd, sgd_rdp  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return lookalike.load_demo().sample(400, random_state=0).reset_index(drop=True)


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    """Five columns of the demo table: fast to fit."""
    real = lookalike.load_demo().sample(400, random_state=1).reset_index(drop=True)
    return real[["age", "sex", "race", "hours-per-week", "income"]]


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize(
    "model",
    [
        CTGAN(epochs=3, batch_size=50, patience=None),
        TVAE(epochs=3, batch_size=50, patience=None),
        DPTVAE(epochs=1, batch_size=50),
        PATEGAN(iterations=5, n_teachers=4),
    ],
    ids=lambda m: m.name,
)
def test_save_load_same_samples_and_no_pickle(model, small, tmp_path):
    kwargs = {"epsilon": 1.0} if model.name in ("dptvae", "pategan") else {}
    model.fit(small, seed=0, **kwargs)
    path = model.save(tmp_path / "m.lookalike")
    names = zipfile.ZipFile(path).namelist()
    assert all(n.endswith((".json", ".npy")) for n in names), names
    loaded = lookalike.load_synthesizer(path)
    pd.testing.assert_frame_equal(model.sample(200, seed=5), loaded.sample(200, seed=5))
    assert loaded.training_ == model.training_
    assert loaded.privacy_.to_dict() == model.privacy_.to_dict()


def test_training_record_has_loss_curves(small):
    model = CTGAN(epochs=4, batch_size=50, patience=2).fit(small, seed=0)
    tr = model.training_
    assert len(tr["loss"]["generator"]) == len(tr["loss"]["discriminator"]) == tr["epochs"] <= 4
    assert len(tr["loss"]["validation"]) == tr["epochs"]
    assert tr["stopped_early"] == (tr["epochs"] < 4)
    assert tr["device"] == "cpu"


def test_fidelity_signal_is_the_mean_one_and_two_way_tvd():
    """The early-stopping signal against its definition, counted pair by pair with bincount:
    softmax spans by their argmax, α slots in 10 bins on [-1, 1]."""
    from types import SimpleNamespace

    from lookalike.synthesizers.neural._training import FidelitySignal

    rng = np.random.default_rng(0)
    spans = [SimpleNamespace(start=0, size=1, activation="tanh"),
             SimpleNamespace(start=1, size=3, activation="softmax"),
             SimpleNamespace(start=4, size=5, activation="softmax"),
             SimpleNamespace(start=9, size=1, activation="tanh")]
    fake, real = (np.tanh(rng.normal(size=(n, 10))) for n in (700, 300))

    def codes(x):
        return [(np.clip(((x[:, s.start] + 1) * 5).astype(int), 0, 9), 10) if s.activation == "tanh"
                else (x[:, s.start:s.start + s.size].argmax(1), s.size) for s in spans]

    def tvd(a, b, k):
        return 0.5 * np.abs(np.bincount(a, minlength=k) / len(a) - np.bincount(b, minlength=k) / len(b)).sum()

    a, b = codes(fake), codes(real)
    one = [tvd(ca, cb, k) for (ca, k), (cb, _) in zip(a, b, strict=True)]
    two = [tvd(a[i][0] * a[j][1] + a[j][0], b[i][0] * b[j][1] + b[j][0], a[i][1] * a[j][1])
           for i in range(4) for j in range(i + 1, 4)]
    assert FidelitySignal(real, spans)(fake) == pytest.approx(np.mean(one) + np.mean(two), abs=1e-6)
    assert FidelitySignal(real, spans)(real) == pytest.approx(0.0, abs=1e-6)


def test_tvae_validation_rows_draw_the_categories_its_samples_draw(small):
    """tvae's early stopping reads each softmax span's Gumbel-perturbed logits (their argmax is
    the category drawn) instead of the softmax of them: the same codes as its generated rows
    from the same random state."""
    model = TVAE(epochs=2, batch_size=50).fit(small, seed=0)
    fast = model._validation_rows(500, np.random.default_rng(4))
    full, _ = model._generate(500, np.random.default_rng(4))
    for s in model.encoder_.spans:
        block = slice(s.start, s.start + s.size)
        if s.activation == "tanh":
            np.testing.assert_allclose(fast[:, block], full[:, block], rtol=1e-6)
        else:
            assert (fast[:, block].argmax(1) == full[:, block].argmax(1)).all()


# ----------------------------------------------------------------------------- conditions
@pytest.mark.parametrize(
    "model",
    [CTGAN(epochs=3, batch_size=50), TVAE(epochs=3, batch_size=50), PATEGAN(iterations=5, n_teachers=4)],
    ids=lambda m: m.name,
)
def test_conditional_sampling_hits_rare_class(model, small):
    kwargs = {"epsilon": 1.0} if model.name == "pategan" else {}
    # categories declared public (400 rows are too few for DP discovery to find rare ones)
    inferred = lookalike.infer_schema(small)
    declared = lookalike.Schema(tuple(
        c.replace("declared", categories=c.categories) if c.categories else c for c in inferred.columns))
    model.fit(small, declared, seed=0, **kwargs)
    # the rarest class the model knows (a DP fit knows only the classes discovery kept)
    rare = next(c for c in small["race"].value_counts().index[::-1] if c in model.schema_["race"].categories)
    rows = model.sample(100, conditions={"race": rare, "income": ">50K"}, seed=3)
    assert len(rows) == 100
    assert (rows["race"] == rare).all() and (rows["income"] == ">50K").all()


def test_ctgan_conditional_vector_raises_the_class_rate(small):
    """The conditional vector makes the requested class far more likely than its base rate."""
    model = CTGAN(epochs=30, batch_size=50, patience=None).fit(small, seed=0)
    sampler = model._sampler(None)
    j = [s.column for s in model.encoder_.discrete_spans].index("income")
    code = model.encoder_.codecs["income"].categories.index(">50K")
    fixed = model._decode(2000, np.random.default_rng(1), (j, np.array([code])))
    free = model._decode(2000, np.random.default_rng(1))
    assert sampler.n_disc == 3
    assert (fixed["income"] == ">50K").mean() > (free["income"] == ">50K").mean() + 0.1


def test_tvae_reproduces_both_modes():
    rng = np.random.default_rng(0)
    n = 600
    x = np.where(rng.random(n) < 0.5, rng.normal(0, 1, n), rng.normal(50, 2, n))
    df = pd.DataFrame({"x": x, "g": rng.choice(["a", "b"], n)})
    model = TVAE(epochs=40, batch_size=60, patience=None).fit(df, seed=0)
    s = model.sample(2000, seed=1)["x"].to_numpy()
    low, high = np.mean(np.abs(s) < 5), np.mean(np.abs(s - 50) < 8)
    # each mode holds half the data; 2000 draws from a fair model give ~0.5 ± 0.011
    assert low > 0.3 and high > 0.3 and low + high > 0.95


# ----------------------------------------------------------------------------- DP-SGD accounting
@pytest.mark.parametrize(
    ("sigma", "q", "steps", "delta"), [(1.1, 256 / 60000, 14_000, 1e-5), (4.0, 0.01, 3_000, 1e-9), (0.8, 0.1, 50, 1e-6)]
)
def test_rdp_epsilon_matches_opacus(sigma, q, steps, delta):
    from opacus.accountants import RDPAccountant

    acct = RDPAccountant()
    acct.history = [(sigma, q, steps)]
    ours = epsilon_from_rdp(sgd_rdp(q, sigma, steps), delta)
    assert ours == pytest.approx(acct.get_epsilon(delta=delta), abs=1e-6)


def test_noise_search_meets_the_target_tightly():
    plan = plan_dp_sgd(n_est=10_000, batch_size=100, epochs=5, epsilon=1.0, delta=1e-6, rho_before=0.001,
                       max_grad_norm=1.0)
    curve = lambda s: [0.001 * a + r for a, r in zip(RDP_ORDERS, sgd_rdp(0.01, s, 500), strict=True)]  # noqa: E731
    assert plan["steps"] == 500
    assert epsilon_from_rdp(curve(plan["noise_multiplier"]), 1e-6) <= 1.0
    assert epsilon_from_rdp(curve(plan["noise_multiplier"] * 0.999), 1e-6) > 1.0 - 1e-3


def test_dp_sgd_stops_at_the_budget_and_records_it(small, tmp_path):
    ledger = PrivacyLedger(tmp_path / "ledger.sqlite")
    ledger.set_limit("adult", epsilon=3.0, delta=1e-9)
    model = DPTVAE(epochs=30, batch_size=40, noise_multiplier=3.0)
    model.fit(small, epsilon=1.0, delta=1e-9, ledger=ledger, dataset="adult", seed=0)
    train = model.privacy_.releases[-1]
    # fewer steps than 200 epochs would take: training stopped at the budget
    assert train.to_dict()["steps"] < train.to_dict()["planned_steps"]
    assert model.training_["steps"] == train.to_dict()["steps"]
    q, s = train.to_dict()["sample_rate"], train.to_dict()["noise_multiplier"]
    rho = sum(r.rho for r in model.privacy_.releases[:-1])  # phase 1, zCDP
    eps_at = lambda k: epsilon_from_rdp(  # noqa: E731
        [rho * a + r for a, r in zip(RDP_ORDERS, sgd_rdp(q, s, k), strict=True)], train.to_dict()["delta"])
    assert eps_at(train.to_dict()["steps"]) <= 1.0 < eps_at(train.to_dict()["steps"] + 1)
    assert model.privacy_.epsilon_spent == pytest.approx(eps_at(train.to_dict()["steps"]), abs=1e-9)
    # one ledger entry, settled to the fit's RDP curve: its ε for the dataset is the fit's own
    entries = ledger.releases("adult")
    assert len(entries) == 1 and entries[0].mechanism == "dptvae"
    assert train.epsilon == pytest.approx(model.training_["opacus_epsilon"], abs=1e-6)
    assert ledger.status("adult").epsilon_spent == pytest.approx(model.privacy_.epsilon_spent, abs=1e-6)


def test_dpctgan_fit_within_budget(small):
    model = DPCTGAN(epochs=1, batch_size=40).fit(small, epsilon=1.0, seed=0)
    assert model.privacy_.epsilon_spent <= 1.0
    assert model.training_["steps"] == model.privacy_.releases[-1].params["steps"] > 0
    assert set(model.sample(50, seed=1).columns) == set(small.columns)


def test_dptvae_keeps_its_output_noise_floor(small):
    """DP-SGD clips each row's gradient as a whole: the numeric slots' noise may not shrink
    below ``min_sigma`` (0.5 under DP), or their likelihood would set every clipped direction."""
    model = DPTVAE(epochs=1, batch_size=40).fit(small, epsilon=1.0, seed=0)
    sigma = model.decoder_.sigma.weight.detach()
    assert float(sigma.min()) >= 0.5
    assert TVAE().min_sigma == 0.01
    for bad in (0, 1.5, "x"):
        with pytest.raises(ConfigError, match="min_sigma"):
            DPTVAE(min_sigma=bad, epochs=1).fit(small, epsilon=1.0, seed=0)


def test_ledger_refuses_over_budget_fit_before_reading(small, tmp_path):
    ledger = PrivacyLedger(tmp_path / "ledger.sqlite")
    ledger.set_limit("adult", epsilon=0.05, delta=1e-9)
    with pytest.raises(BudgetExceededError, match="exceeded"):
        DPTVAE(epochs=1, batch_size=40).fit(small, epsilon=1.0, ledger=ledger, dataset="adult", seed=0)
    assert ledger.releases("adult") == []


@pytest.mark.parametrize("model", [DPTVAE(epochs=1, batch_size=40), PATEGAN(iterations=2, n_teachers=4)],
                         ids=["dptvae", "pategan"])
def test_ledger_refuses_a_fit_whose_discovery_alone_would_fit(model, small, tmp_path, monkeypatch):
    """Discovery fits in what is left, the whole fit does not: refused before any data is read."""
    ledger = PrivacyLedger(tmp_path / "ledger.sqlite")
    ledger.set_limit("adult", epsilon=0.5, delta=1e-9)

    def no_reading(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setattr(type(model), "_dp_discovery", no_reading)
    with pytest.raises(BudgetExceededError, match="exceeded"):
        model.fit(small, epsilon=1.0, ledger=ledger, dataset="adult", seed=0)
    assert ledger.releases("adult") == []


def test_reservation_holds_while_the_fit_runs(small, tmp_path, monkeypatch):
    """The whole fit is reserved before discovery: a spend made meanwhile cannot take its budget."""
    ledger = PrivacyLedger(tmp_path / "ledger.sqlite")
    ledger.set_limit("adult", epsilon=1.0, delta=1e-9)
    discover = DPTVAE._dp_discovery
    refused = []

    def concurrent(self, *args, **kwargs):
        out = discover(self, *args, **kwargs)
        try:
            ledger.spend("adult", rho=1e-3, mechanism="other fit")
        except BudgetExceededError as e:
            refused.append(e)
        return out

    monkeypatch.setattr(DPTVAE, "_dp_discovery", concurrent)
    DPTVAE(epochs=1, batch_size=40).fit(small, epsilon=1.0, ledger=ledger, dataset="adult", seed=0)
    assert len(refused) == 1
    assert [e.mechanism for e in ledger.releases("adult")] == ["dptvae"]


def test_ledger_composes_rdp_and_zcdp_releases(tmp_path):
    ledger = PrivacyLedger(tmp_path / "ledger.sqlite")
    ledger.set_limit("d", epsilon=1.0, delta=1e-6)
    curve = sgd_rdp(0.01, 2.0, 300)
    ledger.spend("d", rho=0.0, rdp=curve, mechanism="dp-sgd")
    ledger.spend("d", rho=0.002, mechanism="mst")
    expected = epsilon_from_rdp([0.002 * a + r for a, r in zip(RDP_ORDERS, curve, strict=True)], 1e-6)
    assert ledger.status("d").epsilon_spent == pytest.approx(expected, abs=1e-9)
    with pytest.raises(BudgetExceededError):
        ledger.spend("d", rho=0.0, rdp=sgd_rdp(0.05, 1.0, 5000), mechanism="dp-sgd")


# ----------------------------------------------------------------------------- PATE-GAN
def test_pategan_data_independent_cost(small, tmp_path):
    model = PATEGAN(iterations=8, batch_size=16, student_steps=3, n_teachers=4).fit(small, epsilon=1.0, seed=0)
    train = model.privacy_.releases[-1]
    assert train.to_dict()["queries"] == 8 * 3 * 16  # rounds × student steps × rows voted on
    assert model.training_["epochs"] == 8 and len(model.training_["loss"]["student"]) == 8
    assert train.to_dict()["rho"] == pytest.approx(train.to_dict()["queries"] / (2 * train.to_dict()["vote_sigma"] ** 2))
    assert model.privacy_.epsilon_spent <= 1.0 + 1e-9


def test_pategan_exact_votes_train_longer_by_default():
    # no noise is spread over exact votes: the default rounds are not the DP schedule's
    assert PATEGAN()._iterations(1_000, exact=True) == 3_000
    assert PATEGAN()._iterations(1_000) == 250
    assert PATEGAN(iterations=7)._iterations(1_000, exact=True) == 7


def test_pategan_replay_keeps_at_most_its_size_and_adds_one_stored_batch():
    import torch

    from lookalike.synthesizers.neural.pategan import _Replay

    rng = np.random.default_rng(0)
    replay = _Replay(3, rng)
    seen = []
    for i in range(20):
        rows, shares = torch.full((4, 2), float(i)), torch.full((4,), i / 20)
        xs, ys = replay.mix(rows, shares)
        assert len(replay.rows) == min(i + 1, 3)
        assert torch.equal(xs[:4], rows) and torch.equal(ys[:4], shares)  # the fresh batch first
        if i == 0:
            assert len(xs) == 4  # nothing stored yet
        else:
            old = int(xs[4, 0])  # then one stored batch, with its own shares
            assert len(xs) == 8 and old < i and torch.allclose(ys[4:], torch.full((4,), old / 20))
            seen.append(old)
    assert len(set(seen)) > 3  # stored batches are replaced over time, not frozen
    none = _Replay(0, rng)
    assert none.mix(rows, shares)[0] is rows and not none.rows
    with pytest.raises(ConfigError, match="replay"):
        PATEGAN(replay=-1).fit(pd.DataFrame({"a": [1, 2, 3] * 10}), seed=0)


# ----------------------------------------------------------------------------- DP encoding
def test_dp_encoding_uses_only_discovered_domain(small):
    model = DPTVAE(epochs=1, batch_size=40).fit(small, epsilon=1.0, seed=0)
    names = [r.name for r in model.privacy_.releases]
    assert "row count" in names and "bins of age" in names and names[-1] == "training"
    norm = model.encoder_.normalizers["age"]
    age_col = model.schema_["age"]
    # decoded values stay inside the DP-discovered bounds, not the private min/max
    assert (norm.lower, norm.upper) == pytest.approx(tuple(float(b) for b in age_col.bounds), abs=1.0)
    assert model.n_rows_ is None and model.n_estimate_ > 0


# ----------------------------------------------------------------------------- bad input
def test_batch_larger_than_data(small):
    with pytest.raises(ConfigError, match="batch_size=1000 is larger"):
        TVAE(epochs=1, batch_size=1000).fit(small, seed=0)
    with pytest.raises(ConfigError, match="batch_size=1000 is larger"):
        DPTVAE(epochs=1, batch_size=1000).fit(small, epsilon=1.0, seed=0)


def test_epsilon_too_small_for_one_step():
    with pytest.raises(ConfigError, match="too small to take one DP-SGD step"):
        plan_dp_sgd(n_est=1000, batch_size=500, epochs=1, epsilon=1e-3, delta=1e-9, rho_before=1e-9,
                    max_grad_norm=1.0)


def test_epsilon_too_small_in_fit():
    # the whole demo table: at this ε the noisy row count has sigma ~1,000, so it stays far above
    # the batch (on 400 rows it may come out near 0 and the batch-size error fires instead)
    table = lookalike.load_demo()[["age", "sex", "race", "hours-per-week", "income"]]
    with pytest.raises(ConfigError, match="too small"):
        DPTVAE(epochs=1, batch_size=200, noise_multiplier=0.5).fit(table, epsilon=0.05, seed=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_gpu_requested_but_absent(small):
    with pytest.raises(ConfigError, match="asks for a GPU"):
        CTGAN(epochs=1, device="cuda").fit(small, seed=0)


def test_non_dp_family_refuses_epsilon(small):
    with pytest.raises(ConfigError, match="no differentially private form"):
        CTGAN(epochs=1).fit(small, epsilon=1.0)


def test_missing_torch_names_the_extra(monkeypatch):
    from lookalike.synthesizers.neural._torch import require_torch

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ConfigError, match=r'pip install "lookalike\[neural\]"'):
        require_torch()


def test_registered():
    assert {"ctgan", "tvae", "dpctgan", "dptvae", "pategan"} <= set(lookalike.synthesizers.available())


def test_span_cross_entropy_equals_the_padded_log_softmax():
    """The dense per-span cross entropy (a matrix product with the span membership) gives the
    padded log-softmax's values and gradients, with logits far apart (a shift per span)."""
    import torch

    from lookalike.synthesizers.neural._encoding import Span
    from lookalike.synthesizers.neural._nets import SpanLayout

    spans = [Span("a", 0, 1, "tanh", False), Span("a", 1, 3, "softmax", False),
             Span("b", 4, 5, "softmax", True), Span("c", 9, 1, "tanh", False),
             Span("d", 10, 2, "softmax", True)]
    lay = SpanLayout(spans, 12, "cpu")
    gen = torch.Generator().manual_seed(0)
    raw = (torch.randn(64, 12, generator=gen) * 40).requires_grad_()
    x = torch.zeros(64, 12)
    for s in spans:
        if s.activation == "softmax":
            x[torch.arange(64), s.start + torch.randint(s.size, (64,), generator=gen)] = 1.0
    hot = lay.hot_columns(x)
    got = lay.cross_entropy(raw, hot)
    (g_got,) = torch.autograd.grad(got.sum(), raw)
    logp = torch.log_softmax(lay.padded(raw), dim=-1)
    want = -logp.gather(2, (hot - lay.soft_starts).unsqueeze(-1)).squeeze(-1).sum(1)
    (g_want,) = torch.autograd.grad(want.sum(), raw)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-4)
    assert torch.allclose(g_got, g_want, atol=1e-5)
    assert torch.isfinite(got).all()
    # the output activations: tanh on α slots, a softmax per span (here without Gumbel noise)
    out = lay.activate(raw, gumbel=False)
    for s in spans:
        part = raw[:, s.start : s.start + s.size]
        want_a = torch.tanh(part) if s.activation == "tanh" else torch.softmax(part, dim=1)
        assert torch.allclose(out[:, s.start : s.start + s.size], want_a, atol=1e-6)
    assert torch.isfinite(torch.autograd.grad(out.sum() + (out**2).sum(), raw)[0]).all()
    # the conditional-vector loss: one chosen span per row
    span_row = torch.randint(lay.n_soft, (64,), generator=gen)
    sizes = torch.as_tensor(lay.sizes)[span_row]
    category = (torch.rand(64, generator=gen) * sizes).long()
    got_c = lay.condition_loss(raw, span_row, category)
    chosen = lay.padded(raw)[torch.arange(64), span_row]
    want_c = torch.nn.functional.cross_entropy(chosen, category)
    assert torch.allclose(got_c, want_c, rtol=1e-5)
    assert torch.allclose(*(torch.autograd.grad(v, raw)[0] for v in (got_c, want_c)), atol=1e-6)


def test_straight_through_is_one_hot_forward_and_soft_backward():
    """Each softmax span becomes its argmax's one-hot row, α slots stay as they are, and the
    gradient is the one of the soft outputs (the straight-through estimator)."""
    import torch

    from lookalike.synthesizers.neural._encoding import Span
    from lookalike.synthesizers.neural._nets import SpanLayout

    spans = [Span("a", 0, 1, "tanh", False), Span("a", 1, 3, "softmax", False),
             Span("b", 4, 5, "softmax", True)]
    lay = SpanLayout(spans, 9, "cpu")
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(32, 9, generator=gen, requires_grad=True)
    soft = lay.activate(raw, generator=gen)
    hard = lay.straight_through(soft)
    assert torch.equal(hard[:, 0], soft[:, 0])
    for s in spans[1:]:
        block = hard[:, s.start : s.start + s.size]
        assert torch.equal(block.sum(1), torch.ones(32))
        assert set(block.unique().tolist()) == {0.0, 1.0}
        assert torch.equal(block.argmax(1), soft[:, s.start : s.start + s.size].argmax(1))
    w = torch.randn(32, 9, generator=gen)
    (g_hard,) = torch.autograd.grad((hard * w).sum(), raw, retain_graph=True)
    (g_soft,) = torch.autograd.grad((soft * w).sum(), raw)
    assert torch.allclose(g_hard, g_soft)
