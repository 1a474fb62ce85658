"""The credit-card fraud data of chapter 4: the real file, a download, a synthetic stand-in,
the tutorial's preprocessing and a stratified split.

The data set (Dal Pozzolo et al., 2015) has 284,807 card transactions made over two days, 492
of them fraudulent. Its columns are ``Time`` (seconds since the first transaction), ``V1`` ...
``V28`` (principal components of features that were not published), ``Amount`` and ``Class``
(1 = fraud). It is the data set of the TensorFlow tutorial "Classification on imbalanced data".

Where the data come from
------------------------
- :func:`load_creditcard` reads a local ``creditcard.csv`` (the real file or any file with its
  columns) and checks it; :func:`find_creditcard` says where it looks.
- :func:`download_creditcard` fetches the public copy into a cache folder (urllib only).
- :func:`make_fraud_like` makes a synthetic data set with the same columns and exactly the
  same class counts, for readers without the file (and for the course's own build).
- :func:`load_fraud_data` is what the chapter calls: the synthetic data unless the reader opts
  in to the real file with the environment variable ``COURSE_USE_REAL_DATA=1``. The default is
  synthetic so that the chapter's stored outputs (which the notebook tests compare) never
  depend on what happens to be on the machine.

Preparing them for a model
--------------------------
- :func:`stratified_split` gives seeded train/validation/test index arrays with the class
  proportions kept in every part (64/16/20 by default, as the tutorial's two 80/20 splits).
- :class:`Preprocessor` drops ``Time``, takes ``log(Amount + 0.001)``, standardises with the
  training split's statistics only and clips to [−5, 5].
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "FEATURE_NAMES", "COLUMNS", "N_POSITIVE", "N_NEGATIVE", "CREDITCARD_URL", "CSV_ENV",
    "DATA_DIR_ENV", "USE_REAL_ENV", "FraudData", "DownloadError", "default_cache_path",
    "find_creditcard", "load_creditcard", "download_creditcard", "make_fraud_like",
    "load_fraud_data", "stratified_split", "Preprocessor",
]

#: The 30 feature columns, in the order of the real file.
FEATURE_NAMES: tuple[str, ...] = ("Time",) + tuple(f"V{i}" for i in range(1, 29)) + ("Amount",)
#: Every column of ``creditcard.csv``: the features, then the label.
COLUMNS: tuple[str, ...] = FEATURE_NAMES + ("Class",)
#: The class counts of the real data set.
N_POSITIVE, N_NEGATIVE = 492, 284_315

#: Where the TensorFlow tutorial downloads the file from.
CREDITCARD_URL = "https://storage.googleapis.com/download.tensorflow.org/data/creditcard.csv"
#: Environment variable naming the CSV file directly.
CSV_ENV = "COURSE_CREDITCARD_CSV"
#: Environment variable naming a folder holding ``creditcard.csv`` (and the download cache).
DATA_DIR_ENV = "COURSE_DATA_DIR"
#: Set to ``1`` to make :func:`load_fraud_data` use the real file when it is found.
USE_REAL_ENV = "COURSE_USE_REAL_DATA"

_FILENAME = "creditcard.csv"


@dataclass(frozen=True)
class FraudData:
    """A fraud data set: features, labels and where they came from.

    X:              float64 array (N, 30), the columns ``FEATURE_NAMES`` (Time ... Amount)
    y:              float64 array (N,), 1.0 for fraud, 0.0 otherwise
    feature_names:  the names of the columns of ``X``
    source:         ``"real"`` (read from a file) or ``"synthetic"`` (from :func:`make_fraud_like`)
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...] = FEATURE_NAMES
    source: str = "synthetic"

    @property
    def n_positive(self) -> int:
        return int(np.sum(self.y == 1))

    @property
    def n_negative(self) -> int:
        return int(np.sum(self.y == 0))

    def __repr__(self) -> str:  # short and deterministic (no array dump, no path)
        return (f"FraudData(source={self.source!r}, N={len(self.y)}, positives={self.n_positive}, "
                f"features={len(self.feature_names)})")


