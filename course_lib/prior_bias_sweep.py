"""Chapter 4's experiment: does the prior output bias save training, in which unit, and where not?

One *setting* is a batch size, a learning rate and a seed. In each setting three networks are
trained together by :func:`course_lib.fraud_sweep.train_batched`, identical but for the output
bias (chapter 4, §The untrained model with default initialisation):

- ``zero``:  b = 0, Keras's default and the TensorFlow tutorial's baseline (initial loss ≈ ln 2);
- ``torch``: PyTorch's default, b uniform in ±1/√16 (drawn from the seed like the other weights);
- ``prior``: b₀ = log(pos/neg) of the training split (initial loss ≈ H(π)).

Measures per network (:func:`member_rows`; chapter 4, §Measured in steps). Step counts of the
networks are read off the evaluation grid of the run: the validation set is evaluated at step 0,
every ``floor(steps_per_epoch / evals_per_epoch)`` steps up to step ``max(dense_epochs ×
steps_per_epoch, dense_steps)``, and at every epoch end (:func:`grid`). A count is the first
evaluated step at which the condition holds, so it is an upper bound: the first step at which the
condition holds lies after the evaluated step before it, a grid spacing (or an epoch, after the
dense phase) earlier.

- ``steps_to_prior_start``: validation loss ≤ the prior network's (same setting) loss at step 0;
- ``steps_to_prior_epoch1``: validation loss ≤ the prior network's loss after one epoch;
- ``best_step`` / ``best_epoch``: the early-stopping point (best epoch-end validation loss up to
  the epoch at which patience ran out), whose parameters are restored; ``stop_epoch``: when
  patience ran out (blank: never, within ``max_epochs``); ``epochs_run``: the epochs this network
  was trained (its stop epoch, the budget if that is later, or ``max_epochs``);
- ``final_val_loss``: the validation loss at the restored point; ``test_ap``: the test PR-AUC
  (``course_lib.metrics.average_precision``) there; ``test_nll``: the test loss there;
- ``budget_test_ap``, ``budget_val_loss``: the same after the tutorial's fixed budget of epochs,
  without early stopping;
- the mechanism (chapter 4, §The mechanism): ``mean_logit_start`` (mean validation logit at step
  0), ``steps_to_mean_logit_b0`` (first evaluated step with mean validation logit ≤ b₀), and at
  that step the parts of its change that came through the bias (``route_bias``), the hidden layer
  (``route_hidden``) and the last layer's weights (``route_last``); they sum to the change of the
  mean logit;
- what a bias alone would need: ``bias_only_steps`` is simulated (:func:`bias_only_adam`): a model
  whose every logit is one number b, started at ``mean_logit_start``, trained by Adam with the
  network's learning rate and betas on the network's own mini-batches (the gradient of the batch's
  mean BCE is σ(b) − mean(y_batch)); it is the first step with b ≤ b₀, the condition of
  ``steps_to_mean_logit_b0``, counted exactly (every step is checked; 0 for a network, such as
  some prior ones, whose mean logit starts at or below b₀). ``lr_per_step_bound`` =
  |mean_logit_start − b₀| / lr is the count if every Adam step moved b by exactly lr (the
  column's meaning before 2026-12-02): Adam's step shrinks with the gradient, so a simulated bias
  that starts above b₀ needs more (tests/test_experiment.py checks it in the committed sweep).

:func:`summarise` groups the rows by batch size, learning rate and initialisation and gives the
mean, the sample standard deviation and the range over seeds. :func:`write_csv` writes a table
with a header of ``#`` comment lines that says how it was made.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .fraud_sweep import BatchedRun, Member, batched_logits, train_batched
from .metrics import average_precision

__all__ = ["INITS", "SweepConfig", "FULL", "QUICK", "Splits", "chapter_splits", "run_setting",
           "grid", "bias_only_adam", "member_rows", "trajectory_rows", "summarise", "format_value", "write_csv", "read_csv",
           "MEMBER_COLUMNS", "SUMMARY_METRICS"]

#: The three initialisations of the output bias, in table order.
INITS: tuple[str, ...] = ("zero", "torch", "prior")


@dataclass(frozen=True)
class SweepConfig:
    """The settings of a sweep (every combination of batch size, learning rate and seed)."""

    batch_sizes: tuple[int, ...] = (2048, 512)
    lrs: tuple[float, ...] = (3e-4, 1e-3, 3e-3)
    seeds: tuple[int, ...] = (0, 1, 2)
    max_epochs: int = 100       # the tutorial's EPOCHS
    patience: int = 10          # the tutorial's EarlyStopping patience
    budget_epochs: int = 20     # the tutorial's bias comparison trains 20 epochs
    evals_per_epoch: int = 10   # dense validation evaluations ...
    dense_epochs: int = 3       # ... during the first epochs ...
    dense_steps: int = 0        # ... or up to this step, whichever is later

    def settings(self):
        """(batch_size, lr, seed) in the order they are run and written."""
        return [(bs, lr, seed) for bs in self.batch_sizes for lr in self.lrs for seed in self.seeds]


#: The sweep of ``python -m course_lib experiment ch4-sweep``; the dense grid covers the first
#: 4,500 steps (50 epochs at batch 2048, 12.6 at batch 512), where every step count of the
#: 2026-12-01 sweep fell (the largest was 3,570).
FULL = SweepConfig(dense_steps=4500)
#: A small version for trying the command (``--quick``): minutes become seconds.
QUICK = SweepConfig(batch_sizes=(2048,), lrs=(1e-3, 3e-3), seeds=(0, 1), max_epochs=6, patience=2,
                    budget_epochs=3, evals_per_epoch=5, dense_epochs=1)


@dataclass(frozen=True)
class Splits:
    """Preprocessed train/validation/test arrays and the prior bias of the training split."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    b0: float
    source: str = "synthetic"


