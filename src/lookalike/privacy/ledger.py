"""The persistent privacy ledger: per-dataset budgets and every release made against them.

One SQLite file per workspace (default ``~/.lookalike/ledger.sqlite``, or ``$LOOKALIKE_HOME``,
or an explicit path). Each dataset is named by the user and recognised by its content (a
:class:`~lookalike.privacy.fingerprint.DataFingerprint`); it has a total limit in (ε, δ), held
as the zCDP budget ρ that implies it.

A DP fit :meth:`~PrivacyLedger.reserve`\\ s its whole cost in one ``BEGIN IMMEDIATE``
transaction *before* reading any data (so two processes can never both spend the last of a
budget, and a refused run registers nothing), then :meth:`~PrivacyLedger.settle`\\ s it to the
releases it made. A failed fit stays charged: the data may already have been read.

Costs compose as approximate zCDP: Σρ plus Σδ_approx (thresholded category discovery). Releases
that are not zCDP (DP-SGD) are Rényi-DP curves on
:data:`~lookalike.privacy.accountant.RDP_ORDERS`; once a dataset has one, every release is
composed as a curve (ρ-zCDP as ``ρα``). A dataset's budget holds while
``Σδ_approx + δ(composed releases, ε_limit) ≤ δ_limit``; its *spent ε* is the ε at which that δ
equals the limit's: the same number in refusals, ``status`` and ``lookalike budget``.

The fingerprint guards against honest mistakes, not against evasion: the same table under a
second name, re-exported, with a column dropped or a few rows edited is recognised; data
altered to evade it, ledgers on other machines and a deleted ledger file are not.

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
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from lookalike.errors import BudgetExceededError, ConfigError, LedgerError
from lookalike.privacy.accountant import (
    RDP_ORDERS,
    check_epsilon_delta,
    delta_from_rdp,
    delta_from_rho,
    epsilon_from_rdp,
    epsilon_from_rho,
    rho_from_epsilon_delta,
)
from lookalike.privacy.fingerprint import DataFingerprint

__all__ = [
    "LOCK_TIMEOUT_S",
    "BudgetStatus",
    "LedgerEntry",
    "PrivacyLedger",
    "default_ledger_path",
    "fingerprint",
    "spent_epsilon",
    "used_delta",
]

LOCK_TIMEOUT_S = 60.0
"""Seconds to wait for another process's transaction on the ledger before giving up."""

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
    rdp TEXT,
    status TEXT
);
"""
# columns added after the first ledgers were written: (name, SQL type)
_ADDED = (("delta_approx", "REAL NOT NULL DEFAULT 0"), ("rdp", "TEXT"), ("status", "TEXT"))
_ENTRY_COLUMNS = ("id, dataset, time, mechanism, rho, epsilon, delta, model_file, detail, steps, "
                  "delta_approx, rdp, status")


def default_ledger_path() -> Path:
    """``$LOOKALIKE_HOME/ledger.sqlite``, else ``~/.lookalike/ledger.sqlite``."""
    home = os.environ.get("LOOKALIKE_HOME")
    base = Path(home) if home else Path.home() / ".lookalike"
    return base / "ledger.sqlite"


def fingerprint(path_or_bytes: str | os.PathLike[str] | bytes) -> str:
    """SHA-256 of a file's bytes (or of bytes given): the ledger's fingerprint before content
    fingerprints (:mod:`lookalike.privacy.fingerprint`); :meth:`PrivacyLedger.spend` takes it."""
    h = hashlib.sha256()
    if isinstance(path_or_bytes, bytes):
        h.update(path_or_bytes)
    else:
        with open(path_or_bytes, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------- accounting
def _total_curve(rho: float, *curves: Sequence[float] | None) -> list[float]:
    """ρα plus the given RDP curves (None entries skipped), on RDP_ORDERS."""
    total = [rho * a for a in RDP_ORDERS]
    for c in curves:
        if c is not None:
            total = [t + float(r) for t, r in zip(total, c, strict=True)]
    return total


def spent_epsilon(rho: float, rdp: Sequence[float] | None, delta_approx: float,
                  delta: float) -> float:
    """ε that releases of total cost (ρ, RDP curve or None, Σδ_approx) spend at δ = ``delta``.

    Their δ_approx is part of ``delta``: the zCDP/RDP part converts at ``delta − δ_approx``
    (infinite when δ_approx uses up ``delta``). The one definition of spent ε in lookalike.
    """
    left = delta - delta_approx
    if left <= 0:
        return math.inf
    if rdp is not None:
        return epsilon_from_rdp(_total_curve(rho, rdp), left)
    return epsilon_from_rho(rho, left) if rho > 0 else 0.0


def used_delta(rho: float, rdp: Sequence[float] | None, delta_approx: float,
               epsilon: float) -> float:
    """δ that releases of total cost (ρ, RDP curve or None, Σδ_approx) use at ε = ``epsilon``."""
    if rdp is not None:
        return delta_approx + delta_from_rdp(_total_curve(rho, rdp), epsilon)
    return delta_approx + (delta_from_rho(rho, epsilon) if rho > 0 else 0.0)


@dataclass(frozen=True)
class LedgerEntry:
    """One release recorded against a dataset (a whole fit, its releases in ``steps``).

    ``epsilon``/``delta`` are what the fit asked for; its cost is ``rho``, ``delta_approx`` and,
    for DP-SGD, the RDP curve ``rdp``; ``epsilon_cost`` is that cost alone as ε at the
    dataset's δ. ``status``: ``reserved`` (the fit is running or died unsettled), ``done`` or
    ``failed: <reason>`` (still charged).
    """

    id: int
    dataset: str
    time: float
    mechanism: str
    rho: float
    epsilon: float | None
    delta: float | None
    model_file: str | None
    detail: str
    steps: list[dict[str, Any]]
    delta_approx: float = 0.0
    rdp: tuple[float, ...] | None = None
    status: str = "done"
    dataset_delta: float | None = None
    """The dataset's δ limit, at which ``epsilon_cost`` is given."""

    @property
    def epsilon_cost(self) -> float | None:
        """This release's cost alone as ε at the dataset's δ (None if the dataset has no limit).

        Releases compose to less than the sum of their ε: the dataset's spent ε is
        :attr:`BudgetStatus.epsilon_spent`, not this summed.
        """
        if self.dataset_delta is None:
            return None
        return spent_epsilon(self.rho, self.rdp, self.delta_approx, self.dataset_delta)


