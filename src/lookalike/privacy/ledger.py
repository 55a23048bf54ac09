"""The persistent privacy ledger: per-dataset budgets and every release made against them.

One SQLite file per workspace (default ``~/.lookalike/ledger.sqlite``, or ``$LOOKALIKE_HOME``,
or an explicit path). Each dataset is named by the user and fingerprinted by content; it has a
total limit in (ε, δ), held as the zCDP budget ρ that implies it. A spend is checked and
recorded in one ``BEGIN IMMEDIATE`` transaction, so two processes can never both spend the last
of a budget. Releases that are not zCDP (DP-SGD) are recorded as a Rényi-DP curve on
:data:`~lookalike.privacy.accountant.RDP_ORDERS` (``rdp=``, with ``rho=0``); once a dataset has
such a release its budget check composes every release as an RDP curve (ρ-zCDP as ``ρα``) and
converts the total to (ε, δ) at the limit's ε (conservative on the grid). DP fits reserve their whole cost *before* reading any data; the reservation stays
charged even if the fit fails afterwards (the data may already have been touched).

>>> import tempfile, pathlib
>>> ledger = PrivacyLedger(pathlib.Path(tempfile.mkdtemp()) / "ledger.sqlite")
>>> ledger.set_limit("adult", epsilon=2.0, delta=1e-9)
>>> entry = ledger.spend("adult", rho=0.01, mechanism="mst", detail="fit")
>>> round(ledger.status("adult").rho_spent, 4)
0.01
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lookalike.errors import BudgetExceededError, ConfigError
from lookalike.privacy.accountant import (
    RDP_ORDERS,
    check_epsilon_delta,
    delta_from_rdp,
    delta_from_rho,
    epsilon_from_rdp,
    epsilon_from_rho,
    rho_from_epsilon_delta,
)

__all__ = ["BudgetStatus", "LedgerEntry", "PrivacyLedger", "default_ledger_path", "fingerprint"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT PRIMARY KEY,
    fingerprint TEXT,
    epsilon REAL NOT NULL,
    delta REAL NOT NULL,
    rho_limit REAL NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset TEXT NOT NULL REFERENCES datasets(name),
    time REAL NOT NULL,
    mechanism TEXT NOT NULL,
    rho REAL NOT NULL,
    epsilon REAL,
    delta REAL,
    model_file TEXT,
    detail TEXT,
    steps TEXT,
    delta_approx REAL NOT NULL DEFAULT 0,
    rdp TEXT
);
"""


def default_ledger_path() -> Path:
    """``$LOOKALIKE_HOME/ledger.sqlite``, else ``~/.lookalike/ledger.sqlite``."""
    home = os.environ.get("LOOKALIKE_HOME")
    base = Path(home) if home else Path.home() / ".lookalike"
    return base / "ledger.sqlite"


