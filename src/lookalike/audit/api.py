"""``audit``: every privacy attack on a synthetic table, in one call.

>>> import lookalike
>>> from lookalike.audit import audit
>>> adult = lookalike.load_demo().sample(1500, random_state=0).reset_index(drop=True)
>>> train, holdout = adult.iloc[:1000], adult.iloc[1000:]
>>> result = audit(train, train, holdout, secret="occupation", targets=[0, 1], seed=0)
>>> result.membership.distance.auc > 0.95, result.verdict()[0][:17]
(True, 'Privacy risk high')
>>> [row["attack"] for row in result.summary()][:2]
['membership inference (distance)', 'membership inference (density)']
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lookalike._progress import progress
from lookalike._rng import Seed, as_rng
from lookalike.audit._encoding import encode
from lookalike.audit.attribute import AttributeInference, attribute_inference, check_columns
from lookalike.audit.linkability import Linkability, linkability
from lookalike.audit.membership import Membership, membership, percentile_among
from lookalike.audit.result import AuditMeta, AuditResult, ExposedRecord, TargetReport
from lookalike.audit.similarity import Similarity, similarity
from lookalike.audit.singling_out import SinglingOut, singling_out
from lookalike.audit.verdict import sentences
from lookalike.errors import ColumnMismatchError, ConfigError
from lookalike.evaluate.tables import prepare, read
from lookalike.schema import Schema

__all__ = ["AuditMeta", "AuditResult", "ExposedRecord", "TargetReport", "audit", "build_result"]

N_TARGETS = 5
"""Records chosen as targets (the most exposed ones) when none are named."""
MIN_SHADOW = 4
"""Fewest shadow fits per target and class (half train the attack, half test it)."""
N_EXPOSED = 10
"""Most exposed training records listed by their membership scores."""


def _version() -> str:
    from lookalike._version import __version__

    return __version__


def _seed_int(seed: Seed) -> int:
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        as_rng(seed)  # refuses negative seeds
        return int(seed)
    return int(as_rng(seed).integers(2**31))


def _check_holdout(real: pd.DataFrame, holdout: pd.DataFrame) -> None:
    names = [str(c) for c in real.columns]
    others = [str(c) for c in holdout.columns]
    missing = [c for c in names if c not in others]
    extra = [c for c in others if c not in names]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing from the holdout: {missing}")
        if extra:
            parts.append(f"in the holdout but not the real table: {extra}")
        raise ColumnMismatchError(
            "the holdout's columns do not match the real table's (" + "; ".join(parts) + "); "
            "the holdout (--holdout) must be real rows with the same columns that the "
            "synthesizer never saw"
        )


def _load_model(model: Any) -> Any:
    if model is None or hasattr(model, "get_params"):
        return model
    from lookalike.synthesizers import load_synthesizer

    return load_synthesizer(model)


def _privacy(model: Any) -> dict:
    """The model's privacy record as a dict (a ``PrivacyReport`` or, in older models, a dict)."""
    privacy = getattr(model, "privacy_", None)
    if hasattr(privacy, "to_dict"):
        privacy = privacy.to_dict()
    return dict(privacy or {})


def _claimed(model: Any, epsilon: float | None) -> dict:
    """The (ε, δ) a release claims: given, or from the model's DP fit."""
    privacy = _privacy(model)
    if epsilon is not None:
        if not (isinstance(epsilon, (int, float)) and epsilon > 0):
            raise ConfigError(f"claimed_epsilon must be a number > 0, got {epsilon!r}")
        return {"epsilon_claimed": float(epsilon), "delta_claimed": privacy.get("delta")}
    if privacy.get("differentially_private"):
        return {"epsilon_claimed": float(privacy["epsilon"]), "delta_claimed": privacy.get("delta")}
    return {}


def _run_shadow(real: pd.DataFrame, model: Any, shadow: int, targets: Any, schema: Any, seed: int) -> Any:
    from lookalike.audit.shadow import shadow_attack

    privacy = _privacy(model)
    dp = bool(privacy.get("differentially_private"))
    return shadow_attack(
        real,
        model.name,
        params=model.get_params(),
        targets=targets,
        n_fits=shadow,
        epsilon=privacy.get("epsilon") if dp else None,
        delta=privacy.get("delta") if dp else None,
        schema=schema,
        seed=seed,
        progress=True,
    )