@dataclass(frozen=True)
class BudgetStatus:
    """A dataset's limit and what its releases spent, in ρ and as ε at the limit's δ."""

    dataset: str
    epsilon_limit: float
    delta: float
    rho_limit: float
    rho_spent: float
    fingerprint: DataFingerprint | None
    delta_approx_spent: float = 0.0
    rdp_spent: tuple[float, ...] | None = None
    """Sum of the RDP curves of non-zCDP releases (on RDP_ORDERS); None when there are none."""

    @property
    def rho_remaining(self) -> float:
        return max(0.0, self.rho_limit - self.rho_spent)

    @property
    def epsilon_spent(self) -> float:
        """ε the releases spend together at the limit's δ (see :func:`spent_epsilon`)."""
        return spent_epsilon(self.rho_spent, self.rdp_spent, self.delta_approx_spent, self.delta)

    @property
    def delta_spent(self) -> float:
        """δ the releases use together at the limit's ε: Σδ_approx plus the δ of the composed
        zCDP/RDP costs at ``epsilon_limit``. The budget holds while this is ≤ ``delta``."""
        return used_delta(self.rho_spent, self.rdp_spent, self.delta_approx_spent,
                          self.epsilon_limit)

    def fits(self, *, rho: float, rdp: Sequence[float] | None = None,
             delta_approx: float = 0.0) -> bool:
        """Whether one more release of this cost stays within the limit (the ledger's check)."""
        total = self.rho_spent + rho
        if total > self.rho_limit * (1 + 1e-12):
            return False
        d_approx = self.delta_approx_spent + delta_approx
        if rdp is not None or self.rdp_spent is not None:
            return used_delta(total, _total_curve(0.0, self.rdp_spent, rdp), d_approx,
                              self.epsilon_limit) <= self.delta * (1 + 1e-9)
        if d_approx > 0:
            return used_delta(total, None, d_approx, self.epsilon_limit) <= self.delta * (1 + 1e-9)
        return True

    def epsilon_next(self, *, delta: float | None = None,
                     plan: Callable[[float, float], tuple[float, float]] | None = None) -> float:
        """The largest ε a next fit at ``delta`` (default: the limit's δ) can still spend.

        ``plan(ε, δ)`` gives the (ρ, δ_approx) a fit at (ε, δ) reserves (default: pure zCDP,
        ``(rho_from_epsilon_delta(ε, δ), 0)``; DP fits use
        :func:`lookalike.privacy.budget.plan_budget`). Found by bisection with :meth:`fits`;
        0 when no fit can be paid for.
        """
        delta = self.delta if delta is None else delta
        plan = plan or (lambda e, d: (rho_from_epsilon_delta(e, d), 0.0))

        def ok(eps: float) -> bool:
            try:
                rho, d_approx = plan(eps, delta)
            except ConfigError:  # an ε too small to plan for
                return False
            return self.fits(rho=rho, delta_approx=d_approx)

        lo, hi = 0.0, self.epsilon_limit
        while ok(hi):  # a plan at another δ may pass the limit's ε
            lo, hi = hi, 2 * hi
            if hi > 1e6:
                return lo
        if not ok(hi * 1e-9):
            return 0.0
        lo = max(lo, hi * 1e-9)
        while hi - lo > 1e-7 * hi:
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if ok(mid) else (lo, mid)
        return lo


