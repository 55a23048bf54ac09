"""Every lookalike synthesizer, with its defaults, on many real tables of 300 to 20,000 rows,
against the peers of the earlier benchmarks on the same tables in the same run.

    .venv/bin/python benchmarks/many_tables.py [--tables NAME ...] [--synthesizers NAME ...]
        [--peers | --no-peers] [--seeds 0] [--quick] [--epsilon 1] [--neural-rows 5000]
        [--timeout 1800] [--threads 1] [--json PATH] [--markdown PATH] [--merge] [--report-only]
        [--combine JSON ... [--reproduce TEXT]]

Tables (benchmarks/_tables.py): penguins, cars, modechoice, anes96, seattle_weather, fair,
randhie (from statsmodels, palmerpenguins and vega_datasets, installed on first use in their own
virtualenv benchmarks/.venvs/tables, never in lookalike's dependencies) and adult_1k, adult_3k,
compas_1k, compas_3k (samples of the shared datasets; skipped with a note without ../shared).
Methods: every name of `lookalike synthesizers` (DP ones at --epsilon, delta default, charged to
a throwaway ledger), and with --peers (the default) the reference CART of
benchmarks/foundation.py, OpenDP MST and AIM, DataSynthesizer, SDV GaussianCopula, CTGAN and
TVAE, and mst+bounds / aim+bounds: ours given the favour the OpenDP peers get, the real range
of every many-valued numeric column declared, and aim+domain: aim given DataSynthesizer's, every
column's domain read from the real rows, declared (benchmarks/_many_runs.py says how each is
configured; peer venvs are created in benchmarks/.venvs on first use, which takes minutes). --quick gives the neural models 2 epochs
(pategan 20 iterations), to check the harness end to end in minutes. Neural models (ours and
SDV's CTGAN/TVAE) fit on a seeded subsample of --neural-rows training rows on larger tables and
sample as many rows as the full training part (the cap is recorded per run).

Protocol per table: 80/20 split with seed 0; every method fits on the training part in a child
process of its own (a failure or a run past --timeout is recorded, and the benchmark goes on)
and samples as many rows. Scores, all against the real training rows unless said: mean TVD of
all 1-way and 2-way and 200 random 3-way marginals on 20 quantile bins of the real data
(lookalike.evaluate.marginals, as benchmarks/_protocol.py); TSTR ROC AUC of gradient boosting
trained on synthetic rows and tested on the real holdout for the table's binary target, next to
TRTR (trained on the real training rows); detection ROC AUC (5-fold CV, real vs synthetic); and
lookalike.evaluate.validity (values outside the real domain, spurious missing values, collapsed
columns, lost categories, binary columns that lost a value). The results JSON records the
commit and whether the working tree was dirty.
"""

from __future__ import annotations

import os

# OpenMP threads spin on a busy machine: scikit-learn's gradient boosting took 40x longer with
# 2 threads than with 1 on 2 shared cores. --threads sets it for the children too.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

import _many_runs as runs  # noqa: E402
import _tables  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _protocol import machine  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

import lookalike  # noqa: E402
from lookalike import get_synthesizer, infer_schema, read_table  # noqa: E402
from lookalike.evaluate.marginals import discretise_pair, mean_tvd  # noqa: E402
from lookalike.evaluate.validity import MAX_CODES, comparable, validity  # noqa: E402
from lookalike.schema import Kind  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DOCS = ROOT / "docs" / "benchmarks" / "many_tables.md"
NEURAL = ("ctgan", "tvae", "dpctgan", "dptvae", "pategan")
PEERS = ("reference-cart", "opendp-mst", "opendp-aim", "datasynthesizer", "sdv-gaussian-copula",
         "sdv-ctgan", "sdv-tvae")