def chapter_splits(data=None) -> Splits:
    """The chapter's data: ``load_fraud_data(seed=0)``, ``stratified_split`` 64/16/20 with seed 0,
    a :class:`~course_lib.data.Preprocessor` fitted on the training rows; b₀ = log(pos/neg) of the
    training split (as ``book/ch4_prior_bias.ipynb`` does)."""
    from .data import Preprocessor, load_fraud_data, stratified_split
    from .init import prior_bias

    data = load_fraud_data(seed=0) if data is None else data
    train, val, test = stratified_split(data.y, fractions=(0.64, 0.16, 0.2), seed=0)
    prep = Preprocessor(data.feature_names).fit(data.X[train])
    X_train, X_val, X_test = (prep.transform(data.X[i]) for i in (train, val, test))
    y_train = data.y[train]
    b0 = float(prior_bias(int(y_train.sum()), int((1 - y_train).sum())))
    return Splits(X_train, y_train, X_val, data.y[val], X_test, data.y[test], b0, data.source)


def _members(splits: Splits, lr: float, seed: int) -> list[Member]:
    biases = {"zero": 0.0, "torch": None, "prior": splits.b0}
    return [Member(seed=seed, output_bias=biases[init], lr=lr, label=init) for init in INITS]


def grid(config: SweepConfig, n_train: int, batch_size: int) -> tuple[int, int, int]:
    """(steps per epoch, dense spacing, last step of the dense phase) of the evaluation grid."""
    spe = math.ceil(n_train / batch_size)
    every = max(1, spe // config.evals_per_epoch)
    return spe, every, max(config.dense_epochs * spe, config.dense_steps)


def run_setting(splits: Splits, config: SweepConfig, batch_size: int, lr: float, seed: int) -> BatchedRun:
    """Train the three initialisations of one setting as one batched model."""
    _, every, dense_until = grid(config, len(splits.y_train), batch_size)
    return train_batched(_members(splits, lr, seed), splits.X_train, splits.y_train, splits.X_val,
                         splits.y_val, batch_size=batch_size, max_epochs=config.max_epochs,
                         patience=config.patience, budget_epochs=config.budget_epochs,
                         eval_every=every, dense_until=dense_until)


#: The most steps :func:`bias_only_adam` simulates before it gives up (NaN).
BIAS_ONLY_MAX_STEPS = 200_000


def bias_only_adam(y_train, batch_size: int, seed: int, lr: float, start: float, target: float,
                   max_steps: int = BIAS_ONLY_MAX_STEPS, path: list | None = None) -> float:
    """Adam on a bias-only model: the first step at which b ≤ ``target`` (0 if ``start`` ≤ target).

    Every logit is the one parameter b, started at ``start``. Step t uses the t-th mini-batch of
    ``fraud_sweep.train_batched`` for a member with this ``seed`` and ``batch_size`` (a generator
    seeded with ``seed`` draws ``torch.randperm(n)`` each epoch; the epochs go on past the
    network's run if needed), the gradient of the batch's mean BCE, σ(b) − mean(y_batch), and
    Adam's update with torch's default betas (0.9, 0.999) and eps 1e-8 and bias correction, in
    float64. Returns NaN if b is still above target after ``max_steps`` steps. ``path``, if a
    list, receives b after every step (for tests).
    """
    y = np.asarray(y_train, dtype=np.float64)
    n = y.size
    b = float(start)
    if b <= target:
        return 0.0
    starts = np.arange(0, n, batch_size)
    counts = np.diff(np.append(starts, n))
    shuffle = torch.Generator().manual_seed(seed)
    m = v = 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    while step < max_steps:
        order = torch.randperm(n, generator=shuffle).numpy()
        means = np.add.reduceat(y[order], starts) / counts
        for ybar in means.tolist():
            step += 1
            g = 1.0 / (1.0 + math.exp(-b)) - ybar
            m = beta1 * m + (1.0 - beta1) * g
            v = beta2 * v + (1.0 - beta2) * g * g
            b -= lr / (1.0 - beta1 ** step) * m / (math.sqrt(v) / math.sqrt(1.0 - beta2 ** step) + eps)
            if path is not None:
                path.append(b)
            if b <= target:
                return float(step)
            if step >= max_steps:
                break
    return math.nan


def _first_step(steps: np.ndarray, condition: np.ndarray) -> float:
    hit = np.flatnonzero(condition)
    return float(steps[hit[0]]) if hit.size else math.nan


def _test_scores(params, k: int, X_test: torch.Tensor) -> np.ndarray:
    return batched_logits(params, X_test)[k].double().numpy()


def _nll(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, logits) - y * logits))