class PrivacyLedger:
    """Per-dataset budgets and releases in one SQLite file, safe across processes.

    Raises :class:`~lookalike.errors.LedgerError` when the file cannot be used (a folder, not
    a ledger, not writable, or locked by another process for over :data:`LOCK_TIMEOUT_S`).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_ledger_path()
        if self.path.is_dir():
            raise LedgerError(f"the privacy ledger path {self.path} is a folder; give a file path "
                              f"such as {self.path / 'ledger.sqlite'} (--ledger)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LedgerError(
                f"cannot create the folder {self.path.parent} for the privacy ledger "
                f"({e.strerror or e}); give a ledger path in a writable folder (--ledger, or "
                "$LOOKALIKE_HOME)") from None
        with self._connect() as con:
            found = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = {r[0] for r in found}
            if tables - {"sqlite_sequence"} and "datasets" not in tables:
                raise LedgerError(
                    f"{self.path} is an SQLite database but not a lookalike privacy ledger (its "
                    f"tables: {', '.join(sorted(tables))}); give another ledger path (--ledger)")
            con.executescript(_SCHEMA)
            cols = {r[1] for r in con.execute("PRAGMA table_info(releases)")}
            for name, sql_type in _ADDED:  # ledgers written by earlier versions
                if name not in cols:
                    con.execute(f"ALTER TABLE releases ADD COLUMN {name} {sql_type}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection; every sqlite3 error inside becomes a LedgerError that says what to do."""
        try:
            con = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as e:
            raise _ledger_error(e, self.path) from None
        try:
            con.execute(f"PRAGMA busy_timeout = {int(LOCK_TIMEOUT_S * 1000)}")
            yield con
        except sqlite3.Error as e:
            raise _ledger_error(e, self.path) from None
        finally:
            con.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, nothing written on error."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ limits
    def set_limit(self, dataset: str, *, epsilon: float, delta: float) -> None:
        """Set (or change) a dataset's total limit; it may not drop below what is spent."""
        _check_name(dataset)
        check_epsilon_delta(epsilon, delta)
        rho_limit = rho_from_epsilon_delta(epsilon, delta)
        with self._transaction() as con:
            st = _status(con, dataset, (float(epsilon), float(delta), rho_limit, None))
            if not st.fits(rho=0.0):
                raise BudgetExceededError(
                    f"dataset {dataset!r} has already spent epsilon={st.epsilon_spent:.4g} at "
                    f"delta={delta:g} (rho={st.rho_spent:.6g}); a limit of epsilon={epsilon:g} "
                    "is below that"
                )
            con.execute(
                "INSERT INTO datasets(name, fingerprint, epsilon, delta, rho_limit, created) "
                "VALUES (?, NULL, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "epsilon=excluded.epsilon, delta=excluded.delta, rho_limit=excluded.rho_limit",
                (dataset, float(epsilon), float(delta), rho_limit, time.time()),
            )

    def status(self, dataset: str) -> BudgetStatus:
        """Limit and spending of ``dataset``; raises ConfigError if it has no limit yet."""
        with self._connect() as con:
            return _status(con, dataset, _limit_row(con, dataset, self.path))

    def epsilon_next(self, dataset: str, *, delta: float | None = None,
                     plan: Callable[[float, float], tuple[float, float]] | None = None) -> float:
        """The largest ε a next fit on ``dataset`` can spend (:meth:`BudgetStatus.epsilon_next`)."""
        return self.status(dataset).epsilon_next(delta=delta, plan=plan)

    def datasets(self) -> list[str]:
        with self._connect() as con:
            return [r[0] for r in con.execute("SELECT name FROM datasets ORDER BY name")]

    # ------------------------------------------------------------------ spending
    def check(self, dataset: str, *, rho: float, rdp: list[float] | None = None,
              delta_approx: float = 0.0, register: tuple[float, float] | None = None) -> None:
        """Raise BudgetExceededError, as :meth:`reserve` would, if this release does not fit;
        record nothing.

        For refusing a fit before it reads any data. A dataset the ledger does not know is a
        ConfigError, unless ``register=(ε, δ)``: then the release is checked against that
        would-be limit.
        """
        rdp = _valid_release(rho, rdp, delta_approx)
        with self._connect() as con:
            limit = _find_limit(con, dataset)
            if limit is None:
                if register is None:
                    raise _no_limit(dataset, self.path)
                _check_name(dataset)
                check_epsilon_delta(*register)
                limit = (float(register[0]), float(register[1]),
                         rho_from_epsilon_delta(*register), None)
            _check_fits(_status(con, dataset, limit), rho, rdp, delta_approx)

    def reserve(
        self,
        dataset: str,
        *,
        rho: float,
        delta_approx: float = 0.0,
        rdp: list[float] | None = None,
        mechanism: str,
        epsilon: float,
        delta: float,
        detail: str = "",
        fingerprint: DataFingerprint | None = None,
        register: bool = False,
    ) -> LedgerEntry:
        """Charge a fit's whole cost before it reads its data, in one transaction.

        With ``register`` a dataset the ledger does not know gets (``epsilon``, ``delta``) as
        its limit, inside the same transaction. ``fingerprint`` (the data's content) must match
        the dataset's registered content and no other dataset's (ConfigError otherwise); the
        first fit records it. Then the budget is checked as :meth:`check` does and the release
        recorded with status ``reserved``; :meth:`settle` completes it. Nothing is written if
        anything is refused.
        """
        rdp = _valid_release(rho, rdp, delta_approx)
        if fingerprint is not None and not isinstance(fingerprint, DataFingerprint):
            raise ConfigError(
                f"fingerprint must be a DataFingerprint, got {type(fingerprint).__name__}")
        with self._transaction() as con:
            if register and _find_limit(con, dataset) is None:
                _check_name(dataset)
                check_epsilon_delta(epsilon, delta)
                con.execute(
                    "INSERT INTO datasets(name, fingerprint, epsilon, delta, rho_limit, created) "
                    "VALUES (?, NULL, ?, ?, ?, ?)",
                    (dataset, float(epsilon), float(delta),
                     rho_from_epsilon_delta(epsilon, delta), time.time()),
                )
            limit = _limit_row(con, dataset, self.path)
            if fingerprint is not None:
                _check_fingerprint(con, dataset, fingerprint, limit[3])
            _check_fits(_status(con, dataset, limit), rho, rdp, delta_approx,
                        asked=(epsilon, delta))
            return _insert(con, dataset, mechanism, rho, epsilon, delta, None, detail, [],
                           delta_approx, rdp, "reserved", limit[1])

    def settle(self, entry_id: int, *, rho: float | None = None, rdp: list[float] | None = None,
               steps: list[dict[str, Any]], status: str = "done",
               model_file: str | None = None) -> None:
        """Complete a reserved release once its fit has ended.

        Records ``steps`` (each release of the fit with its cost) and ``status`` (``done`` or
        ``failed: <reason>``). When ``rho`` or ``rdp`` is given the reserved cost is replaced
        by the fit's actual one, ``rho`` (0 if None) plus the RDP curve ``rdp`` (a DP-SGD fit
        reserves its (ε, δ) as ρ and settles to its discovery ρ plus its training's curve);
        otherwise, as for a failed fit, the reservation stays charged. The actual cost is
        recorded as it is, even above the reservation: the fit has run.
        """
        if status != "done" and not (isinstance(status, str) and status.startswith("failed")):
            raise ConfigError(f"status must be 'done' or 'failed: <reason>', got {status!r}")
        replace = rho is not None or rdp is not None
        new_rho = 0.0 if rho is None else rho
        if replace:
            rdp = _valid_release(new_rho, rdp, 0.0)
        with self._transaction() as con:
            row = con.execute("SELECT status FROM releases WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                raise ConfigError(f"no release #{entry_id} in the privacy ledger {self.path}")
            if row[0] != "reserved":
                raise ConfigError(f"release #{entry_id} is not reserved (its status: "
                                  f"{row[0] or 'done'}); only a reservation can be settled")
            con.execute("UPDATE releases SET steps = ?, status = ? WHERE id = ?",
                        (json.dumps(steps), status, entry_id))
            if replace:
                con.execute("UPDATE releases SET rho = ?, rdp = ? WHERE id = ?",
                            (float(new_rho), None if rdp is None else json.dumps(rdp), entry_id))
            if model_file is not None:
                con.execute("UPDATE releases SET model_file = ? WHERE id = ?",
                            (str(model_file), entry_id))

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
        steps: list[dict[str, Any]] | None = None,
        data_fingerprint: DataFingerprint | str | None = None,
        delta_approx: float = 0.0,
        rdp: list[float] | None = None,
    ) -> LedgerEntry:
        """Atomically check that a release fits in what is left and record it as done.

        ``delta_approx`` is the δ of approximate-zCDP parts (thresholded category discovery);
        ``rdp`` the Rényi-DP curve (on ``RDP_ORDERS``) of a release that is not zCDP, such as
        DP-SGD, adding to ``rho`` (usually 0 then) as ``ρα + rdp``. ``data_fingerprint`` is
        checked as in :meth:`reserve` (a SHA-256 string, from :func:`fingerprint`, is compared
        only with an earlier string). Raises BudgetExceededError naming spent, requested and
        limit when it does not fit; nothing is recorded then.
        """
        rdp = _valid_release(rho, rdp, delta_approx)
        with self._transaction() as con:
            limit = _limit_row(con, dataset, self.path)
            if isinstance(data_fingerprint, DataFingerprint):
                _check_fingerprint(con, dataset, data_fingerprint, limit[3])
            elif data_fingerprint is not None:
                _check_file_digest(con, dataset, str(data_fingerprint), limit[3])
            _check_fits(_status(con, dataset, limit), rho, rdp, delta_approx)
            return _insert(con, dataset, mechanism, rho, epsilon, delta, model_file, detail,
                           steps or [], delta_approx, rdp, "done", limit[1])

    def attach_model(self, entry_id: int, model_file: str) -> None:
        """Record the model file a release produced (known only after the fit)."""
        with self._connect() as con:
            con.execute("UPDATE releases SET model_file = ? WHERE id = ?", (model_file, entry_id))

    def annotate(self, entry_id: int, *, steps: list[dict[str, Any]]) -> None:
        """Record the steps (each release of the fit, with its cost) once the fit is done."""
        with self._connect() as con:
            con.execute("UPDATE releases SET steps = ? WHERE id = ?", (json.dumps(steps), entry_id))

    def releases(self, dataset: str) -> list[LedgerEntry]:
        """Every release against ``dataset``, oldest first (none for an unknown dataset)."""
        with self._connect() as con:
            limit = _find_limit(con, dataset)
            rows = con.execute(
                f"SELECT {_ENTRY_COLUMNS} FROM releases WHERE dataset = ? ORDER BY id", (dataset,)
            ).fetchall()
        return [_entry(r, None if limit is None else limit[1]) for r in rows]