DP_PEERS = ("opendp-mst", "opendp-aim", "datasynthesizer")
#: ours with a peer's favour, declared (see _many_runs): the OpenDP peers' numeric ranges read
#: from the real rows, or every column's domain as DataSynthesizer reads it
BOUNDED = {"mst+bounds": "mst", "aim+bounds": "aim", "aim+domain": "aim"}
PEER_DELTA = 1e-9  # lookalike's default delta, given to the DP peers that take one
PEER_LABELS = {
    "reference-cart": "reference CART (synthpop-style)",
    "opendp-mst": "OpenDP 0.16 MST",
    "opendp-aim": "OpenDP 0.16 AIM",
    "datasynthesizer": "DataSynthesizer 0.1.13 (k=2)",
    "sdv-gaussian-copula": "SDV GaussianCopula",
    "sdv-ctgan": "SDV CTGAN",
    "sdv-tvae": "SDV TVAE",
    "mst+bounds": "lookalike mst, the peers' bounds declared",
    "aim+bounds": "lookalike aim, the peers' bounds declared",
    "aim+domain": "lookalike aim, DataSynthesizer's domain declared",
}


# ------------------------------------------------------------------ columns and scores
def column_spec(train: pd.DataFrame, schema) -> list[dict]:
    """How the peers see each column: keys (text, booleans, whole-number codes) or numbers cut
    on the real range (see benchmarks/_many_runs.py)."""
    out = []
    for col in schema.columns:
        s = train[col.name]
        item = {"name": col.name, "role": "key", "missing": bool(s.isna().any())}
        if col.kind in (Kind.INTEGER, Kind.FLOAT, Kind.DATETIME):
            values, _ = comparable(s, col)
            present = values.dropna()
            codes = (col.kind is not Kind.DATETIME and bool(np.all(np.mod(present, 1) == 0))
                     and present.nunique() <= MAX_CODES)
            if not codes:
                date = col.kind is Kind.DATETIME
                days = present / 86400 if date else present
                item.update(role="cut", date=date, integer=col.kind is Kind.INTEGER,
                            lo=float(days.min()), hi=float(days.max()), format=col.format,
                            pivot=col.pivot_year)
        out.append(item)
    return out


def normalise(df: pd.DataFrame, schema) -> pd.DataFrame:
    """The modelled columns as validity compares them (numbers and datetimes as floats,
    categories and booleans as text); values that do not read as the column's kind are missing."""
    out = {}
    for col in schema.columns:
        if not col.kind.modelled:
            continue
        values, bad = comparable(df[col.name].reset_index(drop=True), col)
        if col.kind.numeric:
            out[col.name] = values.astype(float).where(~bad.to_numpy())
        else:
            out[col.name] = values.astype(object).where(~bad.to_numpy(), None)
    return pd.DataFrame(out)


def _features(df: pd.DataFrame, like: pd.DataFrame, drop: str | None) -> pd.DataFrame:
    out = {}
    for c in like.columns:
        if c == drop:
            continue
        if pd.api.types.is_float_dtype(like[c].dtype):
            out[c] = df[c].astype(float)
        else:
            cats = sorted(like[c].dropna().unique())
            coded = pd.Categorical(df[c].where(df[c].isin(cats)), categories=cats)  # unseen: NaN
            out[c] = coded if len(cats) <= 250 else pd.Series(coded.codes, dtype=float)
    return pd.DataFrame(out)


def _model(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)


def tstr_auc(fit: pd.DataFrame, test: pd.DataFrame, like: pd.DataFrame, table) -> tuple[float, str]:
    """ROC AUC on ``test`` of a model trained on ``fit`` for the table's target (0.5, with a
    note, when ``fit`` holds one class only)."""
    y_fit, y_test = table.label(fit[table.target]), table.label(test[table.target])
    keep_fit, keep_test = y_fit.notna().to_numpy(), y_test.notna().to_numpy()
    y = y_fit[keep_fit].astype(bool).to_numpy()
    if y.all() or not y.any():
        return 0.5, "the synthetic target holds one class"
    X = _features(fit[keep_fit], like, table.target)
    for c in X.columns:  # gradient boosting cannot bin a numeric column with no value at all
        if X[c].dtype.kind == "f" and X[c].isna().all():
            X[c] = 0.0  # constant: never split on, so the test rows' values do not matter
    model = _model(0).fit(X, y)
    p = model.predict_proba(_features(test[keep_test], like, table.target))[:, 1]
    return float(roc_auc_score(y_test[keep_test].astype(bool), p)), ""