MEMBER_COLUMNS: tuple[str, ...] = (
    "batch_size", "lr", "seed", "init", "output_bias_start", "steps_per_epoch", "val_loss_start",
    "prior_val_loss_start", "prior_val_loss_epoch1", "steps_to_prior_start", "steps_to_prior_epoch1",
    "best_epoch", "best_step", "stop_epoch", "epochs_run", "final_val_loss", "test_nll", "test_ap",
    "budget_epochs", "budget_val_loss", "budget_test_ap", "mean_logit_start", "b0",
    "steps_to_mean_logit_b0", "bias_only_steps", "lr_per_step_bound", "route_bias", "route_hidden",
    "route_last",
)


def member_rows(run: BatchedRun, splits: Splits, batch_size: int, lr: float, seed: int) -> list[dict]:
    """One row of :data:`MEMBER_COLUMNS` per network of a setting (see the module docstring)."""
    labels = [m.label for m in run.members]
    prior = labels.index("prior")
    spe = run.steps_per_epoch
    steps = run.eval_step
    epoch1_row = int(np.flatnonzero(steps == spe)[0])
    target_start, target_epoch1 = run.val_loss[0, prior], run.val_loss[epoch1_row, prior]
    X_test = torch.as_tensor(np.asarray(splits.X_test, dtype=np.float32))
    best_logits = batched_logits(run.best, X_test).double().numpy()
    budget_logits = None if run.budget is None else batched_logits(run.budget, X_test).double().numpy()
    budget_row = None
    if run.budget_epochs is not None:
        budget_row = int(np.flatnonzero(steps == run.budget_epochs * spe)[0])
    rows = []
    for k, label in enumerate(labels):
        mean0 = run.val_mean_logit[0, k]
        reach = _first_step(steps, run.val_mean_logit[:, k] <= splits.b0)
        if math.isnan(reach):
            route = (math.nan,) * 3
        else:
            r = int(np.flatnonzero(steps == reach)[0])
            route = (run.val_route_bias[r, k] - run.val_route_bias[0, k],
                     run.val_route_hidden[r, k] - run.val_route_hidden[0, k],
                     run.val_route_last[r, k] - run.val_route_last[0, k])
        rows.append({
            "batch_size": batch_size, "lr": lr, "seed": seed, "init": label,
            "output_bias_start": run.step_bias[0, k], "steps_per_epoch": spe,
            "val_loss_start": run.val_loss[0, k],
            "prior_val_loss_start": target_start, "prior_val_loss_epoch1": target_epoch1,
            "steps_to_prior_start": _first_step(steps, run.val_loss[:, k] <= target_start),
            "steps_to_prior_epoch1": _first_step(steps, run.val_loss[:, k] <= target_epoch1),
            "best_epoch": int(run.best_epoch[k]), "best_step": int(run.best_epoch[k]) * spe,
            "stop_epoch": int(run.stop_epoch[k]) if run.stop_epoch[k] >= 0 else math.nan,
            "epochs_run": int(run.epochs_trained[k]), "final_val_loss": run.best_val_loss[k],
            "test_nll": _nll(best_logits[k], splits.y_test),
            "test_ap": average_precision(splits.y_test, best_logits[k]),
            "budget_epochs": run.budget_epochs if run.budget_epochs is not None else math.nan,
            "budget_val_loss": run.val_loss[budget_row, k] if budget_row is not None else math.nan,
            "budget_test_ap": (average_precision(splits.y_test, budget_logits[k])
                               if budget_logits is not None else math.nan),
            "mean_logit_start": mean0, "b0": splits.b0, "steps_to_mean_logit_b0": reach,
            "bias_only_steps": bias_only_adam(splits.y_train, batch_size, run.members[k].seed, lr,
                                              mean0, splits.b0),
            "lr_per_step_bound": abs(mean0 - splits.b0) / lr,
            "route_bias": route[0], "route_hidden": route[1], "route_last": route[2],
        })
    return rows


