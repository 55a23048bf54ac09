"""Neural generators on Adult: lookalike's ctgan, tvae (no DP) and dpctgan, dptvae, pategan at
(epsilon, delta) = (1, 1e-9), against, with --peers, SDV's CTGAN and TVAE and smartnoise-synth's
DP-CTGAN and PATE-CTGAN at epsilon = 1, each in its own virtualenv (benchmarks/.venvs/NAME).

    .venv/bin/python benchmarks/neural.py [--only NAME ...] [--peers] [--epochs N] [--dp-epochs N]
        [--seed 0 | --seeds S ...] [--epsilon 1|none] [--repeat N] [--device auto] [--set NAME.PARAM=JSON ...]
        [--no-quality] [--json PATH]
    .venv/bin/python benchmarks/neural.py --epoch-pair 5 25 --repeat 3 [--device cuda]
        [--sdv-python PATH]

NAMEs: ctgan, tvae, dpctgan, dptvae, pategan (lookalike), sdv-ctgan, sdv-tvae,
smartnoise-dpctgan, smartnoise-patectgan.

Protocol: benchmarks/_protocol.py (80/20 split with seed 0; TVD on the real training data's 20
quantile bins; gradient-boosting AUC on the real holdout; detection AUC). Every method fits and
samples in a child process of its own. Speed is seconds per epoch = training seconds / epochs run
(training only: SDV's preprocess() and our encoder fit are excluded, our per-epoch
validation signal included), so compare ours with SDV's only within one run on one machine (--epochs 5 --no-quality gives a
quick like-for-like timing). SDV fits its mode-specific normaliser inside training, so its
training seconds carry a fixed cost that ours do not; ``--epoch-pair A B`` removes every fixed
cost from both: each method fits with A and with B epochs (timings only) and the per-epoch cost
is (training seconds at B - training seconds at A) / (B - A): the training's own timer, ours
the network's training, SDV's fit_processed_data (its normaliser's fit, a fixed cost, included
at A and at B), so that the noise of our encoder's fit does not enter the difference; fit seconds
are recorded too. ``--repeat N`` runs N rounds, each with every
method at A and at B in turn (so a slow spell of the machine hits ours and SDV's alike), and
quotes the median of the N per-round speed-ups. SDV trains on the GPU when ``--device`` allows one
(its ``enable_gpu``), as ours does. Results merge into --json (default
benchmarks/results/neural.json, or neural_gpu.json when a GPU is used), keyed by method; epoch
pairs into neural_epoch_pair.json (neural_epoch_pair_gpu.json), keyed by "A B".
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

import numpy as np
from _peers import ensure_venv, run_script
from _protocol import code_version, load_adult, machine, quality, split

RESULTS = Path(__file__).resolve().parent / "results"
OURS = ("ctgan", "tvae", "dpctgan", "dptvae", "pategan")
DP_METHODS = ("dpctgan", "dptvae", "pategan", "smartnoise-dpctgan", "smartnoise-patectgan")

_OURS = """
import os, torch
torch.set_num_threads(int(os.environ.get("NEURAL_THREADS", torch.get_num_threads())))
import lookalike
from lookalike.synthesizers import get_synthesizer
params = {params!r}
model = get_synthesizer({name!r}, **params)
t = time.perf_counter()
model.fit(train, seed=seed, **({{"epsilon": epsilon, "delta": delta}} if {dp!r} and epsilon is not None else {{}}))
fit_s = time.perf_counter() - t
t = time.perf_counter(); synth = model.sample(len(train), seed=seed); sample_s = time.perf_counter() - t
tr = model.training_
info.update(epochs=tr.get("epochs"), stopped_early=tr.get("stopped_early"), steps=tr.get("steps"),
            device=tr.get("device"), train_s=getattr(model, "train_seconds_", None),
            loss_tail={{k: v[-3:] for k, v in tr.get("loss", {{}}).items()}},
            epsilon_spent=model.privacy_.epsilon_spent)
