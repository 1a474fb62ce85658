"""Run an experiment whose results a chapter reads from ``course_lib/results/`` (package data).

    python -m course_lib experiment ch4-sweep                      # the full sweep (minutes)
    python -m course_lib experiment ch4-sweep --quick --out /tmp/s.csv   # a small version (seconds)

``ch4-sweep`` is chapter 4's experiment (:mod:`course_lib.prior_bias_sweep`): the output bias at
0, at PyTorch's default and at the prior b₀, trained with Adam and early stopping for every
combination of batch size, learning rate and seed, on the chapter's data, split and
preprocessing. It writes three CSV files, each opening with ``#`` lines that say how it was made
(command, versions, data, settings):

- ``OUT`` (default ``course_lib/results/ch4_sweep.csv``): one row per network (setting × initialisation);
- ``OUT`` with ``_summary`` before the suffix: mean, spread and range over the seeds;
- ``OUT`` with ``_trajectory`` before the suffix: the evaluation-grid trajectories of seed 0.

Everything runs on one thread from fixed seeds, so two runs on one machine write byte-identical
files. The time taken is printed, never written into the files.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

from course_lib.tools import site_check

ROOT = site_check.ROOT
DEFAULT_OUT = ROOT / "course_lib" / "results" / "ch4_sweep.csv"
EXPERIMENTS = ("ch4-sweep",)


def add_arguments(parser) -> None:
    parser.add_argument("name", choices=EXPERIMENTS, help="which experiment to run")
    parser.add_argument("--quick", action="store_true",
                        help="a small version of the sweep (a few settings and epochs), for trying it")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"the per-network CSV (default {DEFAULT_OUT.relative_to(ROOT)}; with "
                             "--quick an --out is required, so that the chapter's files stay as they are)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="worker processes, one setting each at a time (default 1); the files do not depend on it")


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(f"{path.stem}_{suffix}{path.suffix}")


def output_paths(out: Path) -> dict[str, Path]:
    """The three files of a sweep written to ``out``."""
    out = Path(out)
    return {"members": out, "summary": _sibling(out, "summary"), "trajectory": _sibling(out, "trajectory")}


def header(config, splits, command: str, what: str) -> list[str]:
    """The comment lines at the top of each file: what it is and how it was made."""
    from course_lib.prior_bias_sweep import BIAS_ONLY_MAX_STEPS, INITS, grid

    parts = []
    for batch_size in config.batch_sizes:
        spe, every, dense_until = grid(config, len(splits.y_train), batch_size)
        parts.append(f"batch {batch_size}: every {every} steps up to step {dense_until}, "
                     f"then every {spe} steps")
    grid_text = "; ".join(parts)
    sweep_max_steps = BIAS_ONLY_MAX_STEPS
    return [
        f"{what}",
        f"made by: {command}",
        f"versions: python {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}; "
        "one thread (torch.set_num_threads(1))",
        f"data: {splits.source} (course_lib.data.load_fraud_data(seed=0)); stratified_split 64/16/20 seed 0; "
        f"Preprocessor fitted on the training rows; {len(splits.y_train)} training rows, "
        f"{int(splits.y_train.sum())} frauds; b0 = log(pos/neg) of the training split = {splits.b0:.8g}",
        "model: Linear(29,16)-ReLU-Dropout(0.5)-Linear(16,1), BCEWithLogits, Adam(betas 0.9, 0.999, eps 1e-8); "
        f"initialisations {', '.join(INITS)} (output bias 0, PyTorch default, b0), same seed, same other weights",
        f"settings: batch sizes {list(config.batch_sizes)}, learning rates {list(config.lrs)}, "
        f"seeds {list(config.seeds)}; early stopping on the validation loss, patience {config.patience} epochs, "
        f"at most {config.max_epochs} epochs, best epoch restored; fixed budget {config.budget_epochs} epochs",
        "evaluation grid: validation loss at step 0, every floor(steps_per_epoch/"
        f"{config.evals_per_epoch}) steps up to step max({config.dense_epochs} epochs, {config.dense_steps}), "
        f"then at each epoch end: {grid_text}; the networks' step counts (steps_to_*, best_step) are the "
        "first evaluated step meeting the condition, an upper bound: the first step meeting it lies after "
        "the evaluated step before (blank: never within the run)",
        "early stopping per network: a network whose best epoch-end validation loss is patience epochs old "
        "keeps that best and is frozen (after the budget epochs if it stops earlier), the other networks of "
        "its setting train on unchanged; epochs_run: the epochs that network trained; its trajectory ends there",
        "bias_only_steps: simulated Adam (lr of the network, betas 0.9, 0.999, eps 1e-8, float64) on a "
        "bias-only model (every logit b, gradient sigmoid(b) - mean(y_batch)) started at b = mean_logit_start, "
        "on the network's own mini-batches (same seed's shuffles, continued past its epochs): the first step "
        "with b <= b0, the condition of steps_to_mean_logit_b0, every step checked (blank: not within "
        f"{sweep_max_steps} steps); lr_per_step_bound = |mean_logit_start - b0| / lr, the steps if every "
        "Adam step moved b by exactly lr",
        "test_ap: course_lib.metrics.average_precision on the test split; floats to 8 significant digits",
    ]


_WORKER_SPLITS = None


def _init_worker(splits) -> None:
    global _WORKER_SPLITS
    _WORKER_SPLITS = splits


def _one_setting(config, setting, trajectory_seeds, splits=None):
    """Train one setting; return (member rows, trajectory rows, epochs run, seconds)."""
    from course_lib import prior_bias_sweep as sweep

    splits = _WORKER_SPLITS if splits is None else splits
    batch_size, lr, seed = setting
    start = time.perf_counter()
    run = sweep.run_setting(splits, config, batch_size, lr, seed)
    members = sweep.member_rows(run, splits, batch_size, lr, seed)
    trajectory = sweep.trajectory_rows(run, batch_size, lr, seed) if seed in trajectory_seeds else []
    return members, trajectory, run.epochs_run, time.perf_counter() - start


def run_sweep(config, splits, out: Path, command: str, log=print, trajectory_seeds=(0,),
              jobs: int = 1) -> dict[str, Path]:
    """Run every setting of ``config`` on ``splits`` and write the three files; return their paths.

    With ``jobs`` > 1 the settings run in that many worker processes (one thread each); the
    results are gathered in the settings' order, so the files are the same as with one job.
    """
    from course_lib import prior_bias_sweep as sweep

    settings = config.settings()
    if jobs > 1:
        import concurrent.futures
        import functools
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                                    initargs=(splits,)) as pool:
            results = pool.map(functools.partial(_one_setting, config, trajectory_seeds=trajectory_seeds),
                               settings)
            results = list(_logged(results, settings, log))
    else:
        results = list(_logged((_one_setting(config, s, trajectory_seeds, splits) for s in settings),
                               settings, log))
    members = [row for result in results for row in result[0]]
    trajectory = [row for result in results for row in result[1]]
    summary = sweep.summarise(members)
    paths = output_paths(out)
    paths["members"].parent.mkdir(parents=True, exist_ok=True)
    sweep.write_csv(paths["members"], members, sweep.MEMBER_COLUMNS,
                    header(config, splits, command, "chapter 4 sweep: one row per network (setting x initialisation)"))
    summary_columns = list(summary[0].keys())
    sweep.write_csv(paths["summary"], summary, summary_columns,
                    header(config, splits, command, "chapter 4 sweep: per batch size, learning rate and "
                           "initialisation, over seeds: n defined, mean, sample std (ddof 1), min, max"))
    sweep.write_csv(paths["trajectory"], trajectory, sweep.TRAJECTORY_COLUMNS,
                    header(config, splits, command, "chapter 4 sweep: trajectories on the evaluation grid, "
                           f"seed(s) {list(trajectory_seeds)}"))
    return paths


def _logged(results, settings, log):
    for (batch_size, lr, seed), result in zip(settings, results):
        log(f"batch {batch_size:>5}  lr {lr:<7g} seed {seed}: {result[2]:>3} epochs, {result[3]:6.1f} s")
        yield result


def main(args) -> int:
    from course_lib import prior_bias_sweep as sweep

    if args.quick and args.out is None:
        print("--quick needs --out PATH (the default path holds the full sweep the chapter reads)",
              file=sys.stderr)
        return 2
    config = sweep.QUICK if args.quick else sweep.FULL
    out = args.out if args.out is not None else DEFAULT_OUT
    command = "python -m course_lib experiment ch4-sweep" + (" --quick" if args.quick else "")
    start = time.perf_counter()
    splits = sweep.chapter_splits()
    paths = run_sweep(config, splits, out, command, jobs=max(1, args.jobs))
    for path in paths.values():
        print(f"wrote {path}")
    print(f"sweep time: {time.perf_counter() - start:.1f} s ({len(config.settings())} settings)")
    return 0
