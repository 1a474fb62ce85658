"""Tests of course_lib.fraud_sweep: K fraud networks trained as one batched model.

The reference is course_lib.fraud_model: member k of a batched run must follow
train_model(make_model(d, bias_k, seed=k), ..., seed=k) step for step, dropout included.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from course_lib.fraud_model import make_model, mean_bce, train_model
from course_lib.fraud_sweep import (Member, batched_logits, dropout_mask, stack_members,
                                    train_batched)


def problem(seed=0, n=700, d=6, n_train=500):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 1.6).astype(float)  # about 7 % positive
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


MEMBERS = [Member(0, None, 1e-2, "torch"), Member(1, -2.0, 3e-3, "prior"), Member(2, 0.0, 1e-2, "zero")]


def test_stacked_members_are_make_model_exactly():
    params = stack_members(6, MEMBERS)
    assert params.W1.shape == (3, 16, 6) and params.b1.shape == (3, 16)
    assert params.w2.shape == (3, 16) and params.b2.shape == (3,)
    for k, m in enumerate(MEMBERS):
        net = make_model(6, m.output_bias, seed=m.seed)
        assert torch.equal(params.W1[k], net.hidden.weight)
        assert torch.equal(params.b1[k], net.hidden.bias)
        assert torch.equal(params.w2[k], net.output.weight.reshape(-1))
        assert torch.equal(params.b2[k], net.output.bias.reshape(()))


def test_batched_logits_equal_each_network_in_eval_mode():
    params = stack_members(6, MEMBERS)
    X = torch.as_tensor(problem()[2], dtype=torch.float32)
    logits = batched_logits(params, X, chunk=64)  # several chunks
    for k, m in enumerate(MEMBERS):
        net = make_model(6, m.output_bias, seed=m.seed).eval()
        with torch.no_grad():
            torch.testing.assert_close(logits[k], net(X), rtol=0, atol=1e-6)


def test_dropout_mask_is_the_mask_of_nn_dropout():
    x = torch.ones(2048, 16)
    for seed in (0, 5):
        torch.manual_seed(seed)
        expected = F.dropout(x, 0.5, training=True)
        got = x * dropout_mask((2048, 16), 0.5, torch.Generator().manual_seed(seed))
        assert torch.equal(got, expected)


def test_dropout_mask_statistics():
    mask = dropout_mask((4000, 16), 0.5, torch.Generator().manual_seed(1))
    values = set(mask.unique().tolist())
    assert values == {0.0, 2.0}  # dropped, or kept and scaled by 1/(1 − p)
    n = mask.numel()
    zeros = float((mask == 0).float().mean())
    assert abs(zeros - 0.5) < 4 * math.sqrt(0.25 / n)  # four standard errors
    assert abs(float(mask.mean()) - 1.0) < 4 * math.sqrt(1.0 / n)  # mean 1: activations unbiased
    mask = dropout_mask((4000, 16), 0.2, torch.Generator().manual_seed(1))
    assert abs(float((mask == 0).float().mean()) - 0.2) < 4 * math.sqrt(0.16 / n)
    assert set(mask.unique().tolist()) == {0.0, 1.25}


@pytest.mark.parametrize("pos_weight", [None, 5.0])
def test_each_member_follows_train_model_epoch_by_epoch_with_dropout(pos_weight):
    Xtr, ytr, Xva, yva = problem()
    run = train_batched(MEMBERS, Xtr, ytr, Xva, yva, batch_size=64, max_epochs=4, patience=None,
                        pos_weight=pos_weight)
    assert run.steps_per_epoch == 8 and run.epochs_run == 4
    val = run.epoch_val_loss()
    for k, m in enumerate(MEMBERS):
        net = make_model(6, m.output_bias, seed=m.seed)
        history = train_model(net, Xtr, ytr, Xva, yva, epochs=4, batch_size=64, lr=m.lr, seed=m.seed,
                              pos_weight=pos_weight)
        np.testing.assert_allclose(val[:, k], history.val_loss, rtol=0, atol=1e-6)
        torch.testing.assert_close(run.final.W1[k], net.hidden.weight.detach(), rtol=0, atol=1e-5)
        torch.testing.assert_close(run.final.w2[k], net.output.weight.detach().reshape(-1), rtol=0, atol=1e-5)
        torch.testing.assert_close(run.final.b2[k], net.output.bias.detach().reshape(()), rtol=0, atol=1e-5)


def test_each_member_follows_train_model_step_by_step():
    # batch_size = n: one optimiser step per epoch, so train_model's per-epoch record is per step
    Xtr, ytr, Xva, yva = problem(n=400, n_train=256)
    run = train_batched(MEMBERS, Xtr, ytr, Xva, yva, batch_size=256, max_epochs=12, patience=None)
    assert run.steps_per_epoch == 1 and list(run.eval_step) == list(range(13))
    for k, m in enumerate(MEMBERS):
        net = make_model(6, m.output_bias, seed=m.seed)
        history = train_model(net, Xtr, ytr, Xva, yva, epochs=12, batch_size=256, lr=m.lr, seed=m.seed)
        np.testing.assert_allclose(run.val_loss[:, k], history.val_loss, rtol=0, atol=1e-6)
        # row 0 is the untrained network's validation loss
        assert run.val_loss[0, k] == pytest.approx(mean_bce(make_model(6, m.output_bias, seed=m.seed),
                                                            Xva, yva), abs=1e-6)


def test_without_dropout_no_masks_are_drawn_and_members_still_match():
    Xtr, ytr, Xva, yva = problem()
    run = train_batched(MEMBERS[:2], Xtr, ytr, Xva, yva, batch_size=100, max_epochs=3, patience=None,
                        dropout=0.0)
    for k, m in enumerate(MEMBERS[:2]):
        net = make_model(6, m.output_bias, seed=m.seed, dropout=0.0)
        history = train_model(net, Xtr, ytr, Xva, yva, epochs=3, batch_size=100, lr=m.lr, seed=m.seed)
        np.testing.assert_allclose(run.epoch_val_loss()[:, k], history.val_loss, rtol=0, atol=1e-6)
        # without dropout the training-batch loss at step 1 is the initial model's loss on that batch
        order = torch.randperm(500, generator=torch.Generator().manual_seed(m.seed))[:100].numpy()
        assert run.step_loss[0, k] == pytest.approx(
            mean_bce(make_model(6, m.output_bias, seed=m.seed), Xtr[order], ytr[order]), abs=1e-6)


def test_training_is_bit_reproducible():
    Xtr, ytr, Xva, yva = problem()
    a = train_batched(MEMBERS, Xtr, ytr, Xva, yva, batch_size=64, max_epochs=3, patience=None)
    b = train_batched(MEMBERS, Xtr, ytr, Xva, yva, batch_size=64, max_epochs=3, patience=None)
    for name in ("step_loss", "step_bias", "step_wh", "step_hidden_change", "val_loss", "val_mean_logit"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert all(torch.equal(x, y) for x, y in zip(a.final.tensors(), b.final.tensors()))


def test_global_random_state_is_left_alone():
    Xtr, ytr, Xva, yva = problem()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train_batched(MEMBERS[:1], Xtr, ytr, Xva, yva, batch_size=128, max_epochs=1, patience=None)
    assert torch.equal(torch.rand(3), expected)


def test_early_stopping_restores_the_best_epoch():
    Xtr, ytr, Xva, yva = problem()
    members = [Member(0, 0.0, 0.05, "zero"), Member(1, -2.0, 0.05, "prior")]  # large lr: overfits soon
    run = train_batched(members, Xtr, ytr, Xva, yva, batch_size=50, max_epochs=60, patience=3)
    val = run.epoch_val_loss()
    Xv = torch.as_tensor(Xva, dtype=torch.float32)
    yv = torch.as_tensor(yva, dtype=torch.float32)
    best_logits = batched_logits(run.best, Xv)
    for k in range(2):
        stop, best = int(run.stop_epoch[k]), int(run.best_epoch[k])
        assert stop >= 0, "the member should have stopped within 60 epochs"
        assert stop - best == 3  # patience 3: three epochs without a new best
        assert best == int(np.argmin(val[:stop + 1, k]))
        assert val[best, k] == run.best_val_loss[k]
        assert np.all(val[best + 1:stop + 1, k] >= val[best, k])
        # the restored parameters give the best loss again
        assert float(F.binary_cross_entropy_with_logits(best_logits[k], yv)) == pytest.approx(
            run.best_val_loss[k], abs=1e-7)
    assert run.epochs_run == int(run.stop_epoch.max())  # ends once every member has stopped


STAGGERED = [Member(0, 0.0, 0.1, "fast"), Member(1, -2.0, 0.02, "middle"), Member(2, None, 0.01, "slow")]


def test_early_stopping_is_per_member_a_member_in_a_batch_is_the_member_alone():
    """Members that stop at different epochs (6, 10 and 16 here) get, in a batch of three, the best
    epoch, stop epoch, best validation loss and final parameters they get when trained alone.
    (Before 2026-12-02 a stopped member kept training, and improving its best, until the last
    member of its batch stopped: on this problem the middle member's best epoch became 13, not 7,
    and the fast member's final weights moved by 1.5.)"""
    Xtr, ytr, Xva, yva = problem()
    run = train_batched(STAGGERED, Xtr, ytr, Xva, yva, batch_size=50, max_epochs=60, patience=3)
    assert len(set(run.stop_epoch.tolist())) == 3 and np.all(run.stop_epoch > 0)  # three different stops
    assert run.epochs_run == int(run.stop_epoch.max())
    np.testing.assert_array_equal(run.epochs_trained, run.stop_epoch)  # frozen when patience ran out
    for k, m in enumerate(STAGGERED):
        alone = train_batched([m], Xtr, ytr, Xva, yva, batch_size=50, max_epochs=60, patience=3)
        assert (run.best_epoch[k], run.stop_epoch[k], run.epochs_trained[k]) == \
            (alone.best_epoch[0], alone.stop_epoch[0], alone.epochs_trained[0]), m.label
        assert run.best_val_loss[k] == pytest.approx(alone.best_val_loss[0], abs=1e-6)
        for ours, its in zip(run.final.tensors(), alone.final.tensors()):
            torch.testing.assert_close(ours[k], its[0], rtol=0, atol=1e-5)
        for ours, its in zip(run.best.tensors(), alone.best.tensors()):
            torch.testing.assert_close(ours[k], its[0], rtol=0, atol=1e-5)


def test_a_stopped_member_is_frozen_and_the_others_carry_on_bit_for_bit():
    Xtr, ytr, Xva, yva = problem()
    run = train_batched(STAGGERED, Xtr, ytr, Xva, yva, batch_size=50, max_epochs=60, patience=3)
    spe = run.steps_per_epoch
    # the same batch without early stopping: the steps every member takes while it is not frozen
    free = train_batched(STAGGERED, Xtr, ytr, Xva, yva, batch_size=50, max_epochs=run.epochs_run, patience=None)
    for k in range(3):
        end = int(run.epochs_trained[k]) * spe
        rows = run.eval_step <= end
        assert np.array_equal(run.val_loss[rows, k], free.val_loss[rows, k])
        assert np.array_equal(run.step_bias[:end + 1, k], free.step_bias[:end + 1, k])
        assert np.array_equal(run.step_loss[:end, k], free.step_loss[:end, k])
        # after its end the member does not move: same bias and validation loss, no batch loss logged
        assert np.all(run.step_bias[end:, k] == run.step_bias[end, k])
        assert np.all(run.val_loss[~rows, k] == run.val_loss[rows, k][-1])
        assert np.all(np.isnan(run.step_loss[end:, k])) and np.all(np.isnan(run.step_wh[end:, k]))
        # its final parameters are those after its own last epoch of the free run
        at_end = train_batched(STAGGERED, Xtr, ytr, Xva, yva, batch_size=50, max_epochs=int(run.epochs_trained[k]),
                               patience=None)
        assert all(torch.equal(a[k], b[k]) for a, b in zip(run.final.tensors(), at_end.final.tensors()))


def test_a_member_that_stops_before_the_budget_trains_on_to_it():
    Xtr, ytr, Xva, yva = problem()
    run = train_batched(STAGGERED, Xtr, ytr, Xva, yva, batch_size=50, max_epochs=60, patience=3, budget_epochs=8)
    assert run.stop_epoch[0] == 6 and run.epochs_trained[0] == 8 and run.best_epoch[0] == 3
    short = train_batched(STAGGERED, Xtr, ytr, Xva, yva, batch_size=50, max_epochs=8, patience=None)
    assert all(torch.equal(x, y) for x, y in zip(run.budget.tensors(), short.final.tensors()))
    assert all(torch.equal(x[0], y[0]) for x, y in zip(run.final.tensors(), short.final.tensors()))


def test_budget_snapshot_is_the_uninterrupted_run():
    Xtr, ytr, Xva, yva = problem()
    members = MEMBERS[:2]
    run = train_batched(members, Xtr, ytr, Xva, yva, batch_size=64, max_epochs=8, patience=1,
                        budget_epochs=5)
    assert run.epochs_run >= 5
    short = train_batched(members, Xtr, ytr, Xva, yva, batch_size=64, max_epochs=5, patience=None)
    assert all(torch.equal(x, y) for x, y in zip(run.budget.tensors(), short.final.tensors()))


def test_logged_mechanism_quantities():
    Xtr, ytr, Xva, yva = problem()
    run = train_batched(MEMBERS, Xtr, ytr, Xva, yva, batch_size=64, max_epochs=3, patience=None,
                        eval_every=2, dense_until=8)
    T = 3 * 8
    assert run.step_loss.shape == (T, 3) and run.step_wh.shape == (T, 3)
    assert run.step_bias.shape == (T + 1, 3) and run.step_hidden_change.shape == (T + 1, 3)
    assert list(run.eval_step) == [0, 2, 4, 6, 8, 16, 24]  # every 2 steps up to step 8, then epoch ends
    init = stack_members(6, MEMBERS)
    np.testing.assert_array_equal(run.step_bias[0], init.b2.double().numpy())
    np.testing.assert_array_equal(run.step_bias[-1], run.final.b2.double().numpy())
    assert np.all(run.step_hidden_change[0] == 0) and np.all(run.step_hidden_change[1:] > 0)
    # with Adam, a parameter moves by at most about lr per step (|m̂/√v̂| ≤ 1 for these betas up to rounding)
    moves = np.abs(np.diff(run.step_bias, axis=0))
    lrs = np.array([m.lr for m in MEMBERS])
    assert np.all(moves <= 1.01 * lrs * math.sqrt(10))  # Adam's per-step bound (1 − β1)/√(1 − β2) ≈ 3.2 lr
    # the routes add up to the mean validation logit
    total = run.val_route_bias + run.val_start + run.val_route_hidden + run.val_route_last
    np.testing.assert_allclose(total, run.val_mean_logit, rtol=0, atol=1e-5)
    assert np.all(run.val_route_hidden[0] == 0) and np.all(run.val_route_last[0] == 0)
    # w₂·mean(h) at step 1 is the initial model's: mean logit on the batch minus the bias
    Xv = torch.as_tensor(Xva, dtype=torch.float32)
    np.testing.assert_allclose(run.val_mean_logit[0], batched_logits(init, Xv).mean(1).double().numpy(),
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(members=[]), "members"),
    (dict(members=[(0, None, 1e-3)]), "members"),
    (dict(members=[Member(0, None, -1.0)]), "lr"),
    (dict(batch_size=0), "batch_size"),
    (dict(max_epochs=0), "max_epochs"),
    (dict(patience=0), "patience"),
    (dict(budget_epochs=9, max_epochs=3), "budget_epochs"),
    (dict(eval_every=0), "eval_every"),
    (dict(dropout=1.0), "dropout"),
    (dict(pos_weight=-1.0), "pos_weight"),
])
def test_bad_input_is_explained(kwargs, pattern):
    Xtr, ytr, Xva, yva = problem()
    args = dict(members=MEMBERS[:1], batch_size=64, max_epochs=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        train_batched(args.pop("members"), Xtr, ytr, Xva, yva, **args)


def test_bad_data_is_explained():
    Xtr, ytr, Xva, yva = problem()
    with pytest.raises(ValueError, match="X_val"):
        train_batched(MEMBERS[:1], Xtr, ytr, Xva[:, :3], yva, max_epochs=1)
    bad = Xtr.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="X"):
        train_batched(MEMBERS[:1], bad, ytr, Xva, yva, max_epochs=1)