def detection_auc(synth: pd.DataFrame, train: pd.DataFrame, seed: int = 0) -> float:
    n = min(len(synth), len(train))
    rng = np.random.default_rng(seed)
    real = train.iloc[rng.choice(len(train), n, replace=False)]
    fake = synth.iloc[rng.choice(len(synth), n, replace=False)]
    both = pd.concat([real, fake], ignore_index=True)
    X = _features(both, train, None)
    y = np.r_[np.zeros(n), np.ones(n)]
    scores = np.empty(len(y))
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y):
        scores[te] = _model(seed).fit(X.iloc[tr], y[tr]).predict_proba(X.iloc[te])[:, 1]
    return float(roc_auc_score(y, scores))


def score(table, schema, train_raw, train_n, holdout_n, synth_raw) -> dict:
    """Every score of one synthetic table (see the module doc)."""
    synth_n = normalise(synth_raw, schema)
    pair = discretise_pair(train_n, synth_n, n_bins=20)
    auc, note = tstr_auc(synth_n, holdout_n, train_n, table)
    v = validity(train_raw, synth_raw, schema)
    out = {
        "1way": mean_tvd(pair, 1),
        "2way": mean_tvd(pair, 2),
        "3way": mean_tvd(pair, 3, max_marginals=200, seed=0),
        "tstr_auc": auc,
        "detection": detection_auc(synth_n, train_n),
        "validity": v.summary.to_dict(),
        "violations": {c.name: list(c.violations) for c in v.columns if c.violations},
        "outside_examples": {c.name: list(c.outside_examples) for c in v.columns
                             if c.outside_examples},
        # the wording: values the real data does not have among codes and categories
        # (a range's noisy ends are reported above, not a target), binary columns losing a
        # value whose minority share is 10% or more
        "outside_values": [c.name for c in v.columns
                           if c.outside_domain > 0 and c.domain in ("codes", "categories")],
        "binary_lost_10": [c.name for c in v.columns if c.binary_lost and c.minority_share >= 0.10],
    }
    if note:
        out["tstr_note"] = note
    return out


# ------------------------------------------------------------------ methods
def method_runner(name: str, args, dp: bool):
    """(python, body) of a child-process method, or None for the in-process reference CART."""
    quick = args.quick
    if name in lookalike.available():
        params = {}
        if quick and name in ("ctgan", "tvae", "dpctgan", "dptvae"):
            params = {"epochs": 2}
        if quick and name == "pategan":
            params = {"iterations": 20}
        return runs.ours(name, params)
    if name in BOUNDED:
        return runs.ours(BOUNDED[name], {})
    if name == "reference-cart":
        return None
    if name == "opendp-mst":
        return runs.opendp("dp.mbi.MST()")
    if name == "opendp-aim":
        return runs.opendp("dp.mbi.AIM(queries=2, rounds=48)")
    if name == "datasynthesizer":
        return runs.datasynthesizer()
    cls = {"sdv-gaussian-copula": "GaussianCopulaSynthesizer", "sdv-ctgan": "CTGANSynthesizer",
           "sdv-tvae": "TVAESynthesizer"}[name]
    epochs = 2 if quick and cls != "GaussianCopulaSynthesizer" else None
    return runs.sdv(cls, epochs)


def is_dp(name: str) -> bool:
    if name in BOUNDED:
        return True
    if name in lookalike.available():
        return bool(get_synthesizer(name).supports_dp)
    return name in DP_PEERS


def is_neural(name: str) -> bool:
    return name in NEURAL or name in ("sdv-ctgan", "sdv-tvae")


def declared(name: str) -> str | None:
    """What a favoured run declares: "bounds" (the OpenDP peers' ranges) or "domain"
    (DataSynthesizer's categories and ranges); None for a run with its defaults."""
    if name not in BOUNDED:
        return None
    return name.split("+")[1]