def fingerprint(path_or_bytes: str | os.PathLike | bytes) -> str:
    """SHA-256 of a file's bytes (or of bytes given), to recognise a dataset by content."""
    h = hashlib.sha256()
    if isinstance(path_or_bytes, bytes):
        h.update(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class LedgerEntry:
    """One release recorded against a dataset."""

    id: int
    dataset: str
    time: float
    mechanism: str
    rho: float
    epsilon: float | None
    delta: float | None
    model_file: str | None
    detail: str
    steps: list


@dataclass(frozen=True)
class BudgetStatus:
    """A dataset's limit, what is spent and what is left, in ρ and as ε at the limit's δ."""

    dataset: str
    epsilon_limit: float
    delta: float
    rho_limit: float
    rho_spent: float
    fingerprint: str | None
    delta_approx_spent: float = 0.0
    rdp_spent: tuple | None = None
    """Sum of the RDP curves of non-zCDP releases (on RDP_ORDERS); None when there are none."""

    @property
    def rho_remaining(self) -> float:
        return max(0.0, self.rho_limit - self.rho_spent)

    @property
    def epsilon_spent(self) -> float:
        delta = max(self.delta - self.delta_approx_spent, 1e-300)
        if self.rdp_spent is not None:
            return epsilon_from_rdp(_total_curve(self.rho_spent, self.rdp_spent), delta)
        if self.rho_spent <= 0:
            return 0.0
        return epsilon_from_rho(self.rho_spent, delta)


class PrivacyLedger:
    """Per-dataset budgets and releases in one SQLite file, safe across processes."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_ledger_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)
            cols = {r[1] for r in con.execute("PRAGMA table_info(releases)")}
            if "delta_approx" not in cols:  # ledgers written before approximate-zCDP releases
                con.execute("ALTER TABLE releases ADD COLUMN delta_approx REAL NOT NULL DEFAULT 0")
            if "rdp" not in cols:  # ledgers written before Renyi-DP (DP-SGD) releases
                con.execute("ALTER TABLE releases ADD COLUMN rdp TEXT")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            con.execute("PRAGMA busy_timeout = 60000")
            yield con
        finally:
            con.close()

    # ------------------------------------------------------------------ limits
    def set_limit(self, dataset: str, *, epsilon: float, delta: float) -> None:
        """Set (or change) a dataset's total limit; it may not drop below what is spent."""
        _check_name(dataset)
        check_epsilon_delta(epsilon, delta)
        rho_limit = rho_from_epsilon_delta(epsilon, delta)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                spent = _spent(con, dataset)
                if spent > rho_limit * (1 + 1e-12):
                    raise BudgetExceededError(
                        f"dataset {dataset!r} has already spent rho={spent:.6g} "
                        f"(epsilon={epsilon_from_rho(spent, delta):.4g} at delta={delta:g}); "
                        f"a limit of epsilon={epsilon:g} is below that"
                    )
                con.execute(
                    "INSERT INTO datasets(name, fingerprint, epsilon, delta, rho_limit, created) "
                    "VALUES (?, NULL, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                    "epsilon=excluded.epsilon, delta=excluded.delta, rho_limit=excluded.rho_limit",
                    (dataset, float(epsilon), float(delta), rho_limit, time.time()),
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def status(self, dataset: str) -> BudgetStatus:
        """Limit and spending of ``dataset``; raises ConfigError if it has no limit yet."""
        with self._connect() as con:
            row = _limit_row(con, dataset, self.path)
            return BudgetStatus(
                dataset, row[0], row[1], row[2], _spent(con, dataset), row[3], _delta_spent(con, dataset),
                _rdp_spent(con, dataset),
            )

    def datasets(self) -> list[str]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY name")]

    # ------------------------------------------------------------------ spending
    def spend(
        self,
        dataset: str,
        *,
        rho: float,
        mechanism: str,
        epsilon: float | None = None,
        delta: float | None = None,
        model_file: str | None = None,
        detail: str = "",
        steps: list | None = None,
        data_fingerprint: str | None = None,
        delta_approx: float = 0.0,
        rdp: list[float] | None = None,
    ) -> LedgerEntry:
        """Atomically check that ``rho`` fits in what is left and record the release.

        ``delta_approx`` is the δ of approximate-zCDP parts (thresholded category discovery):
        the releases together must satisfy Σδ_approx + δ(Σρ, ε_limit) ≤ δ_limit.
        ``rdp`` is the Rényi-DP curve (on ``RDP_ORDERS``) of a release that is not zCDP, such as
        DP-SGD; it adds to ``rho`` (usually 0 then) as ``ρα + rdp``, and the check becomes
        Σδ_approx + δ_RDP(total curve, ε_limit) ≤ δ_limit.
        Raises BudgetExceededError naming spent, requested and limit when it does not fit;
        nothing is recorded then.
        """
        rdp = _valid_release(rho, rdp, delta_approx)
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                fp = _check_fits(con, dataset, rho, rdp, delta_approx, self.path)
                if data_fingerprint is not None:
                    if fp is None:
                        con.execute(
                            "UPDATE datasets SET fingerprint = ? WHERE name = ?",
                            (data_fingerprint, dataset),
                        )
                    elif fp != data_fingerprint:
                        raise ConfigError(
                            f"dataset {dataset!r} was registered with other content "
                            f"(fingerprint {fp[:12]}…, now {data_fingerprint[:12]}…); "
                            "use a new dataset name for new data"
                        )
                now = time.time()
                cur = con.execute(
                    "INSERT INTO releases(dataset, time, mechanism, rho, epsilon, delta, "
                    "model_file, detail, steps, delta_approx, rdp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (dataset, now, mechanism, float(rho), epsilon, delta, model_file, detail,
                     json.dumps(steps or []), float(delta_approx),
                     None if rdp is None else json.dumps(rdp)),
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return LedgerEntry(
            int(cur.lastrowid), dataset, now, mechanism, float(rho), epsilon, delta, model_file,
            detail, list(steps or []),
        )

    def check(self, dataset: str, *, rho: float, rdp: list[float] | None = None,
              delta_approx: float = 0.0) -> None:
        """Raise BudgetExceededError, as :meth:`spend` would, if this release does not fit; record nothing.

        For refusing a fit before it reads any data; :meth:`spend` still checks atomically.
        """
        rdp = _valid_release(rho, rdp, delta_approx)
        with self._connect() as con:
            _check_fits(con, dataset, rho, rdp, delta_approx, self.path)

    def attach_model(self, entry_id: int, model_file: str) -> None:
        """Record the model file a release produced (known only after the fit)."""
        with self._connect() as con:
            con.execute("UPDATE releases SET model_file = ? WHERE id = ?", (model_file, entry_id))

    def annotate(self, entry_id: int, *, steps: list) -> None:
        """Record the steps (each release of the fit, with its cost) once the fit is done."""
        with self._connect() as con:
            con.execute("UPDATE releases SET steps = ? WHERE id = ?", (json.dumps(steps), entry_id))

    def releases(self, dataset: str) -> list[LedgerEntry]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT id, dataset, time, mechanism, rho, epsilon, delta, model_file, detail, steps "
                "FROM releases WHERE dataset = ? ORDER BY id",
                (dataset,),
            ).fetchall()
        return [LedgerEntry(*r[:9], json.loads(r[9] or "[]")) for r in rows]


def _limit_row(con: sqlite3.Connection, dataset: str, path) -> tuple:
    """(ε limit, δ limit, ρ limit, fingerprint) of ``dataset``; ConfigError naming the fix if it has none."""
    row = con.execute(
        "SELECT epsilon, delta, rho_limit, fingerprint FROM datasets WHERE name = ?",
        (dataset,),
    ).fetchone()
    if row is None:
        raise ConfigError(
            f"dataset {dataset!r} has no privacy budget in {path}; set one with "
            f"`lookalike budget {dataset} --set-epsilon 1 --delta 1e-9`"
        )
    return row


def _valid_release(rho: float, rdp, delta_approx: float) -> list[float] | None:
    if rdp is not None:
        rdp = [float(r) for r in rdp]
        if len(rdp) != len(RDP_ORDERS) or any(not r >= 0 for r in rdp):
            raise ConfigError(f"rdp must list {len(RDP_ORDERS)} values >= 0, one per order of RDP_ORDERS")
    if not (rho >= 0):
        raise ConfigError(f"rho must be >= 0, got {rho!r}")
    if not (0 <= delta_approx < 1):
        raise ConfigError(f"delta_approx must lie in [0, 1), got {delta_approx!r}")
    return rdp


def _check_fits(con: sqlite3.Connection, dataset: str, rho: float, rdp, delta_approx: float,
                path) -> str | None:
    """The dataset's data fingerprint; BudgetExceededError if the release does not fit."""
    eps_limit, lim_delta, rho_limit, fp = _limit_row(con, dataset, path)
    spent = _spent(con, dataset)
    d_spent = _delta_spent(con, dataset) + float(delta_approx)
    over = spent + rho > rho_limit * (1 + 1e-12)
    rdp_old = _rdp_spent(con, dataset)
    if (rdp is not None or rdp_old is not None) and not over:
        curve = _total_curve(spent + rho, rdp_old, rdp)
        over = d_spent + delta_from_rdp(curve, eps_limit) > lim_delta * (1 + 1e-9)
    elif d_spent > 0 and not over:
        over = d_spent + delta_from_rho(spent + rho, eps_limit) > lim_delta * (1 + 1e-9)
    if over:
        raise BudgetExceededError(
            f"privacy budget of dataset {dataset!r} exceeded: spent "
            f"epsilon={_spent_epsilon(spent, rdp_old, lim_delta):.4g} "
            f"(rho={spent:.6g}), this fit requests rho={rho:.6g}"
            f"{' plus a Renyi-DP curve' if rdp is not None else ''}, limit "
            f"epsilon={eps_limit:g} at delta={lim_delta:g} (rho={rho_limit:.6g}); "
            "raise the limit with `lookalike budget` or use another dataset name"
        )
    return fp


def _spent(con: sqlite3.Connection, dataset: str) -> float:
    (total,) = con.execute(
        "SELECT COALESCE(SUM(rho), 0) FROM releases WHERE dataset = ?", (dataset,)
    ).fetchone()
    return float(total)


def _rdp_spent(con: sqlite3.Connection, dataset: str) -> tuple | None:
    rows = con.execute(
        "SELECT rdp FROM releases WHERE dataset = ? AND rdp IS NOT NULL", (dataset,)
    ).fetchall()
    if not rows:
        return None
    total = [0.0] * len(RDP_ORDERS)
    for (text,) in rows:
        total = [t + float(r) for t, r in zip(total, json.loads(text), strict=True)]
    return tuple(total)


def _total_curve(rho: float, *curves) -> list[float]:
    """ρα plus the given RDP curves (None entries skipped), on RDP_ORDERS."""
    total = [rho * a for a in RDP_ORDERS]
    for c in curves:
        if c is not None:
            total = [t + float(r) for t, r in zip(total, c, strict=True)]
    return total


def _spent_epsilon(rho: float, rdp: tuple | None, delta: float) -> float:
    if rdp is not None:
        return epsilon_from_rdp(_total_curve(rho, rdp), delta)
    return epsilon_from_rho(rho, delta) if rho else 0.0


def _delta_spent(con: sqlite3.Connection, dataset: str) -> float:
    (total,) = con.execute(
        "SELECT COALESCE(SUM(delta_approx), 0) FROM releases WHERE dataset = ?", (dataset,)
    ).fetchone()
    return float(total)


def _check_name(dataset: str) -> None:
    if not isinstance(dataset, str) or not dataset.strip():
        raise ConfigError(f"a dataset needs a non-empty name, got {dataset!r}")