class DownloadError(RuntimeError):
    """The file could not be downloaded or did not pass its integrity checks."""


# ---------------------------------------------------------------------------------------------
# Finding and reading the real file
# ---------------------------------------------------------------------------------------------

def default_cache_path() -> Path:
    """Where the file is cached: ``$COURSE_DATA_DIR/creditcard.csv`` if that variable is set,
    else ``~/.cache/course_lib/creditcard.csv``."""
    folder = os.environ.get(DATA_DIR_ENV)
    base = Path(folder).expanduser() if folder else Path.home() / ".cache" / "course_lib"
    return base / _FILENAME


def find_creditcard() -> Path | None:
    """The first existing file among ``$COURSE_CREDITCARD_CSV`` and :func:`default_cache_path`,
    or None if there is none."""
    candidates = []
    if os.environ.get(CSV_ENV):
        candidates.append(Path(os.environ[CSV_ENV]).expanduser())
    candidates.append(default_cache_path())
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _clean(name: str) -> str:
    return name.strip().strip('"').strip()


def _read_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        first = f.readline()
        if not first.strip():
            if not first and not f.read(1):
                raise ValueError(f"{path.name} is empty: expected a header line with the columns "
                                 f"{', '.join(COLUMNS)}, then one line per transaction")
            raise ValueError(f"{path.name} starts with an empty line; the first line must be the "
                             "header (Time,V1,...,V28,Amount,Class)")
    return [_clean(c) for c in next(csv.reader([first]))]


def _column_order(header: list[str], path: Path) -> list[int]:
    """Position in the file of each column of COLUMNS, or a ValueError naming what is wrong."""
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValueError(f"{path.name} is missing the column(s) {', '.join(missing)}; its header "
                         f"has {', '.join(header) if header else 'no names'}. A creditcard.csv "
                         f"has the columns {COLUMNS[0]}, {COLUMNS[1]}, ..., {COLUMNS[-2]}, {COLUMNS[-1]}")
    duplicated = sorted({c for c in header if header.count(c) > 1 and c in COLUMNS})
    if duplicated:
        raise ValueError(f"{path.name} has the column(s) {', '.join(duplicated)} more than once")
    return [header.index(c) for c in COLUMNS]