def run_method(name, table, paths, train_raw, schema, spec, seed, args) -> tuple:
    dp = is_dp(name)
    eps = args.epsilon if dp else None
    fit_rows = args.neural_rows if is_neural(name) and len(train_raw) > args.neural_rows else None
    if name == "reference-cart":
        from foundation import reference_cart

        t = time.perf_counter()
        try:
            rows = reference_cart(train_raw, len(train_raw), seed)
        except Exception as e:  # a failing run is recorded, not fatal
            return None, {"error": f"{type(e).__name__}: {e}"[:500]}
        return rows, {"fit_s": time.perf_counter() - t, "sample_s": 0.0}
    python, body = method_runner(name, args, dp)
    delta = PEER_DELTA if name in DP_PEERS else None  # ours: their default delta
    return runs.run_child(python, body, paths["train"], table=table.name, seed=seed, epsilon=eps,
                          delta=delta, spec={"columns": spec, "fit_rows": fit_rows,
                                             "declare": declared(name)},
                          timeout=args.timeout, threads=args.threads)


# ------------------------------------------------------------------ bookkeeping
def provenance() -> dict:
    def git(*a):
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = [ln for ln in git("status", "--short").splitlines() if ln.strip()]
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(dirty), "dirty_files": len(dirty),
            "machine": machine(), "date": datetime.datetime.now().isoformat(timespec="seconds")}


def combine(docs: list[dict]) -> dict:
    """One results document from several runs over the same tables (the peers measured once,
    ours at a later commit): tables in the first file's order, each method's runs from the last
    file that has them, stamped with their commit and date; the header takes the last file's
    settings and the sum of the elapsed times."""
    out = {**docs[-1], "tables": {}, "elapsed_s": sum(d.get("elapsed_s", 0) for d in docs),
           "methods": list(dict.fromkeys(m for d in docs for m in d.get("methods", []))),
           "skipped": sorted({s for d in docs for s in d.get("skipped", [])}),
           "seeds": sorted({s for d in docs for s in d.get("seeds", [])})}
    for d in docs:
        for name, table in d["tables"].items():
            runs = {**out["tables"].get(name, {}).get("runs", {}), **_stamped(table)}
            out["tables"][name] = {**table, "runs": runs}
    return out


def _stamped(table: dict) -> dict:
    """The runs of an earlier table, each stamped with the commit and date it was measured at."""
    return {n: {"commit": table.get("commit", ""), "date": table.get("date", ""), **r}
            for n, r in table["runs"].items()}  # (a run's own stamp, where it has one, wins)