"""

_SDV = """
from sdv.metadata import Metadata
from sdv.single_table import {cls}
meta = Metadata.detect_from_dataframe(train)
model = {cls}(meta, epochs={epochs}, enable_gpu={gpu})
t = time.perf_counter(); processed = model.preprocess(train); prep_s = time.perf_counter() - t
t = time.perf_counter(); model.fit_processed_data(processed); train_s = time.perf_counter() - t
fit_s = prep_s + train_s
t = time.perf_counter(); synth = model.sample(len(train)); sample_s = time.perf_counter() - t
info.update(epochs={epochs}, train_s=train_s, device=str(model._model._device))
"""

_SMARTNOISE = """
from snsynth import Synthesizer
model = Synthesizer.create({name!r}, epsilon=epsilon, {extra})
t = time.perf_counter()
model.fit(train, categorical_columns=categorical, continuous_columns=numeric, preprocessor_eps=0.1 * epsilon)
fit_s = time.perf_counter() - t
t = time.perf_counter(); synth = model.sample(len(train)); sample_s = time.perf_counter() - t
info.update(epochs={epochs})
"""


def runs(args) -> dict:
    dp_params = {"epochs": args.dp_epochs, "device": args.device}
    ours = {
        "ctgan": ({"epochs": args.epochs, "device": args.device, "batch_size": 500}, False),
        "tvae": ({"epochs": args.epochs, "device": args.device, "batch_size": 500}, False),
        "dpctgan": ({**dp_params, "batch_size": 500}, True),
        "dptvae": ({**dp_params, "batch_size": 500}, True),
        "pategan": ({"device": args.device}, True),
    }
    for name, param, value in _overrides(args):
        ours[name][0][param] = json.loads(value)
    table = {
        name: (sys.executable, _OURS.format(name=name, params=p, dp=dp)) for name, (p, dp) in ours.items()
    }
    gpu = args.device != "cpu"  # SDV's enable_gpu: the GPU when torch sees one, as our 'auto'
    table["sdv-ctgan"] = ("sdv", _SDV.format(cls="CTGANSynthesizer", epochs=args.epochs, gpu=gpu))
    table["sdv-tvae"] = ("sdv", _SDV.format(cls="TVAESynthesizer", epochs=args.epochs, gpu=gpu))
    table["smartnoise-dpctgan"] = ("smartnoise", _SMARTNOISE.format(
        name="dpctgan", extra=f"epochs={args.dp_epochs}, verbose=False", epochs=args.dp_epochs))
    table["smartnoise-patectgan"] = ("smartnoise", _SMARTNOISE.format(
        name="patectgan", extra="verbose=False", epochs=None))
    return table


def _overrides(args) -> list[tuple[str, str, str]]:
    """(NAME, PARAM, JSON text) of each ``--set NAME.PARAM=JSON``, e.g. dptvae.batch_size=2000."""
    out = []
    for item in args.set or []:
        key, value = item.split("=", 1)
        name, param = key.split(".", 1)
        out.append((name, param, value))
    return out


def _interpreter(python, args):
    """The Python that runs a method: ours, or a peer's own virtualenv (``--sdv-python``: one
    given, e.g. where no virtualenv can be installed)."""
    if python == "sdv":
        return args.sdv_python or ensure_venv(python)
    if python == "smartnoise":
        return Path(__file__).parent / ".venvs/smartnoise/bin/python"
    return python


def _summary(each: list[dict]) -> dict:
    """Runs of one method (``--repeat``): the mean of each number at the top, its spread under
    ``sd`` (sample standard deviation) and every run under ``runs``."""
    keys = [k for k, v in each[0].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    out = {k: float(np.mean([e[k] for e in each])) for k in keys}
    out["sd"] = {k: float(np.std([e[k] for e in each], ddof=1)) for k in keys}
    return {**out, "runs": each, "device": each[0].get("device")}


def _provenance() -> dict:
    """What a result was measured by: this command, the code's commit and the machine."""
    return {"command": "python " + shlex.join(sys.argv), "code": code_version(), "machine": machine(gpu=True)}


