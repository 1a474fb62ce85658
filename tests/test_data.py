"""Tests of course_lib.data: the loader, the download, the synthetic data, split, preprocessing."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from course_lib import data
from course_lib.data import (COLUMNS, FEATURE_NAMES, DownloadError, Preprocessor, download_creditcard,
                             load_creditcard, load_fraud_data, make_fraud_like, stratified_split)
from course_lib.metrics import average_precision, roc_auc

FIXTURES = Path(__file__).parent / "fixtures" / "creditcard"
VALID = FIXTURES / "valid_quoted.csv"
FIXTURE_COUNTS = (16, 4)  # (negatives, positives) in the valid fixtures


@pytest.fixture(autouse=True)
def no_real_file(monkeypatch, tmp_path):
    """Point every search location at an empty folder, so a real file never leaks in."""
    monkeypatch.delenv(data.CSV_ENV, raising=False)
    monkeypatch.delenv(data.USE_REAL_ENV, raising=False)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "cache"))


@functools.lru_cache(maxsize=1)
def full_synthetic():
    return make_fraud_like(0)


# -- loading ---------------------------------------------------------------------------------

def test_quoted_and_unquoted_files_read_the_same():
    a, b = load_creditcard(VALID), load_creditcard(FIXTURES / "valid_unquoted.csv")
    assert a.X.shape == (20, 30) and a.y.shape == (20,)
    assert a.X.dtype == np.float64 and a.y.dtype == np.float64
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert (a.n_negative, a.n_positive) == FIXTURE_COUNTS
    assert a.source == "real" and a.feature_names == FEATURE_NAMES
    assert "N=20" in repr(a)


def test_columns_in_another_order_are_reordered(tmp_path):
    lines = VALID.read_text().splitlines()
    rows = [line.split(",") for line in lines]
    swapped = [[r[-1]] + r[:-1] for r in rows]  # Class first
    path = tmp_path / "creditcard.csv"
    path.write_text("\n".join(",".join(r) for r in swapped) + "\n")
    a, b = load_creditcard(VALID), load_creditcard(path)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)


@pytest.mark.parametrize("name, pattern", [
    ("empty.csv", "empty"),
    ("header_only.csv", "no data rows"),
    ("missing_column.csv", "missing the column.*V7"),
    ("non_numeric.csv", "line 4, column V5: 'abc' is not a number"),
    ("bad_label.csv", "line 6: Class is 2.*0 .*or 1"),
    ("short_row.csv", "line 5: 20 values, but the header has 31 columns"),
])
def test_malformed_files_are_explained(name, pattern):
    with pytest.raises(ValueError, match=pattern):
        load_creditcard(FIXTURES / name)


def test_missing_file_and_search_locations(monkeypatch, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_creditcard(tmp_path / "nope.csv")
    assert data.find_creditcard() is None
    with pytest.raises(FileNotFoundError, match="no creditcard.csv found"):
        load_creditcard()
    monkeypatch.setenv(data.CSV_ENV, str(VALID))
    assert data.find_creditcard() == VALID
    assert load_creditcard().n_positive == 4


def test_cache_folder_is_searched(monkeypatch, tmp_path):
    folder = tmp_path / "mydata"
    folder.mkdir()
    (folder / "creditcard.csv").write_bytes(VALID.read_bytes())
    monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))
    assert data.default_cache_path() == folder / "creditcard.csv"
    assert load_creditcard().n_positive == 4


def test_load_fraud_data_is_synthetic_unless_opted_in(monkeypatch):
    monkeypatch.setenv(data.CSV_ENV, str(VALID))
    assert load_fraud_data().source == "synthetic"  # the file exists but nobody opted in
    monkeypatch.setenv(data.USE_REAL_ENV, "1")
    assert load_fraud_data().source == "real"
    monkeypatch.delenv(data.CSV_ENV)
    with pytest.warns(UserWarning, match="synthetic"):
        assert load_fraud_data().source == "synthetic"


# -- downloading -----------------------------------------------------------------------------

class _Server:
    """A local HTTP server in a thread that serves the fixture folder and counts requests."""

    def __init__(self):
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(FIXTURES), **kwargs)

            def do_GET(self):
                requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_success_then_cache_hit(server, tmp_path):
    dest = tmp_path / "dl" / "creditcard.csv"
    url = f"{server.url}/valid_quoted.csv"
    got = download_creditcard(url, dest, sha256=_sha(VALID))
    assert got == dest and dest.read_bytes() == VALID.read_bytes()
    assert len(server.requests) == 1
    download_creditcard(url, dest, sha256=_sha(VALID))
    assert len(server.requests) == 1  # cache hit: no second request
    assert [p.name for p in dest.parent.iterdir()] == ["creditcard.csv"]  # no temp file left


def test_download_without_checksum_checks_schema_and_counts(server, tmp_path):
    dest = tmp_path / "creditcard.csv"
    download_creditcard(f"{server.url}/valid_unquoted.csv", dest, expected_counts=FIXTURE_COUNTS)
    assert load_creditcard(dest).n_positive == 4
    other = tmp_path / "other.csv"
    with pytest.raises(DownloadError, match="16 legitimate and 4 fraudulent.*expected 284315 and 492"):
        download_creditcard(f"{server.url}/valid_unquoted.csv", other)
    assert not other.exists()
    with pytest.raises(DownloadError, match="not a valid creditcard.csv.*missing"):
        download_creditcard(f"{server.url}/missing_column.csv", other, expected_counts=None)
    assert list(tmp_path.iterdir()) == [dest]


def test_checksum_mismatch_leaves_no_file(server, tmp_path):
    dest = tmp_path / "creditcard.csv"
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download_creditcard(f"{server.url}/valid_quoted.csv", dest, sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_http_404_is_a_clear_error(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_creditcard(f"{server.url}/missing.csv", tmp_path / "c.csv")
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as s:  # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="could not reach.*offline"):
        download_creditcard(f"http://127.0.0.1:{port}/creditcard.csv", tmp_path / "c.csv", timeout=5)
    assert list(tmp_path.iterdir()) == []


# -- the synthetic data ------------------------------------------------------------------------

def test_synthetic_schema_counts_and_determinism():
    d = full_synthetic()
    assert d.X.shape == (284_807, 30) and d.feature_names == FEATURE_NAMES
    assert (d.n_negative, d.n_positive) == (284_315, 492)
    assert np.all(np.diff(d.X[:, 0]) >= 0)  # sorted by Time, like the real file
    assert 0 <= d.X[:, 0].min() and d.X[:, 0].max() < 2 * 86_400
    amount = d.X[:, -1]
    assert amount.min() >= 0 and np.all(np.round(amount, 2) == amount)
    assert np.mean(amount) > 1.5 * np.median(amount)  # heavy right tail
    small = make_fraud_like(3, n_negative=200, n_positive=7)
    again = make_fraud_like(3, n_negative=200, n_positive=7)
    np.testing.assert_array_equal(small.X, again.X)
    assert not np.array_equal(small.X, make_fraud_like(4, n_negative=200, n_positive=7).X)
    with pytest.raises(ValueError, match="n_positive"):
        make_fraud_like(0, n_positive=0)


def _logistic_fit(X, y, lam=1e-4, iters=25):
    """Newton's method for L2-regularised logistic regression (a tiny independent fit)."""
    Xb = np.column_stack([X, np.ones(len(X))])
    w = np.zeros(Xb.shape[1])
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-Xb @ w))
        grad = Xb.T @ (p - y) / len(y) + lam * np.r_[w[:-1], 0.0]
        hess = (Xb * (p * (1 - p))[:, None]).T @ Xb / len(y) + lam * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w, np.linalg.norm(grad)