def _mean(per_seed: list[dict]) -> dict:
    ok = [r for r in per_seed if "error" not in r]
    if not ok:
        return {"error": per_seed[0]["error"]}
    keys = ("fit_s", "sample_s", "wall_s", "peak_rss_mb", "1way", "2way", "3way", "tstr_auc",
            "detection")
    out = {k: float(np.mean([r[k] for r in ok])) for k in keys if all(k in r for r in ok)}
    if len(ok) < len(per_seed):
        out["failed_seeds"] = len(per_seed) - len(ok)
    v = ok[0]["validity"]
    out["violations"] = ok[0]["violations"]
    out["validity"] = v
    for k in ("fit_rows", "outside_values", "binary_lost_10"):  # as the first seed found them
        if k in ok[0]:
            out[k] = ok[0][k]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", nargs="+", choices=list(_tables.TABLES), default=list(_tables.TABLES))
    ap.add_argument("--synthesizers", nargs="+", metavar="NAME",
                    help="lookalike synthesizers and/or peers (default: all of them)")
    ap.add_argument("--peers", action=argparse.BooleanOptionalAction, default=True,
                    help="also run the peers (default: yes)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--quick", action="store_true", help="2 epochs for neural models")
    ap.add_argument("--epsilon", type=float, default=1.0)
    ap.add_argument("--neural-rows", type=int, default=5000,
                    help="neural models fit on a seeded subsample of this many training rows")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per run")
    ap.add_argument("--threads", type=int, default=int(os.environ["OMP_NUM_THREADS"]),
                    help="OpenMP/torch threads of each fit (default: OMP_NUM_THREADS, else 1)")
    ap.add_argument("--json", type=Path, default=RESULTS / "many_tables.json")
    ap.add_argument("--markdown", type=Path, default=DOCS)
    ap.add_argument("--merge", action="store_true",
                    help="keep what --json already holds: other tables, and on this run's tables "
                         "the methods this run does not measure (each run keeps its commit and date)")
    ap.add_argument("--report-only", action="store_true",
                    help="write the markdown from --json (e.g. of a run that was stopped) and exit")
    ap.add_argument("--combine", type=Path, nargs="+", metavar="JSON",
                    help="merge the runs of these results files (later files win per table and "
                         "method, each run keeping its commit and date) into --json, write the "
                         "markdown and exit")
    ap.add_argument("--reproduce", metavar="TEXT",
                    help="with --combine: the markdown's sentence on how to reproduce the runs")
    args = ap.parse_args()
    if args.combine:
        doc = combine([json.loads(f.read_text()) for f in args.combine])
        if args.reproduce:
            doc["reproduce"] = args.reproduce
        _save(doc, args.json)
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(doc))
        print(f"results in {args.json}, table in {args.markdown}")
        return
    if args.report_only:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(json.loads(args.json.read_text())))
        print(f"table in {args.markdown}")
        return

    ours = list(lookalike.available())
    names = list(args.synthesizers) if args.synthesizers else ours + (
        list(BOUNDED) + list(PEERS) if args.peers else [])
    unknown = [n for n in names if n not in ours and n not in PEERS and n not in BOUNDED]
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; lookalike: {ours}; peers: {list(PEERS)}")
    if not args.peers:
        names = [n for n in names if n in ours or n in BOUNDED]
    tables, skipped = _tables.available(list(args.tables))
    for note in skipped:
        print(f"note: {note}", flush=True)
    prov = provenance()
    doc = {**prov, "threads": args.threads, "epsilon": args.epsilon, "seeds": args.seeds, "quick": args.quick,
           "neural_rows": args.neural_rows, "timeout_s": args.timeout, "methods": names,
           "skipped": skipped, "tables": {}}
    old_runs: dict = {}
    if args.merge and args.json.exists():  # earlier tables and methods stay, with their provenance
        old = json.loads(args.json.read_text())
        doc["tables"] = {k: v for k, v in old.get("tables", {}).items() if k not in tables}
        old_runs = {k: _stamped(v) for k, v in old.get("tables", {}).items() if k in tables}
        doc["skipped"] = sorted(set(old.get("skipped", [])) | set(skipped))
        if old.get("reproduce"):  # how the kept runs were made (amend it to name this run)
            doc["reproduce"] = old["reproduce"]
        doc["methods"] = list(dict.fromkeys(old.get("methods", []) + names))
    start = time.perf_counter()
    for tname in tables:
        table = _tables.TABLES[tname]
        try:
            paths = _tables.prepare(tname)
            train_raw, hold_raw = read_table(paths["train"]), read_table(paths["holdout"])
            schema = infer_schema(train_raw)
            train_n, hold_n = normalise(train_raw, schema), normalise(hold_raw, schema)
            spec = column_spec(train_raw, schema)
            trtr, _ = tstr_auc(train_n, hold_n, train_n, table)
        except Exception as e:
            print(f"{tname}: cannot be prepared: {type(e).__name__}: {e}", flush=True)
            doc["skipped"].append(f"{tname}: cannot be prepared: {type(e).__name__}: {e}")
            continue
        entry = doc["tables"][tname] = {
            "source": table.source, "target": table.rule, "notes": table.notes,
            "n_train": len(train_raw), "n_holdout": len(hold_raw), "columns": len(train_n.columns),
            "kinds": {c.name: c.kind.value for c in schema.columns}, "trtr_auc": trtr,
            "commit": prov["commit"], "dirty": prov["dirty"],
            "runs": {n: r for n, r in old_runs.get(tname, {}).items() if n not in names},
        }
        print(f"\n== {tname}: {len(train_raw)} train rows, {len(train_n.columns)} columns, "
              f"target {table.rule}, TRTR AUC {trtr:.3f}", flush=True)
        for name in names:
            per_seed = []
            for seed in args.seeds:
                try:
                    rows, info = run_method(name, table, paths, train_raw, schema, spec, seed, args)
                    if rows is not None:
                        info.update(score(table, schema, train_raw, train_n, hold_n, rows))
                except Exception as e:  # scoring a strange output must not stop the benchmark
                    info = {"error": f"scoring failed: {type(e).__name__}: {e}"[:500],
                            "trace": traceback.format_exc()[-1500:]}
                info["seed"] = seed
                per_seed.append(info)
                _print(name, info)
            entry["runs"][name] = {"dp": is_dp(name), "per_seed": per_seed, **_mean(per_seed),
                                   "commit": prov["commit"], "date": prov["date"]}
            doc["elapsed_s"] = time.perf_counter() - start
            _save(doc, args.json)
    doc["elapsed_s"] = time.perf_counter() - start
    _save(doc, args.json)
    md = markdown(doc)
    print("\n" + md)
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(md)
    print(f"results in {args.json}, table in {args.markdown}")