TRAJECTORY_COLUMNS: tuple[str, ...] = (
    "batch_size", "lr", "seed", "init", "step", "epoch", "val_loss", "val_mean_logit", "output_bias",
    "route_start", "route_hidden", "route_last", "batch_wh", "hidden_change", "train_batch_loss",
)


def trajectory_rows(run: BatchedRun, batch_size: int, lr: float, seed: int) -> list[dict]:
    """The evaluation-grid trajectory of every network of a setting: validation loss, mean
    validation logit and its routes, and (from the per-step log) the output bias, w₂·mean(h) on the
    batch, the hidden layer's distance from its start and the training-batch loss at that step;
    each network up to the end of its own last epoch (``epochs_run`` of its row)."""
    rows = []
    for k, m in enumerate(run.members):
        last = int(run.epochs_trained[k]) * run.steps_per_epoch
        for r, step in enumerate(run.eval_step):
            step = int(step)
            if step > last:
                break
            rows.append({
                "batch_size": batch_size, "lr": lr, "seed": seed, "init": m.label, "step": step,
                "epoch": step / run.steps_per_epoch, "val_loss": run.val_loss[r, k],
                "val_mean_logit": run.val_mean_logit[r, k], "output_bias": run.val_route_bias[r, k],
                "route_start": run.val_start[r, k], "route_hidden": run.val_route_hidden[r, k],
                "route_last": run.val_route_last[r, k],
                # the batch of step t+1 is seen before that step: row `step` of the per-step logs
                "batch_wh": run.step_wh[step, k] if step < min(last, len(run.step_wh)) else math.nan,
                "hidden_change": run.step_hidden_change[step, k],
                "train_batch_loss": run.step_loss[step - 1, k] if step >= 1 else math.nan,
            })
    return rows


SUMMARY_METRICS: tuple[str, ...] = (
    "steps_to_prior_start", "steps_to_prior_epoch1", "best_step", "final_val_loss", "test_ap",
    "budget_test_ap", "steps_to_mean_logit_b0", "bias_only_steps", "lr_per_step_bound",
)


def summarise(rows: list[dict]) -> list[dict]:
    """Per (batch_size, lr, init): for each of :data:`SUMMARY_METRICS` the number of seeds where it
    is defined (``_n``; a step count is undefined when the target was not reached), the mean, the
    sample standard deviation (ddof = 1; blank for one seed) and the minimum and maximum."""
    keys = []
    for row in rows:
        key = (row["batch_size"], row["lr"], row["init"])
        if key not in keys:
            keys.append(key)
    out = []
    for bs, lr, init in keys:
        group = [r for r in rows if (r["batch_size"], r["lr"], r["init"]) == (bs, lr, init)]
        summary = {"batch_size": bs, "lr": lr, "init": init, "seeds": len(group)}
        for metric in SUMMARY_METRICS:
            values = np.array([r[metric] for r in group], dtype=np.float64)
            values = values[~np.isnan(values)]
            summary[f"{metric}_n"] = int(values.size)
            summary[f"{metric}_mean"] = float(values.mean()) if values.size else math.nan
            summary[f"{metric}_std"] = float(values.std(ddof=1)) if values.size > 1 else math.nan
            summary[f"{metric}_min"] = float(values.min()) if values.size else math.nan
            summary[f"{metric}_max"] = float(values.max()) if values.size else math.nan
        out.append(summary)
    return out


def format_value(value) -> str:
    """How a value is written: integers as they are, floats with 8 significant digits (enough to
    compare runs, short enough to read), NaN as an empty field."""
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.8g}"
    return str(value)


def write_csv(path, rows: list[dict], columns, header_lines: list[str]) -> None:
    """Write rows as CSV after ``# `` comment lines; the same rows give the same bytes."""
    buffer = io.StringIO()
    for line in header_lines:
        buffer.write(f"# {line}\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([format_value(row[c]) for c in columns])
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buffer.getvalue())


RESULTS = Path(__file__).resolve().parent / "results"
"""Where the committed sweep files live: inside the package, so that every place a chapter runs
(the repository, the course bundle's wheel, the student edition, the grader's sandbox, a
Gradescope container) reads the same files without a copy next to the notebook."""


def result_path(name: str) -> Path:
    """The committed result file ``name`` (e.g. ``"ch4_sweep.csv"``), written by
    ``python -m course_lib experiment ch4-sweep``."""
    path = RESULTS / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not there: run python -m course_lib experiment ch4-sweep")
    return path


def read_csv(path) -> list[dict]:
    """The rows of a file written by :func:`write_csv`, as dicts of strings (comments skipped)."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    return list(csv.DictReader(lines))