# ---------------------------------------------------------------------- rows
def _entry(r: tuple[Any, ...], dataset_delta: float | None) -> LedgerEntry:
    rdp = None if r[11] is None else tuple(float(v) for v in json.loads(r[11]))
    return LedgerEntry(r[0], r[1], r[2], r[3], float(r[4]), r[5], r[6], r[7], r[8] or "",
                       json.loads(r[9] or "[]"), float(r[10] or 0.0), rdp, r[12] or "done",
                       dataset_delta)


def _insert(con: sqlite3.Connection, dataset: str, mechanism: str, rho: float,
            epsilon: float | None, delta: float | None, model_file: str | None, detail: str,
            steps: list[dict[str, Any]], delta_approx: float, rdp: list[float] | None,
            status: str, dataset_delta: float) -> LedgerEntry:
    now = time.time()
    cur = con.execute(
        "INSERT INTO releases(dataset, time, mechanism, rho, epsilon, delta, model_file, detail, "
        "steps, delta_approx, rdp, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (dataset, now, mechanism, float(rho), epsilon, delta, model_file, detail,
         json.dumps(steps), float(delta_approx), None if rdp is None else json.dumps(rdp), status),
    )
    row_id = cast(int, cur.lastrowid)  # int after an INSERT; None only before any
    return LedgerEntry(int(row_id), dataset, now, mechanism, float(rho), epsilon, delta,
                       model_file, detail, list(steps), float(delta_approx),
                       None if rdp is None else tuple(rdp), status, dataset_delta)