def _print(name: str, info: dict) -> None:
    if "error" in info:
        print(f"  {name:22s} FAILED: {info['error']}", flush=True)
        return
    v = info["validity"]
    print(f"  {name:22s} fit {info['fit_s']:7.1f} s  2-way {info['2way']:.3f}  "
          f"TSTR {info['tstr_auc']:.3f}  det {info['detection']:.3f}  outside {len(v['outside_domain'])} "
          f"miss {len(v['spurious_missing'])} coll {len(v['collapsed'])} "
          f"lost {v['lost_categories']} bin {len(v['binary_lost'])}", flush=True)


def _save(doc: dict, path: Path) -> None:
    # a table skipped by one run (../shared absent) and measured by another is not skipped
    doc["skipped"] = [s for s in doc.get("skipped", []) if s.split(":")[0] not in doc["tables"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str))
    tmp.replace(path)


# ------------------------------------------------------------------ the markdown table
def _label(name: str) -> str:
    return PEER_LABELS.get(name, f"lookalike {name}")


def _validity_cell(r: dict) -> str:
    v = r["validity"]
    parts = []
    if v["outside_domain"]:
        parts.append(f"outside {len(v['outside_domain'])} (max {v['max_outside_domain']:.1%})")
    if v["spurious_missing"]:
        parts.append(f"+missing {len(v['spurious_missing'])} (max {v['max_spurious_missing']:.1%})")
    if v["collapsed"]:
        parts.append(f"collapsed {len(v['collapsed'])}")
    if v["lost_categories"]:
        parts.append(f"lost {v['lost_categories']}")
    if v["binary_lost"]:
        parts.append(f"binary {len(v['binary_lost'])}")
    return "; ".join(parts) or "ok"


def _ok(r: dict | None) -> bool:
    return r is not None and "error" not in r