def _explain_bad_row(path: Path, header: list[str]) -> ValueError:
    """Scan the file with the csv module to name the first row that cannot be read."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for line, row in enumerate(reader, start=2):
            if not row:
                return ValueError(f"{path.name}, line {line}: empty line in the middle of the data")
            if len(row) != len(header):
                return ValueError(f"{path.name}, line {line}: {len(row)} values, but the header has "
                                  f"{len(header)} columns")
            for name, value in zip(header, row):
                try:
                    float(value)
                except ValueError:
                    return ValueError(f"{path.name}, line {line}, column {name}: {value!r} is not a "
                                      "number")
    return ValueError(f"{path.name} could not be read as numbers")


def load_creditcard(path: str | os.PathLike | None = None) -> FraudData:
    """Read ``creditcard.csv`` and check that it has the expected columns and labels.

    Parameters
    ----------
    path : path-like, optional
        The file. If None: ``$COURSE_CREDITCARD_CSV``, else ``$COURSE_DATA_DIR/creditcard.csv``,
        else ``~/.cache/course_lib/creditcard.csv`` (see :func:`find_creditcard`).

    Returns
    -------
    FraudData
        ``X`` (N, 30) float64 with the columns Time, V1 ... V28, Amount (in that order, whatever
        the order in the file), ``y`` (N,) float64 in {0, 1}, ``source="real"``.

    Raises
    ------
    FileNotFoundError
        If no file is found (the message says where it looked). Use :func:`find_creditcard`
        to test for the file without an exception.
    ValueError
        If the file is empty, lacks a column, holds a value that is not a number (the message
        names the line and column), or has labels other than 0 and 1.

    Numbers may be quoted (the real file writes ``"0"`` and ``"1"`` for Class) or not.
    Reading the real file (150 MB) takes a few seconds.
    """
    if path is None:
        found = find_creditcard()
        if found is None:
            places = ([f"${CSV_ENV}"] if os.environ.get(CSV_ENV) else []) + [str(default_cache_path())]
            raise FileNotFoundError(f"no {_FILENAME} found (looked at {', '.join(places)}). Set "
                                    f"{CSV_ENV} to the file's path, or call download_creditcard()")
        path = found
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (or is not a file)")

    header = _read_header(path)
    order = _column_order(header, path)
    try:
        with warnings.catch_warnings():  # "input contained no data" becomes our own message
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(path, delimiter=",", skiprows=1, quotechar='"', dtype=np.float64,
                               ndmin=2, encoding="utf-8")
    except ValueError:
        raise _explain_bad_row(path, header) from None
    if table.shape[0] == 0:
        raise ValueError(f"{path.name} has a header but no data rows")
    if table.shape[1] != len(header):
        raise _explain_bad_row(path, header)
    table = table[:, order]
    if not np.all(np.isfinite(table)):
        row, col = np.argwhere(~np.isfinite(table))[0]
        raise ValueError(f"{path.name}, line {row + 2}, column {COLUMNS[col]}: {table[row, col]} is "
                         "not a finite number")
    y = table[:, -1]
    bad = (y != 0) & (y != 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{path.name}, line {row + 2}: Class is {y[row]:g}, but labels must be 0 "
                         f"(legitimate) or 1 (fraud); {int(bad.sum())} row(s) have another value")
    return FraudData(X=np.ascontiguousarray(table[:, :-1]), y=y.copy(), source="real")


# ---------------------------------------------------------------------------------------------
# Downloading
# ---------------------------------------------------------------------------------------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, sha256: str | None, expected_counts: tuple[int, int] | None) -> None:
    """Raise DownloadError unless the file has the checksum, or (without one) the schema and
    the class counts (negatives, positives) expected."""
    if sha256 is not None:
        got = _sha256(path)
        if got.lower() != sha256.lower():
            raise DownloadError(f"checksum mismatch: the file's SHA-256 is {got}, expected {sha256}; "
                                "the download is incomplete or a different file")
        return
    try:
        data = load_creditcard(path)
    except ValueError as exc:
        raise DownloadError(f"the downloaded file is not a valid creditcard.csv: {exc}") from None
    if expected_counts is not None:
        counts = (data.n_negative, data.n_positive)
        if counts != tuple(expected_counts):
            raise DownloadError(f"the downloaded file has {counts[0]} legitimate and {counts[1]} "
                                f"fraudulent transactions, expected {expected_counts[0]} and "
                                f"{expected_counts[1]}")


def download_creditcard(url: str = CREDITCARD_URL, dest: str | os.PathLike | None = None, *,
                        sha256: str | None = None,
                        expected_counts: tuple[int, int] | None = (N_NEGATIVE, N_POSITIVE),
                        timeout: float = 60.0, force: bool = False) -> Path:
    """Download ``creditcard.csv`` once, check it and return its path.

    Parameters
    ----------
    url : str
        Where to fetch it; by default :data:`CREDITCARD_URL`, the copy the TensorFlow tutorial
        uses (about 150 MB).
    dest : path-like, optional
        Where to store it; by default :func:`default_cache_path`.
    sha256 : str, optional
        The expected SHA-256 of the file (hex). If given, the file must match it. If None, the
        file is checked instead by reading it: the schema must be right and the class counts
        must equal ``expected_counts``.
    expected_counts : (negatives, positives) or None
        Used only when ``sha256`` is None; None skips the count check (schema still checked).
    timeout : float
        Seconds to wait for the server before giving up.
    force : bool
        Download even if a valid file is already at ``dest``.

    Returns
    -------
    pathlib.Path
        ``dest``. If a valid file is already there, nothing is downloaded (a cache hit).

    Raises
    ------
    DownloadError
        The server cannot be reached (offline?), answers with an HTTP error, or the file fails
        its checks. Nothing is left at ``dest`` in that case: the file is written to a temporary
        name in the same folder and renamed only once it has passed.
    """
    dest = Path(dest) if dest is not None else default_cache_path()
    if dest.is_file() and not force:
        try:
            _verify(dest, sha256, expected_counts)
            return dest
        except DownloadError:
            pass  # a stale or broken file: download again
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for chunk in iter(lambda: response.read(1 << 20), b""):
                        out.write(chunk)
            except urllib.error.HTTPError as exc:
                raise DownloadError(f"the server answered HTTP {exc.code} ({exc.reason}) for {url}; "
                                    "check the address") from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise DownloadError(f"could not reach {url} ({reason}). Are you offline? You can "
                                    f"also download the file by hand and set {CSV_ENV} to its "
                                    "path") from None
        _verify(tmp, sha256, expected_counts)
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


# ---------------------------------------------------------------------------------------------
# The synthetic stand-in
# ---------------------------------------------------------------------------------------------

def make_fraud_like(seed: int = 0, n_negative: int = N_NEGATIVE, n_positive: int = N_POSITIVE) -> FraudData:
    """A synthetic data set with the schema and the class counts of ``creditcard.csv``.

    How it is made (all from ``np.random.default_rng(seed)``):

    - ``V1`` ... ``V28`` of a legitimate transaction: independent, heavy-tailed (Student t with
      5 degrees of freedom) components whose standard deviations fall from 2 to 0.33, like the
      principal components of the real file.
    - A fraud moves away from the legitimate cloud along a fixed direction in ten of the
      components (V1, V3, V4, V7, V10, V11, V12, V14, V16, V17, as in the real data) by a
      random amount, and its components are more spread out. One fraud in five moves only
      a little: they hide among legitimate transactions, so the classes overlap.
    - ``Time``: seconds over two days with fewer transactions at night (frauds are spread more
      evenly); rows are sorted by time, as in the real file.
    - ``Amount``: log-normal (heavy-tailed; log-amount mean 3, sd 1.4 for legitimate
      transactions), rounded to cents, with some zero amounts (0.6 % of all rows); 40 % of
      frauds are tiny (uniform below 2) and the rest come from a larger log-normal (log-amount
      mean 4, sd 1.6).

    Difficulty, measured (seed 0; logistic regression with an L2 penalty of 1e-4, fitted on the
    training rows of the preprocessed 64/16/20 split): a test PR-AUC (average precision) of
    0.655, which ``tests/test_data.py`` holds between 0.55 and 0.8, a test ROC-AUC below 0.99,
    and classes that are not separable. The same fit on the real file was not measured, so this
    docstring makes no claim about how the two compare. Making it takes about a second.

    What it reproduces of ``creditcard.csv``: the row count, the class counts (so the base rate,
    the prior bias and the base-rate entropy are exactly the real file's), the column names and
    order, rows sorted by ``Time``, falling component scales and a heavy-tailed ``Amount``. What
    it does not try to reproduce: how the real frauds differ from legitimate transactions. Here
    the legitimate components are independent and unimodal, and the frauds differ along one
    straight direction (so a linear model ranks about as well as chapter 4's network); the real
    file's per-feature separation, tails and multimodality were not measured for this library.
    Numbers that come out of training on it describe this generator (chapter 4, §The synthetic
    data: what it is, and what it is not).

    Returns
    -------
    FraudData with ``source="synthetic"``.
    """
    for name, value in (("n_negative", n_negative), ("n_positive", n_positive)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    rng = np.random.default_rng(seed)
    n_negative, n_positive = int(n_negative), int(n_positive)
    n = n_negative + n_positive
    d = 28
    scale = 2.0 * (0.33 / 2.0) ** (np.arange(d) / (d - 1))

    df = 5.0
    V = rng.standard_t(df, size=(n, d)) / np.sqrt(df / (df - 2.0))
    is_fraud = np.zeros(n, dtype=bool)
    is_fraud[rng.choice(n, size=n_positive, replace=False)] = True

    # Direction of the fraud shift, in units of each component's standard deviation.
    direction = np.zeros(d)
    for j, v in {1: -1.0, 3: -2.0, 4: 1.8, 7: -1.2, 10: -2.2, 11: 1.6, 12: -2.4, 14: -2.8,
                 16: -1.6, 17: -2.2}.items():
        direction[j - 1] = v
    direction /= np.linalg.norm(direction)
    hidden = rng.random(n_positive) < 0.2
    strength = np.where(hidden, rng.uniform(1.0, 3.5, n_positive), rng.gamma(4.0, 1.6, n_positive))
    spread = 1.0 + 0.4 * rng.random((n_positive, 1))
    V[is_fraud] = V[is_fraud] * spread + strength[:, None] * direction
    V *= scale

    # Time: two days, fewer transactions between midnight and 7 am for legitimate ones.
    seconds = np.arange(2 * 86_400)
    hour = (seconds % 86_400) / 3600.0
    activity = 0.25 + 0.75 / (1.0 + np.exp(-(hour - 8.0) * 1.5)) * (1.0 / (1.0 + np.exp((hour - 23.0) * 1.5)))
    cdf = np.cumsum(activity)
    time = np.searchsorted(cdf, rng.random(n) * cdf[-1]).astype(np.float64)
    time[is_fraud] = rng.integers(0, 2 * 86_400, n_positive)

    # Amount: log-normal; frauds are more often tiny (card testing) or large.
    amount = np.exp(rng.normal(3.0, 1.4, n))
    small = is_fraud & (rng.random(n) < 0.4)
    amount[small] = rng.uniform(0.0, 2.0, small.sum())
    amount[is_fraud & ~small] = np.exp(rng.normal(4.0, 1.6, (is_fraud & ~small).sum()))
    amount[rng.random(n) < 0.006] = 0.0
    amount = np.round(np.minimum(amount, 25_000.0), 2)

    order = np.argsort(time, kind="stable")
    X = np.column_stack([time, V, amount])[order]
    y = is_fraud[order].astype(np.float64)
    return FraudData(X=X, y=y, source="synthetic")


def load_fraud_data(seed: int = 0) -> FraudData:
    """The data chapter 4 runs on: synthetic by default, the real file on request.

    With ``COURSE_USE_REAL_DATA=1`` in the environment and a file found by
    :func:`find_creditcard`, the real file is read; otherwise ``make_fraud_like(seed)``.
    Check ``.source`` to see which one you got. Opting in without a file falls back to the
    synthetic data (with a warning).
    """
    if os.environ.get(USE_REAL_ENV) == "1":
        path = find_creditcard()
        if path is not None:
            return load_creditcard(path)
        warnings.warn(f"{USE_REAL_ENV}=1 but no {_FILENAME} was found; using the synthetic data",
                      stacklevel=2)
    return make_fraud_like(seed)


# ---------------------------------------------------------------------------------------------
# Splitting and preprocessing
# ---------------------------------------------------------------------------------------------

def stratified_split(y, fractions=(0.64, 0.16, 0.2), seed: int = 0) -> tuple[np.ndarray, ...]:
    """Split example indices into parts with the same class proportions, reproducibly.

    Each class is shuffled with ``np.random.default_rng(seed)`` and cut at the cumulative
    fractions (rounded), so every part gets its share of each class to within one example.

    Parameters
    ----------
    y : array_like of shape (N,)
        Labels in {0, 1}.
    fractions : sequence of float
        The size of each part; positive, summing to 1. The default (0.64, 0.16, 0.2) is the
        tutorial's: 80/20 into train+validation and test, then 80/20 again.
    seed : int

    Returns
    -------
    tuple of int64 arrays, one per part, each sorted; together a partition of ``range(N)``.
    """
    from ._validation import as_float_array, check_in_set

    y = as_float_array(y, "y")
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional (one label per example), but has shape {y.shape}")
    check_in_set(y, "y", (0.0, 1.0))
    fr = np.asarray(fractions, dtype=float)
    if fr.ndim != 1 or fr.size < 2 or np.any(fr <= 0) or not np.isclose(fr.sum(), 1.0):
        raise ValueError(f"fractions must be two or more positive numbers summing to 1, not {tuple(fractions)}")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fr]
    for label in (0.0, 1.0):
        idx = rng.permutation(np.flatnonzero(y == label))
        cuts = np.round(np.cumsum(fr)[:-1] * idx.size).astype(int)
        for k, piece in enumerate(np.split(idx, cuts)):
            parts[k].append(piece)
    return tuple(np.sort(np.concatenate(p)).astype(np.int64) for p in parts)


class Preprocessor:
    """The tutorial's preprocessing, fitted on the training split only.

    ``transform`` drops ``Time``, replaces ``Amount`` by ``log(Amount + 0.001)`` (the 0.001
    keeps zero amounts finite), subtracts the training mean and divides by the training
    standard deviation (ddof 0) of each column, and clips the result to [−clip, clip].

    >>> prep = Preprocessor().fit(X[train])
    >>> X_train, X_val = prep.transform(X[train]), prep.transform(X[val])
    """

    def __init__(self, feature_names=FEATURE_NAMES, clip: float = 5.0):
        self.feature_names = tuple(feature_names)
        for required in ("Time", "Amount"):
            if required not in self.feature_names:
                raise ValueError(f"feature_names must include {required!r}")
        if not clip > 0:
            raise ValueError(f"clip must be > 0, not {clip!r}")
        self.clip = float(clip)
        self._keep = [i for i, n in enumerate(self.feature_names) if n != "Time"]
        self._amount = [self.feature_names[i] for i in self._keep].index("Amount")
        self.output_names = tuple(self.feature_names[i] for i in self._keep)
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def _check(self, X) -> np.ndarray:
        from ._validation import as_float_array

        X = as_float_array(X, "X", allow_inf=False)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"X must have shape (N, {len(self.feature_names)}) with the columns "
                             f"{self.feature_names[0]} ... {self.feature_names[-1]}, but has shape {X.shape}")
        if np.any(X[:, self.feature_names.index("Amount")] < 0):
            raise ValueError("Amount must be >= 0 (it is a transaction amount)")
        return X

    def _log_amount(self, X: np.ndarray) -> np.ndarray:
        Z = X[:, self._keep].copy()
        Z[:, self._amount] = np.log(Z[:, self._amount] + 0.001)
        return Z

    def fit(self, X_train) -> "Preprocessor":
        """Learn the mean and standard deviation of each column from the training rows.

        A column that is constant on the training rows is only centred (scale 1). Constancy is
        detected by comparing the column's largest and smallest values: its computed standard
        deviation need not be 0 (``np.std(np.full(1000, 0.1))`` is 1.4e-17), and dividing by it
        would blow rounding noise up to ±1 and beyond.
        """
        Z = self._log_amount(self._check(X_train))
        constant = Z.max(axis=0) == Z.min(axis=0)
        self.mean_ = np.where(constant, Z[0], Z.mean(axis=0))  # a constant column centres to exactly 0
        std = Z.std(axis=0)
        self.std_ = np.where(constant | (std == 0), 1.0, std)
        return self

    def transform(self, X) -> np.ndarray:
        """The preprocessed (N, 29) float64 array, using the statistics from :meth:`fit`."""
        if self.mean_ is None:
            raise ValueError("call fit(X_train) before transform(X)")
        Z = (self._log_amount(self._check(X)) - self.mean_) / self.std_
        return np.clip(Z, -self.clip, self.clip)

    def fit_transform(self, X_train) -> np.ndarray:
        return self.fit(X_train).transform(X_train)