_Limit = tuple[float, float, float, str | None]
"""A dataset's row: (ε limit, δ limit, ρ limit, stored fingerprint text or None)."""


def _find_limit(con: sqlite3.Connection, dataset: str) -> _Limit | None:
    """(ε limit, δ limit, ρ limit, stored fingerprint text) of ``dataset``, None if unknown."""
    row: _Limit | None = con.execute(
        "SELECT epsilon, delta, rho_limit, fingerprint FROM datasets WHERE name = ?", (dataset,)
    ).fetchone()
    return row


def _no_limit(dataset: str, path: Path) -> ConfigError:
    return ConfigError(
        f"dataset {dataset!r} has no privacy budget in {path}; set one with "
        f"`lookalike budget {dataset} --set-epsilon 1 --delta 1e-9`"
    )


def _limit_row(con: sqlite3.Connection, dataset: str, path: Path) -> _Limit:
    """:func:`_find_limit`, or a ConfigError naming the fix when the dataset has no limit."""
    row = _find_limit(con, dataset)
    if row is None:
        raise _no_limit(dataset, path)
    return row


def _status(con: sqlite3.Connection, dataset: str, limit: _Limit) -> BudgetStatus:
    rho, d_approx = con.execute(
        "SELECT COALESCE(SUM(rho), 0), COALESCE(SUM(delta_approx), 0) FROM releases "
        "WHERE dataset = ?", (dataset,)
    ).fetchone()
    curves = con.execute(
        "SELECT rdp FROM releases WHERE dataset = ? AND rdp IS NOT NULL", (dataset,)
    ).fetchall()
    rdp = None
    if curves:
        rdp = tuple(_total_curve(0.0, *(json.loads(text) for (text,) in curves)))
    return BudgetStatus(dataset, limit[0], limit[1], limit[2], float(rho),
                        _parse_fingerprint(limit[3]), float(d_approx), rdp)