def targets(doc: dict) -> list[str]:
    """The issue's targets, checked on the tables of this run (a missing run is not a pass)."""
    out = ["## Targets of issue 17 on this run", ""]
    ours = set(lookalike.available())
    fails = [f"{tn}/{n}" for tn, t in doc["tables"].items() for n, r in t["runs"].items()
             if n in ours and "error" in r]
    out.append(f"- lookalike runs that failed: {len(fails)}" + (f" ({', '.join(fails)})" if fails else ""))
    bad = []
    for tn, t in doc["tables"].items():
        if t["n_train"] < 1000:
            continue
        for n in ("mst", "aim", "privbayes"):
            r = t["runs"].get(n)
            if not _ok(r):
                continue
            v = r["validity"]
            broken = [k for k in ("spurious_missing", "collapsed") if v[k]]
            if "outside_values" in r:  # runs recorded before these keys: the stricter rules
                broken += [f"{k} ({', '.join(r[k])})" for k in ("outside_values", "binary_lost_10")
                           if r[k]]
            else:
                broken += [k for k in ("outside_domain", "binary_lost") if v[k]]
            if broken:
                bad.append(f"{tn}/{n}: {', '.join(broken)}")
    out.append("- validity of mst, aim, privbayes on tables of >= 1,000 training rows (no "
               "collapsed column, no spurious missing values, no code or category the real "
               "column lacks, binary columns with a minority of 10% or more keep both values): "
               + ("holds" if not bad else "broken in " + "; ".join(bad)))
    aim_bad, aim_auc = [], []
    for tn, t in doc["tables"].items():
        aim = t["runs"].get("aim")
        if not _ok(aim):
            continue
        for p in DP_PEERS:
            if _ok(t["runs"].get(p)) and t["runs"][p]["2way"] <= aim["2way"]:
                aim_bad.append(f"{tn} ({p} {t['runs'][p]['2way']:.3f} <= aim {aim['2way']:.3f})")
        if t["trtr_auc"] >= 0.70 and aim["tstr_auc"] < 0.55:
            aim_auc.append(f"{tn} ({aim['tstr_auc']:.3f})")
    out.append("- aim's 2-way TVD below every DP peer's: "
               + ("yes" if not aim_bad else "no on " + "; ".join(aim_bad)))
    held, compared = [], False
    for tn, t in doc["tables"].items():
        for p in DP_PEERS:  # aim given the facts this peer reads from the private rows
            ours = "aim+domain" if p == "datasynthesizer" else "aim+bounds"
            aim = t["runs"].get(ours)
            if not (_ok(aim) and _ok(t["runs"].get(p))):
                continue
            compared = True
            if t["runs"][p]["2way"] <= aim["2way"]:
                held.append(f"{tn} ({p} {t['runs'][p]['2way']:.3f} <= {ours} {aim['2way']:.3f})")
    if compared:
        out.append("- the same with each peer's favour declared for aim too (aim+bounds against "
                   "OpenDP MST and AIM, aim+domain against DataSynthesizer): "
                   + ("yes" if not held else "no on " + "; ".join(held)))
    out.append("- aim's TSTR AUC >= 0.55 where TRTR >= 0.70: "
               + ("yes" if not aim_auc else "no on " + "; ".join(aim_auc)))
    cart_bad, neural_bad = [], []
    for tn, t in doc["tables"].items():
        c, ref = t["runs"].get("cart"), t["runs"].get("reference-cart")
        if _ok(c) and _ok(ref) and c["2way"] > ref["2way"] + 0.01:
            cart_bad.append(f"{tn} ({c['2way']:.3f} vs {ref['2way']:.3f})")
        for a, b in (("tvae", "sdv-tvae"), ("ctgan", "sdv-ctgan")):
            x, y = t["runs"].get(a), t["runs"].get(b)
            if _ok(x) and _ok(y) and x["tstr_auc"] < y["tstr_auc"] - 0.03:
                neural_bad.append(f"{tn}/{a} ({x['tstr_auc']:.3f} vs {y['tstr_auc']:.3f})")
    out.append("- cart within 0.01 of the reference CART's 2-way TVD (or below): "
               + ("yes" if not cart_bad else "no on " + "; ".join(cart_bad)))
    out.append("- tvae and ctgan within 0.03 of SDV's TSTR AUC (or above): "
               + ("yes" if not neural_bad else "no on " + "; ".join(neural_bad)))
    return out + [""]


def _commits(doc: dict, table: dict) -> str:
    """Where a table's methods were measured at another commit than the run's: which and when."""
    by: dict[str, list] = {}
    for n, r in table["runs"].items():
        by.setdefault(r.get("commit", table.get("commit", doc["commit"])), []).append((n, r))
    if set(by) == {doc["commit"]}:
        return ""
    parts = []
    for commit, measured in by.items():
        dates = sorted(r["date"][:10] for _, r in measured if r.get("date"))
        when = f" ({dates[0]})" if dates else ""
        parts.append(f"at commit `{commit[:12]}`{when}: " + ", ".join(_label(n) for n, _ in measured))
    return " Measured " + "; ".join(parts) + "."