def _epsilon(text: str) -> float | None:
    return None if text.lower() == "none" else float(text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    names = [*OURS, "sdv-ctgan", "sdv-tvae", "smartnoise-dpctgan", "smartnoise-patectgan"]
    ap.add_argument("--only", nargs="+", metavar="NAME", choices=names)
    ap.add_argument("--peers", action="store_true", help="also run SDV and smartnoise in their own venvs")
    ap.add_argument("--epochs", type=int, default=300, help="epochs of ctgan, tvae and SDV's (default 300)")
    ap.add_argument("--dp-epochs", type=int, default=30, help="epochs of the DP-SGD fits (default 30)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, nargs="+", metavar="S",
                    help="fit each method once per seed (their mean and spread); replaces --seed")
    ap.add_argument("--epsilon", type=_epsilon, default=1.0,
                    help="of the DP methods (default 1); 'none' fits them without DP (pategan: exact votes)")
    ap.add_argument("--delta", type=float, default=1e-9)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--set", nargs="+", metavar="NAME.PARAM=JSON", help="override a hyper-parameter of ours")
    ap.add_argument("--no-quality", action="store_true", help="timings only (skip the metrics)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--epoch-pair", nargs=2, type=int, metavar=("A", "B"),
                    help="per-epoch cost without fixed costs: fit with A and B epochs, timings only")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each method (their mean and spread), or rounds of --epoch-pair (medians)")
    ap.add_argument("--sdv-python", default=None,
                    help="a Python with SDV installed (default: benchmarks/.venvs/sdv, made on first use)")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error(f"--repeat needs at least 1 run, got {args.repeat}")
    if args.seeds and args.epoch_pair:
        ap.error("--seeds is for quality runs; --epoch-pair takes --seed")
    if args.epoch_pair:
        return epoch_pair(args)

    chosen = list(args.only) if args.only else list(OURS) + (names[len(OURS):] if args.peers else [])
    train, holdout = split(load_adult())
    table = runs(args)
    results = {}
    for name in chosen:
        python, body = table[name]
        python = _interpreter(python, args)
        each = []
        seeds = [seed for seed in (args.seeds or [args.seed]) for _ in range(args.repeat)]
        for k, seed in enumerate(seeds):
            print(f"running {name} …" + (f" ({k + 1} of {len(seeds)}, seed {seed})" if len(seeds) > 1 else ""),
                  flush=True)
            try:
                synth, info = run_script(python, body, train, seed, args.epsilon, args.delta)
                info["seed"] = seed
            except Exception as e:  # a failing peer is reported, not fatal
                print(f"  {name} failed: {e}")
                each = [{"error": str(e)}]
                break
            if info.get("epochs"):  # training seconds per epoch (preprocessing excluded, for both)
                info["fit_s_per_epoch"] = info["fit_s"] / info["epochs"]
                info["s_per_epoch"] = (info.get("train_s") or info["fit_s"]) / info["epochs"]
            if not args.no_quality:
                info.update(quality(synth, train, holdout))
            each.append(info)
            print("  " + json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in info.items()
                                     if k != "loss_tail"}), flush=True)
        results[name] = each[0] if len(each) == 1 else _summary(each)
    print(f"\nAdult, 80/20 split (seed 0), fit seed(s) {args.seeds or args.seed}, {machine(gpu=True)}\n")
    print("| method | epochs | fit s | s/epoch | 2-way TVD | AUC | detection |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        if "error" in r:
            print(f"| {name} | failed | | | | | |")
            continue
        f = lambda k, d=3, r=r: "" if r.get(k) is None else f"{r[k]:.{d}f}"  # noqa: E731
        epochs = f"{r['epochs']:g}" if r.get("epochs") else ""
        print(f"| {name} | {epochs} | {f('fit_s', 0)} | {f('s_per_epoch', 2)} | "
              f"{f('2way')} | {f('auc')} | {f('detection')} |")
    for a, b in (("ctgan", "sdv-ctgan"), ("tvae", "sdv-tvae")):
        if "s_per_epoch" in results.get(a, {}) and "s_per_epoch" in results.get(b, {}):
            print(f"per-epoch speed-up {a} vs {b}: {results[b]['s_per_epoch'] / results[a]['s_per_epoch']:.2f}x")

    gpu = any(str(r.get("device", "")).startswith("cuda") for r in results.values())
    path = args.json or RESULTS / ("neural_gpu.json" if gpu else "neural.json")
    old = json.loads(path.read_text()) if path.exists() else {}
    old.setdefault("machine", {})
    for name, r in results.items():
        sets = [f"{param}={value}" for who, param, value in _overrides(args) if who == name]
        if name in DP_METHODS and args.epsilon != 1.0:  # kept apart from the epsilon = 1 figures
            name = f"{name}, epsilon={args.epsilon}"
        if sets:  # and runs with other hyper-parameters apart from the defaults' figures
            name = f"{name} ({' '.join(sets)})"
        old[name] = {**({"set": sets} if sets else {}), **r, **_provenance(), "seed": args.seeds or args.seed, "epochs_arg": args.epochs,
                     "dp_epochs_arg": args.dp_epochs, "epsilon": args.epsilon, "delta": args.delta}
    old["machine"] = machine(gpu=True)
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(old, indent=1, default=lambda o: o.item() if isinstance(o, np.generic) else str(o)))
    print(f"results merged into {path}")