def _valid_release(rho: float, rdp: Sequence[float] | None,
                   delta_approx: float) -> list[float] | None:
    curve = None if rdp is None else [float(r) for r in rdp]
    if curve is not None:
        if len(curve) != len(RDP_ORDERS) or any(not (0 <= r < math.inf) for r in curve):
            raise ConfigError(f"rdp must list {len(RDP_ORDERS)} finite values >= 0, one per order "
                              "of RDP_ORDERS")
    if not (isinstance(rho, (int, float)) and 0 <= rho < math.inf):
        raise ConfigError(f"rho must be a finite number >= 0, got {rho!r}")
    if not (isinstance(delta_approx, (int, float)) and 0 <= delta_approx < 1):
        raise ConfigError(f"delta_approx must lie in [0, 1), got {delta_approx!r}")
    return curve


def _check_fits(st: BudgetStatus, rho: float, rdp: Sequence[float] | None, delta_approx: float,
                asked: tuple[float, float] | None = None) -> None:
    """BudgetExceededError, naming spent, requested and limit, if the release does not fit."""
    if st.fits(rho=rho, rdp=rdp, delta_approx=delta_approx):
        return
    fit = f" (epsilon={asked[0]:g}, delta={asked[1]:g})" if asked else ""
    extra = " plus a Renyi-DP curve" if rdp is not None else ""
    if delta_approx:
        extra += f" and delta={delta_approx:.3g} for thresholded discovery"
    raise BudgetExceededError(
        f"privacy budget of dataset {st.dataset!r} exceeded: spent "
        f"epsilon={st.epsilon_spent:.4g} (rho={st.rho_spent:.6g}), this fit{fit} requests "
        f"rho={rho:.6g}{extra}, limit epsilon={st.epsilon_limit:g} at delta={st.delta:g} "
        f"(rho={st.rho_limit:.6g}); `lookalike budget {st.dataset}` shows the largest epsilon a "
        f"next fit can spend; raise the limit with `lookalike budget {st.dataset} --set-epsilon "
        "...` or fit with a smaller epsilon"
    )