def _spread(run: dict) -> str:
    """" ± sd" of one fit's 2-way TVD over a run's seeds (ddof 1), or "" for a single seed."""
    values = [r["2way"] for r in run.get("per_seed", ()) if "error" not in r and "2way" in r]
    return f" ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else ""


def markdown(doc: dict) -> str:
    dirty = " (working tree dirty)" if doc["dirty"] else ""
    lines = [
        "# Many tables: every synthesizer with its defaults",
        "",
        f"Commit `{doc['commit'][:12]}`{dirty}, {doc['date']}, {doc['machine']}; epsilon = "
        f"{doc['epsilon']:g} for DP methods (delta default), seeds {doc['seeds']}"
        + (", **--quick** (2 epochs for neural models)" if doc["quick"] else "")
        + f"; neural models fit on at most {doc['neural_rows']:,} training rows; "
        f"{doc['timeout_s']:.0f} s at most per run; "
        f"{doc.get('elapsed_s', 0) / 60:.0f} minutes in all.",
        "",
        doc.get("reproduce") or (
            "Reproduce: `.venv/bin/python benchmarks/many_tables.py` (all tables, all methods; "
            "see its docstring for the options and the protocol). Numbers: "
            "`benchmarks/results/many_tables.json`."),
        "",
        "Columns: fit seconds; mean TVD of 1-, 2- and 3-way marginals (lower is better; the "
        "2-way's ± is the standard deviation of one fit over the seeds, which are independent "
        "DP draws: a mean of k fits moves by about ±/√k); "
        "TSTR ROC AUC on the real holdout (TRTR in the table's heading); detection AUC "
        "(0.5: indistinguishable); validity: columns with values outside the real domain "
        "(max share), columns with spurious missing values above 0.1% (max excess), columns "
        "collapsed to one value, real categories of 1% or more lost, two-valued columns that "
        "lost a value. Rows marked 'declared' give lookalike what a peer reads from the real "
        "rows without noise, as public facts: the OpenDP peers the range of each many-valued "
        "numeric column ('the peers' bounds'), DataSynthesizer every column's categories or "
        "range ('DataSynthesizer's domain').",
        "",
    ]
    if doc["skipped"]:
        lines += ["Skipped: " + "; ".join(doc["skipped"]), ""]
    failures = []
    for tname, t in doc["tables"].items():
        lines += [
            f"## {tname}: {t['n_train']:,} training rows, {t['columns']} columns",
            "",
            f"{t['source']}; target `{t['target']}`, TRTR AUC {t['trtr_auc']:.3f}; {t['notes']}."
            + _commits(doc, t),
            "",
            "| method | DP | fit s | 1-way | 2-way | 3-way | TSTR AUC | detection | validity |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for name, r in t["runs"].items():
            dp = "ε" if r["dp"] else ""
            if "error" in r:
                failures.append(f"{tname} / {name}: {r['error']}")
                lines.append(f"| {_label(name)} | {dp} | failed | | | | | | |")
                continue
            cap = f" ({r['fit_rows']:,} rows)" if r.get("fit_rows") else ""
            if len(r.get("per_seed", ())) > 1:
                cap += f" (mean of {len(r['per_seed'])} seeds)"
            lines.append(
                f"| {_label(name)}{cap} | {dp} | {r['fit_s']:.1f} | {r['1way']:.3f} | "
                f"{r['2way']:.3f}{_spread(r)} | {r['3way']:.3f} | {r['tstr_auc']:.3f} | "
                f"{r['detection']:.3f} | {_validity_cell(r)} |"
            )
        lines.append("")
    lines += targets(doc)
    lines += ["## Failures", ""]
    lines += [f"- {f}" for f in failures] or ["None."]
    lines += ["", "## Validity violations of the DP synthesizers, per table", ""]
    for tname, t in doc["tables"].items():
        for name, r in t["runs"].items():
            if r["dp"] and "error" not in r and r["violations"]:
                cols = ", ".join(f"{c} ({', '.join(v)})" for c, v in r["violations"].items())
                lines.append(f"- {tname} / {_label(name)}: {cols}")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
