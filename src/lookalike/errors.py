"""Every exception lookalike raises on bad input.

All derive from :class:`LookalikeError`; most also derive from a built-in (``ValueError``,
``FileNotFoundError``, ...) so ordinary ``except`` clauses keep working. Messages name the
file, column, row or option at fault and say what to do about it.

Tree::

    LookalikeError
    ├── DataError (ValueError)                 the input table cannot be used as it is
    │   ├── EmptyDataError                     empty file, header only, too few rows
    │   ├── DuplicateColumnError               two columns share a name
    │   ├── EncodingError                      bytes that are not valid text in the encoding
    │   ├── MixedTypesError                    numbers and text in one column
    │   ├── NonFiniteError                     inf / NaN values in a numeric column
    │   ├── ColumnError                        a column that cannot be modelled as it is
    │   ├── ColumnMismatchError                two tables that should share columns do not
    │   └── HoldoutOverlapError                a "holdout" holding the training rows themselves
    ├── SourceNotFoundError (FileNotFoundError) missing file, table or database
    ├── SourceReadError (OSError)              an input that exists but cannot be read
    ├── UnknownFormatError (ValueError)        a source or output format we cannot read/write
    ├── OutputExistsError (FileExistsError)    refusing to overwrite without ``overwrite=True``
    ├── OutputPathError (OSError)              an output whose folder cannot be created or written
    ├── SchemaError (ValueError)               an invalid or inconsistent schema
    ├── ModelFileError (ValueError)            a corrupt, foreign or incompatible model file
    ├── ConfigError (ValueError)               an invalid option or hyper-parameter
    │   └── TargetError                        audit target rows that are not in the table
    ├── ConditionError (ValueError)            conditions for sampling that cannot be met
    ├── BudgetExceededError (ValueError)       a DP fit would spend more than the budget left
    ├── LedgerError (RuntimeError)             the privacy ledger file cannot be used (locked, not a ledger)
    └── NotFittedError (RuntimeError)          sample/save called before fit
"""

from __future__ import annotations

__all__ = [
    "BudgetExceededError",
    "ColumnError",
    "ColumnMismatchError",
    "ConditionError",
    "ConfigError",
    "DataError",
    "DuplicateColumnError",
    "EmptyDataError",
    "EncodingError",
    "HoldoutOverlapError",
    "LedgerError",
    "LookalikeError",
    "MixedTypesError",
    "ModelFileError",
    "NonFiniteError",
    "NotFittedError",
    "OutputExistsError",
    "OutputPathError",
    "SchemaError",
    "SourceNotFoundError",
    "SourceReadError",
    "TargetError",
    "UnknownFormatError",
]


class LookalikeError(Exception):
    """Root of every error lookalike raises on purpose."""


class DataError(LookalikeError, ValueError):
    """The input table cannot be used as it is."""


class EmptyDataError(DataError):
    """The table is empty, has only a header, or has too few rows to model."""


class DuplicateColumnError(DataError):
    """Two or more columns share one name."""


class EncodingError(DataError):
    """The file holds bytes that are not valid in the expected text encoding."""


class MixedTypesError(DataError):
    """One column holds both numbers and text."""


class NonFiniteError(DataError):
    """A numeric column holds infinite or NaN values (missing values must be empty/null)."""


class ColumnError(DataError):
    """A column cannot be modelled as it is (integers beyond 64 bits declared integer, no column left
    to model, a column the schema names but the table lacks)."""


class ColumnMismatchError(DataError):
    """Two tables that must share their columns (real vs synthetic, train vs holdout) do not."""


class HoldoutOverlapError(DataError):
    """A holdout shares more exact rows with the real (training) table than chance explains:
    it is not held out, and the utility test or the attacks measured on it would mislead."""


class SourceNotFoundError(LookalikeError, FileNotFoundError):
    """A file, database or table named as a source does not exist."""


class SourceReadError(LookalikeError, OSError):
    """An input that exists but cannot be read (no permission, a pipe or device, an I/O error)."""


class UnknownFormatError(LookalikeError, ValueError):
    """A source or output whose format lookalike cannot read or write."""


class OutputExistsError(LookalikeError, FileExistsError):
    """The output exists and ``overwrite`` was not asked for."""


class OutputPathError(LookalikeError, OSError):
    """An output path whose folder cannot be created or written (a file in the way, no access)."""


class SchemaError(LookalikeError, ValueError):
    """A schema that is invalid or does not fit the data."""


class ModelFileError(LookalikeError, ValueError):
    """A model file that is corrupt, foreign or written by an incompatible version."""


class ConfigError(LookalikeError, ValueError):
    """An option or hyper-parameter outside its valid range."""


class ConditionError(LookalikeError, ValueError):
    """Sampling conditions that name unknown columns or values, or cannot be met."""


class NotFittedError(LookalikeError, RuntimeError):
    """``sample`` or ``save`` was called on a synthesizer that has not been fitted."""


class BudgetExceededError(LookalikeError, ValueError):
    """A differentially private step would spend more privacy budget than remains."""


class LedgerError(LookalikeError, RuntimeError):
    """The privacy ledger file cannot be used: a folder, not a ledger, not writable, or locked."""


class TargetError(ConfigError):
    """Audit targets named by row number that are not rows of the table (or named twice)."""