def audit(
    real: Any,
    synthetic: Any,
    holdout: Any = None,
    *,
    schema: Schema | Mapping | str | os.PathLike | None = None,
    secret: str | None = None,
    quasi_identifiers: Sequence[str] | None = None,
    targets: Sequence[int] | None = None,
    model: Any = None,
    shadow: int = 0,
    claimed_epsilon: float | None = None,
    seed: Seed = 0,
) -> AuditResult:
    """Attack ``synthetic`` to measure what it reveals about the rows of ``real`` it was fitted on.

    ``real`` is the training table, ``holdout`` real rows of the same population the
    synthesizer never saw (without it only similarity is measured). Tables are DataFrames or
    anything :func:`lookalike.read_table` reads, conformed to ``schema`` (default: the
    model's, else inferred from ``real``); identifier and text columns are left out.

    ``secret`` is the column attribute inference tries to guess (default: each column in
    turn, up to 20) from ``quasi_identifiers`` (default: all other columns). ``targets`` are
    row numbers of ``real`` reported one by one (default: the 5 most exposed records, see
    :func:`lookalike.audit.select_targets`). ``shadow`` > 0 also runs the shadow-model attack
    with that many fits per target and class of ``model``'s synthesizer (its name,
    hyper-parameters and, for DP models, ε and δ): this is slow. ``model`` is a fitted
    synthesizer or a model file path.

    Each membership attack's empirical ε (a lower bound) is set beside the ε the model claims
    (``claimed_epsilon``, default: the model's DP fit, if any); a bound above it is flagged as a
    violation of the claimed guarantee (:meth:`AuditResult.dp_check`).

    ``seed`` fixes every sample the attacks draw; equal seeds give equal results. The result
    is computed from the private data without DP: treat it (and its report) as sensitive,
    though it names records only by row number.
    """
    start = time.perf_counter()
    seed_int = _seed_int(seed)
    if isinstance(shadow, bool) or not isinstance(shadow, (int, np.integer)) or shadow < 0:
        raise ConfigError(f"shadow must be a non-negative number of fits, got {shadow!r}")
    if 0 < shadow < MIN_SHADOW:
        raise ConfigError(
            f"shadow={shadow} (--shadow) is too few fits: each target needs at least {MIN_SHADOW} "
            "per class, half to train the attack and half to test it; tens give useful intervals"
        )
    if secret is not None and not isinstance(secret, str):
        raise ConfigError(f"secret must be one column name, got {secret!r}")
    if isinstance(quasi_identifiers, str):
        quasi_identifiers = [q.strip() for q in quasi_identifiers.split(",") if q.strip()]
    model = _load_model(model)
    claim = _claimed(model, claimed_epsilon)  # validated before any attack runs
    if shadow and model is None:
        raise ConfigError(
            "the shadow-model attack refits the synthesizer that made the synthetic data: "
            "give its model file (model=..., or --model in the CLI), or set shadow=0"
        )
    real_df = read(real, "real")
    hold_df = None
    if holdout is not None:
        hold_df = read(holdout, "holdout")
        _check_holdout(real_df, hold_df)
    if schema is None and model is not None:
        schema = getattr(model, "schema_", None)
    tables = prepare(real_df, synthetic, hold_df, schema)
    check_columns(tables, [secret] if secret else None, "secret")
    check_columns(tables, quasi_identifiers, "quasi_identifiers")
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed_int).spawn(8)]
    from lookalike.audit.targets import select_targets

    timings: dict[str, float] = {}
    notes = list(tables.notes)
    steps = 2 + (4 if hold_df is not None else 0)
    with progress("auditing: targets", steps) as advance:
        t0 = time.perf_counter()
        chosen = select_targets(
            real_df, schema,
            n=min(N_TARGETS, len(real_df)), rows=None if targets is None else list(targets), seed=seeds[0],
        )
        feats = encode(tables)
        timings["targets"] = time.perf_counter() - t0
        advance(description="auditing: similarity")

        def timed(name: str, fn, *args, **kwargs):
            t = time.perf_counter()
            out = fn(*args, **kwargs)
            timings[name] = round(time.perf_counter() - t, 3)
            advance(description=f"auditing: after {name}")
            return out

        sim = timed("similarity", similarity, tables, feats, seed=seeds[1])
        mem = attr = so = link = None
        if hold_df is not None:
            mem = timed("membership", membership, tables, feats, seed=seeds[2])
            attr = timed(
                "attribute", attribute_inference, tables, feats,
                secrets=[secret] if secret else None, quasi_identifiers=quasi_identifiers,
                targets=chosen.rows, seed=seeds[3],
            )
            so = timed("singling_out", singling_out, tables, seed=seeds[4])
            link = timed("linkability", linkability, tables, feats, seed=seeds[5])
            if so.note:
                notes.append(f"singling out: {so.note}")
        else:
            notes.append(
                "no holdout given: membership, attribute-inference, singling-out and linkability "
                "attacks need real rows the synthesizer never saw, and were not run"
            )
    shadow_result = None
    if shadow:
        t = time.perf_counter()
        shadow_result = _run_shadow(real_df, model, int(shadow), chosen, schema, seeds[6])
        timings["shadow"] = round(time.perf_counter() - t, 3)
    reports = _target_reports(chosen, mem, attr or [], shadow_result)
    exposed = _most_exposed(mem)
    meta = AuditMeta(
        n_real=tables.n_real,
        n_synthetic=tables.n_synthetic,
        n_holdout=tables.n_holdout,
        seed=seed_int,
        seconds=round(time.perf_counter() - start, 3),
        timings={k: round(v, 3) for k, v in timings.items()},
        lookalike_version=_version(),
        secret=secret,
        quasi_identifiers=None if quasi_identifiers is None else tuple(quasi_identifiers),
        excluded_columns=tables.excluded,
        notes=tuple(notes),
        **claim,
    )
    return build_result(
        meta=meta,
        similarity=sim,
        membership=mem,
        attribute=tuple(attr or ()),
        singling_out=so,
        linkability=link,
        targets=reports,
        most_exposed=exposed,
        shadow=shadow_result,
    )