def test_synthetic_difficulty_is_realistic():
    """Logistic regression reaches a PR-AUC like on the real data (measured 0.655 on seed 0),
    and the classes overlap (not separable)."""
    d = full_synthetic()
    train, _, test = stratified_split(d.y, seed=0)
    prep = Preprocessor().fit(d.X[train])
    w, grad_norm = _logistic_fit(prep.transform(d.X[train]), d.y[train])
    s_test = np.column_stack([prep.transform(d.X[test]), np.ones(len(test))]) @ w
    ap = average_precision(d.y[test], s_test)
    assert 0.55 <= ap <= 0.8, ap
    assert roc_auc(d.y[test], s_test) < 0.99
    # Not separable: the maximum-likelihood fit converged with finite weights, and on the
    # training set some fraud still scores below some legitimate transaction.
    assert grad_norm < 1e-8 and np.linalg.norm(w) < 50
    s_train = np.column_stack([prep.transform(d.X[train]), np.ones(len(train))]) @ w
    y_train = d.y[train]
    assert s_train[y_train == 1].min() < s_train[y_train == 0].max()


# -- split and preprocessing ---------------------------------------------------------------------

def test_stratified_split_partitions_and_keeps_proportions():
    y = np.r_[np.zeros(1000), np.ones(37)]
    parts = stratified_split(y, seed=5)
    assert len(parts) == 3
    everything = np.sort(np.concatenate(parts))
    np.testing.assert_array_equal(everything, np.arange(y.size))
    for part, frac in zip(parts, (0.64, 0.16, 0.2)):
        assert np.all(np.diff(part) > 0)
        assert abs(y[part].sum() - frac * 37) <= 1
        assert abs((1 - y[part]).sum() - frac * 1000) <= 1
    again = stratified_split(y, seed=5)
    for a, b in zip(parts, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(parts[0], stratified_split(y, seed=6)[0])
    two = stratified_split(y, fractions=(0.5, 0.5))
    assert len(two) == 2


@pytest.mark.parametrize("y, fractions, pattern", [
    ([0, 1, 2], (0.5, 0.5), "only the values"),
    ([[0, 1]], (0.5, 0.5), "one-dimensional"),
    ([0, 1], (0.5, 0.6), "summing to 1"),
    ([0, 1], (1.0,), "two or more"),
])
def test_stratified_split_rejects_bad_input(y, fractions, pattern):
    with pytest.raises(ValueError, match=pattern):
        stratified_split(y, fractions=fractions)


def test_preprocessor_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(500, 30))
    X_train[:, 0] = np.arange(500)  # Time
    X_train[:, -1] = rng.lognormal(3, 1, 500)  # Amount
    X_other = X_train * 3 + 100  # very different data: must not change the statistics
    prep = Preprocessor().fit(X_train)
    Z = prep.transform(X_train)
    assert Z.shape == (500, 29) and prep.output_names == FEATURE_NAMES[1:]
    log_amount = np.log(X_train[:, -1] + 0.001)
    np.testing.assert_allclose(prep.mean_[-1], log_amount.mean())
    np.testing.assert_allclose(prep.std_[-1], log_amount.std())
    np.testing.assert_allclose(Z[:, :-1], np.clip((X_train[:, 1:-1] - X_train[:, 1:-1].mean(0))
                                                   / X_train[:, 1:-1].std(0), -5, 5))
    mean_before = prep.mean_.copy()
    Z_other = prep.transform(X_other)
    np.testing.assert_array_equal(prep.mean_, mean_before)
    assert not np.allclose(Preprocessor().fit(X_other).mean_, mean_before)
    # The other rows are transformed with the *training* mean and standard deviation (not their
    # own): X_other = 3·X_train + 100, so its standardised columns are 3·Z + 100/std, clipped.
    train = X_train[:, 1:-1]
    expected = (X_other[:, 1:-1] - train.mean(0)) / train.std(0)
    np.testing.assert_allclose(Z_other[:, :-1], np.clip(expected, -5, 5), rtol=1e-12, atol=1e-12)
    expected_amount = (np.log(X_other[:, -1] + 0.001) - log_amount.mean()) / log_amount.std()
    np.testing.assert_allclose(Z_other[:, -1], np.clip(expected_amount, -5, 5), rtol=1e-12, atol=1e-12)
    assert np.mean(np.abs(Z_other) == 5.0) > 0.5                # far outside the training range


