"""The fits comparison of ``python -m course_lib bench`` (ours against scikit-learn's lbfgs), on
a small stand-in for the fraud data so that it runs in seconds. No times are asserted."""

import json

import numpy as np

import course_lib.data as data
from course_lib.tools import bench


def test_fits_bench_reports_both_fits_on_the_same_objective(monkeypatch):
    monkeypatch.setattr(data, "load_fraud_data",
                        lambda seed=0: data.make_fraud_like(seed=seed, n_negative=3000, n_positive=60))
    figures = bench.fits_bench(repeats=1)
    assert figures["data"]["N"] == 3060 and figures["data"]["d"] == 29
    for name in ("unpenalised", "C=1"):
        row = figures["objectives"][name]
        assert row["ours_newton"]["converged"]
        # the same optimum: ours is at least as low as lbfgs's, to rounding
        assert row["objective_difference"] < 1e-9
        assert abs(row["objective_difference"]) < 1e-6
        assert row["time_ratio"] > 0
    assert figures["objectives"]["C=1"]["l2"] == 1.0 / 3060
    assert figures["gd"]["lr"] > 0.1                                  # 1/M, not the old 0.1
    text = bench.format_fits(figures)
    assert "ours newton" in text and "sklearn lbfgs" in text and "time ratio" in text
    json.dumps(figures)                                               # writable with --json
    assert np.isfinite(figures["gd"]["seconds_per_iteration"])