def build_result(
    *,
    meta: AuditMeta,
    similarity: Similarity,
    membership: Membership | None,
    attribute: Sequence[AttributeInference],
    singling_out: SinglingOut | None,
    linkability: Linkability | None,
    targets: Sequence[TargetReport],
    most_exposed: Sequence[ExposedRecord],
    shadow: Any = None,
) -> AuditResult:
    """The :class:`AuditResult` of these parts, with its verdict sentences computed once, here."""
    attribute = tuple(attribute)
    verdict = sentences(
        meta=meta, similarity=similarity, membership=membership, attribute=attribute,
        singling_out=singling_out, linkability=linkability, shadow=shadow,
    )  # fmt: skip
    result = AuditResult(
        meta=meta,
        similarity=similarity,
        membership=membership,
        attribute=attribute,
        singling_out=singling_out,
        linkability=linkability,
        targets=tuple(targets),
        most_exposed=tuple(most_exposed),
        verdict_sentences=verdict,
        shadow=shadow,
    )
    if membership is not None and not verdict[0].startswith(("DP VIOLATION", "Possible DP violation")):
        # the overall sentence weighs every kind of evidence, copies of training rows and the
        # empirical ε included (the attacks' grades alone read "low" beside 1.84% copies and
        # a proven ε ≥ 2.34): the same level as the report's risk tile
        from lookalike.audit.risk import privacy_risk

        head = privacy_risk(result.to_dict())["sentence"]
        result = dataclasses.replace(result, verdict_sentences=(head, *verdict[1:]))
    return result


def _target_reports(chosen: Any, mem: Membership | None, attr: list[AttributeInference],
                    shadow: Any) -> tuple[TargetReport, ...]:
    rows = np.asarray(chosen.rows, dtype=int)
    dist = dens = None
    if mem is not None and len(rows):
        dist = percentile_among(mem.distance.member_scores[rows], mem.distance.non_member_scores)
        dens = percentile_among(mem.density.member_scores[rows], mem.density.non_member_scores)
    by_row = {t.row: t for t in (shadow.targets if shadow is not None else ())}
    out = []
    for i, r in enumerate(chosen.rows):
        sh = by_row.get(r)
        out.append(
            TargetReport(
                row=int(r),
                reason=chosen.reasons[i] if i < len(chosen.reasons) else "",
                exposure=chosen.scores[i] if i < len(chosen.scores) else None,
                distance=None if dist is None else float(dist[i]),
                density=None if dens is None else float(dens[i]),
                secrets_inferred={a.secret: a.target_hits[i] for a in attr if i < len(a.target_hits)},
                secrets_inferred_reference={
                    a.secret: a.target_hits_reference[i] for a in attr if i < len(a.target_hits_reference)
                },
                shadow_auc=None if sh is None else sh.auc,
                shadow_auc_ci=None if sh is None else sh.auc_ci,
                shadow_epsilon=None if sh is None else sh.epsilon.epsilon,
            )
        )
    return tuple(out)


def _most_exposed(mem: Membership | None) -> tuple[ExposedRecord, ...]:
    if mem is None:
        return ()
    dist = mem.distance.exposure()
    dens = mem.density.exposure()
    # the larger of the two shares, then the density score (which discounts typical records)
    order = np.lexsort((np.arange(len(dist)), -mem.density.member_scores, -np.maximum(dist, dens)))[:N_EXPOSED]
    return tuple(ExposedRecord(int(r), float(dist[r]), float(dens[r])) for r in order)