def test_preprocessor_clips_and_handles_zero_amounts():
    X = np.zeros((4, 30))
    X[:, 1] = [0.0, 0.0, 0.0, 1.0]
    X[:, -1] = [0.0, 1.0, 2.0, 3.0]
    prep = Preprocessor(clip=1.0).fit(X)
    Z = prep.transform(np.vstack([X, np.full((1, 30), 1e6)]))
    assert np.all(np.abs(Z) <= 1.0) and np.all(np.isfinite(Z))
    assert Z[-1, 0] == 1.0  # a huge value clips to +clip
    assert np.all(Z[:4, 1] == 0.0)  # constant column (V2): centred, not divided by zero


@pytest.mark.parametrize("call, pattern", [
    (lambda p: p.transform(np.zeros((2, 30))), "call fit"),
    (lambda p: p.fit(np.zeros((2, 29))), r"shape \(N, 30\)"),
    (lambda p: p.fit(np.c_[np.zeros((2, 29)), [-1, 1]]), "Amount must be >= 0"),
])
def test_preprocessor_rejects_bad_input(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(Preprocessor())


def test_columns_constant():
    assert COLUMNS[0] == "Time" and COLUMNS[-2:] == ("Amount", "Class") and len(COLUMNS) == 31


def test_synthetic_difficulty_number_in_the_docstring():
    """make_fraud_like's docstring states a test PR-AUC of 0.655 for the λ = 1e-4 logistic fit."""
    d = full_synthetic()
    train, _, test = stratified_split(d.y, seed=0)
    prep = Preprocessor().fit(d.X[train])
    w, _ = _logistic_fit(prep.transform(d.X[train]), d.y[train])
    s_test = np.column_stack([prep.transform(d.X[test]), np.ones(len(test))]) @ w
    assert round(average_precision(d.y[test], s_test), 3) == 0.655
    assert "0.655" in make_fraud_like.__doc__


def test_preprocessor_constant_column_with_inexact_mean_is_only_centred():
    """np.std of a constant 0.1 column is 1.4e-17, not 0: the column must still be only centred."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 30))
    X[:, 1] = 0.1  # V1 constant; its float64 std is not exactly 0
    X[:, -1] = np.abs(X[:, -1])  # Amount >= 0
    assert np.std(X[:, 1]) > 0
    prep = Preprocessor().fit(X)
    Z = prep.transform(X)
    k = FEATURE_NAMES[1:].index("V1")  # Time is dropped
    assert np.all(Z[:, k] == 0.0)
    other = X[:3].copy()
    other[:, 1] = 0.1000001
    assert np.allclose(prep.transform(other)[:, k], 1e-7, rtol=1e-6)