def epoch_pair(args) -> None:
    a, b = args.epoch_pair
    if not 0 < a < b:
        raise SystemExit(f"--epoch-pair needs 0 < A < B, got {a} {b}")
    chosen = list(args.only or ["ctgan", "sdv-ctgan", "tvae", "sdv-tvae"])
    train, _ = split(load_adult())
    rounds: list[dict[str, dict]] = []
    devices: dict[str, str] = {}
    for r in range(args.repeat):
        fits: dict[str, dict[int, tuple[float, float]]] = {}
        for epochs in (a, b):
            args.epochs = args.dp_epochs = epochs
            table = runs(args)
            for name in chosen:
                python, body = table[name]
                _, info = run_script(_interpreter(python, args), body, train, args.seed, args.epsilon, args.delta)
                # the training's own timer (ours: the network's training; SDV's: fit_processed_data,
                # its normaliser's fit included); the fit's when a method has none
                fits.setdefault(name, {})[epochs] = (info.get("train_s") or info["fit_s"], info["fit_s"])
                devices[name] = str(info.get("device"))
                print(f"round {r + 1}/{args.repeat}: {name}, {epochs} epochs on {devices[name]}: "
                      f"training {fits[name][epochs][0]:.1f} s, fit {info['fit_s']:.1f} s", flush=True)
        rounds.append({name: {"train_s": {str(k): v[0] for k, v in f.items()},
                              "fit_s": {str(k): v[1] for k, v in f.items()},
                              "s_per_epoch": (f[b][0] - f[a][0]) / (b - a)} for name, f in fits.items()})
        _pair_summary(args, chosen, rounds, devices)  # after every round: a cut-off run keeps its rounds


def _pair_summary(args, chosen: list[str], rounds: list[dict], devices: dict[str, str]) -> None:
    """Print the rounds so far with their medians and merge them into the epoch-pair results."""
    a, b = args.epoch_pair

    def median(name):
        return statistics.median(rd[name]["s_per_epoch"] for rd in rounds)

    print(f"\nAdult, 80/20 split (seed 0), fit seed {args.seed}, {machine(gpu=True)}; per-epoch cost = "
          f"(training({b}) - training({a})) / {b - a}, {len(rounds)} of {args.repeat} round(s)")
    print("| method | device | s/epoch per round | median |")
    print("|---|---|---|---:|")
    for name in chosen:
        each = ", ".join(f"{rd[name]['s_per_epoch']:.3f}" for rd in rounds)
        print(f"| {name} | {devices[name]} | {each} | {median(name):.3f} |")
    speedups = {}
    for x, y in (("ctgan", "sdv-ctgan"), ("tvae", "sdv-tvae")):
        if x in chosen and y in chosen:
            each = [rd[y]["s_per_epoch"] / rd[x]["s_per_epoch"] for rd in rounds]
            speedups[x] = {"per_round": each, "median": statistics.median(each),
                           "ratio_of_medians": median(y) / median(x)}
            print(f"per-epoch speed-up {x} vs {y}: median {speedups[x]['median']:.2f}x "
                  f"(rounds: {', '.join(f'{v:.2f}' for v in each)}; ratio of medians "
                  f"{speedups[x]['ratio_of_medians']:.2f}x)")
    gpu = any(d.startswith("cuda") for d in devices.values())
    path = args.json or RESULTS / ("neural_epoch_pair_gpu.json" if gpu else "neural_epoch_pair.json")
    old = json.loads(path.read_text()) if path.exists() else {}
    old[f"{a} {b}"] = {**_provenance(), "seed": args.seed, "devices": devices,
                       "rounds": rounds, "median_s_per_epoch": {name: median(name) for name in chosen},
                       "speedup": speedups}
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(old, indent=1))
    print(f"results merged into {path}", flush=True)


if __name__ == "__main__":
    main()