# ---------------------------------------------------------------------- content
def _parse_fingerprint(text: str | None) -> DataFingerprint | None:
    """The stored content fingerprint; None when there is none or only an old file SHA-256."""
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        return DataFingerprint.from_json(text)
    except ValueError:
        return None


def _check_fingerprint(con: sqlite3.Connection, dataset: str, fp: DataFingerprint,
                       stored: str | None) -> None:
    """Refuse data registered under another name, or other data under this name; record the
    first fit's fingerprint (it is never updated, so small edits cannot accumulate).

    ``stored``: the dataset's fingerprint text as read in this transaction (its limit row)."""
    own = _parse_fingerprint(stored)
    if own is not None and own.same_data(fp):
        return
    for name, text in con.execute(
        "SELECT name, fingerprint FROM datasets WHERE name != ? ORDER BY created", (dataset,)
    ):
        other = _parse_fingerprint(text)
        if other is not None and other.same_data(fp):
            raise ConfigError(
                f"this table is dataset {name!r} in the privacy ledger (same content: "
                f"{other.describe(fp)}); fit with --dataset {name} (dataset={name!r}) so its "
                "budget applies"
            )
    if own is not None:
        raise ConfigError(
            f"dataset {dataset!r} was registered with other content ({own.describe(fp)}); a "
            "dataset name keeps one table's budget. If this is genuinely different data (not an "
            "edit or export of that table), give it a name of its own (--dataset)"
        )
    con.execute("UPDATE datasets SET fingerprint = ? WHERE name = ?", (fp.to_json(), dataset))


def _check_file_digest(con: sqlite3.Connection, dataset: str, digest: str,
                       stored: str | None) -> None:
    """The check for callers that still pass a file SHA-256: equal to an earlier one, if any."""
    if stored is None:
        con.execute("UPDATE datasets SET fingerprint = ? WHERE name = ?", (digest, dataset))
    elif _parse_fingerprint(stored) is None and stored != digest:
        raise ConfigError(
            f"dataset {dataset!r} was registered with another file (SHA-256 {stored[:12]}…, now "
            f"{digest[:12]}…); if this is genuinely different data, give it a name of its own"
        )


def _check_name(dataset: str) -> None:
    if not isinstance(dataset, str) or not dataset.strip():
        raise ConfigError(f"a dataset needs a non-empty name, got {dataset!r}")


def _ledger_error(e: sqlite3.Error, path: Path) -> LedgerError:
    text = str(e)
    if "locked" in text:
        return LedgerError(
            f"the privacy ledger {path} is locked: another lookalike process holds it (waited "
            f"{LOCK_TIMEOUT_S:g} s); retry when that process has finished")
    if "not a database" in text:
        return LedgerError(
            f"{path} is not a lookalike privacy ledger ({text}); move it away or give another "
            "ledger path (--ledger, or $LOOKALIKE_HOME)")
    if "unable to open" in text or "readonly" in text:
        return LedgerError(
            f"cannot open the privacy ledger {path} for writing ({text}); check that its folder "
            "exists and is writable, or give another ledger path (--ledger, or $LOOKALIKE_HOME)")
    return LedgerError(f"the privacy ledger {path} could not be read or written ({text}); if the "
                       "file is damaged, restore it from a backup")