def test_a_member_pos_weight_overrides_the_run_pos_weight():
    """A plain and a pos_weight member in one batch are the two separate runs, member by member."""
    Xtr, ytr, Xva, yva = problem()
    mixed = [Member(0, -2.0, 1e-2, "plain"), Member(1, 0.0, 1e-2, "weighted", pos_weight=5.0)]
    run = train_batched(mixed, Xtr, ytr, Xva, yva, batch_size=64, max_epochs=3, patience=None)
    plain = train_batched([Member(0, -2.0, 1e-2)], Xtr, ytr, Xva, yva, batch_size=64, max_epochs=3,
                          patience=None)
    weighted = train_batched([Member(1, 0.0, 1e-2)], Xtr, ytr, Xva, yva, batch_size=64, max_epochs=3,
                             patience=None, pos_weight=5.0)
    np.testing.assert_allclose(run.val_loss[:, 0], plain.val_loss[:, 0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(run.val_loss[:, 1], weighted.val_loss[:, 0], rtol=0, atol=1e-6)
    # a member's own pos_weight wins over the run's
    override = train_batched([Member(1, 0.0, 1e-2, pos_weight=5.0)], Xtr, ytr, Xva, yva, batch_size=64,
                             max_epochs=3, patience=None, pos_weight=50.0)
    np.testing.assert_allclose(override.val_loss[:, 0], weighted.val_loss[:, 0], rtol=0, atol=1e-6)
    with pytest.raises(ValueError, match="pos_weight"):
        train_batched([Member(0, pos_weight=-1.0)], Xtr, ytr, Xva, yva, max_epochs=1)
