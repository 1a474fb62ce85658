"""Tests of course_lib.fraud_model: the network, its output bias, reproducible training."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.fraud_model import (FraudNet, History, make_model, mean_bce, predict_logits,
                                    predict_proba, train_model)


def small_problem(seed=0, n=600, d=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 1.6).astype(float)  # about 7 % positive
    return X[:400], y[:400], X[400:], y[400:]


def test_architecture_and_output_shape():
    model = FraudNet(29)
    assert [type(m).__name__ for m in model.children()] == ["Linear", "ReLU", "Dropout", "Linear"]
    assert model.hidden.in_features == 29 and model.hidden.out_features == 16
    assert model.output.out_features == 1 and model.dropout.p == 0.5
    assert model(torch.zeros(7, 29)).shape == (7,)


def test_output_bias_sets_only_the_bias():
    b0 = math.log(492 / 284_315)
    default, prior = make_model(29, None, seed=3), make_model(29, b0, seed=3)
    assert prior.output.bias.item() == pytest.approx(b0, rel=1e-6)
    for name, p in default.named_parameters():
        if name != "output.bias":
            assert torch.equal(p, dict(prior.named_parameters())[name])
    assert abs(default.output.bias.item()) <= 1 / math.sqrt(16)  # PyTorch's default range
    assert not torch.equal(make_model(29, seed=4).hidden.weight, default.hidden.weight)


def test_make_model_leaves_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_model(10, seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_predictions_are_sigmoid_of_logits_in_eval_mode():
    model = make_model(5, output_bias=-2.0, seed=0)
    model.train()
    X = np.random.default_rng(0).normal(size=(50, 5))
    s = predict_logits(model, X)
    assert s.dtype == np.float64 and s.shape == (50,)
    np.testing.assert_array_equal(s, predict_logits(model, X))  # no dropout: deterministic
    np.testing.assert_allclose(predict_proba(model, X), 1 / (1 + np.exp(-s)), rtol=1e-12)
    assert model.training  # the mode is restored
    y = (np.arange(50) % 5 == 0).astype(float)
    manual = np.mean(np.logaddexp(0, s) - y * s)
    assert mean_bce(model, X, y) == pytest.approx(manual, rel=1e-5)


def test_training_is_reproducible_and_records_losses():
    Xtr, ytr, Xva, yva = small_problem()
    runs = []
    for _ in range(2):
        model = make_model(5, None, seed=1)
        runs.append((train_model(model, Xtr, ytr, Xva, yva, epochs=4, batch_size=64, seed=7), model))
    (h1, m1), (h2, m2) = runs
    assert isinstance(h1, History) and h1.epochs == 4
    assert len(h1.train_loss) == len(h1.val_loss) == 5
    assert h1.train_loss == h2.train_loss and h1.val_loss == h2.val_loss  # bit-identical
    assert torch.equal(m1.output.weight, m2.output.weight)
    assert h1.train_loss[-1] < h1.train_loss[0]
    assert h1.train_loss[0] == pytest.approx(mean_bce(make_model(5, None, seed=1), Xtr, ytr))
    other = train_model(make_model(5, None, seed=1), Xtr, ytr, Xva, yva, epochs=4, batch_size=64, seed=8)
    assert other.train_loss[1:] != h1.train_loss[1:]  # the seed changes the batches


def test_prior_bias_starts_near_base_rate_entropy():
    Xtr, ytr, Xva, yva = small_problem()
    pi = ytr.mean()
    entropy = -pi * math.log(pi) - (1 - pi) * math.log(1 - pi)
    model = make_model(5, math.log(pi / (1 - pi)), seed=0)
    with torch.no_grad():
        model.output.weight.zero_()  # a bias-only model
    h = train_model(model, Xtr, ytr, Xva, yva, epochs=0)
    assert h.train_loss[0] == pytest.approx(entropy, rel=1e-5)


def test_pos_weight_changes_training_but_not_the_recorded_loss_definition():
    Xtr, ytr, Xva, yva = small_problem()
    plain = make_model(5, seed=0)
    weighted = make_model(5, seed=0)
    h_plain = train_model(plain, Xtr, ytr, Xva, yva, epochs=2, batch_size=64)
    h_weighted = train_model(weighted, Xtr, ytr, Xva, yva, epochs=2, batch_size=64, pos_weight=10.0)
    assert h_plain.train_loss[0] == h_weighted.train_loss[0]
    # upweighting positives pushes predicted probabilities up
    assert predict_proba(weighted, Xtr).mean() > predict_proba(plain, Xtr).mean()


@pytest.mark.parametrize("call, pattern", [
    (lambda: FraudNet(0), "n_features"),
    (lambda: FraudNet(3, output_bias=float("nan")), "finite"),
    (lambda: FraudNet(3, dropout=1.0), "dropout"),
    (lambda: train_model(FraudNet(5), *small_problem(), epochs=-1), "epochs"),
    (lambda: train_model(FraudNet(5), *small_problem(), batch_size=0), "batch_size"),
    (lambda: train_model(FraudNet(5), *small_problem(), pos_weight=-1.0), "pos_weight"),
    (lambda: train_model(FraudNet(5), np.zeros((4, 5)), np.zeros(3), np.zeros((2, 5)), np.zeros(2)),
     "one label per row"),
    (lambda: train_model(FraudNet(5), np.zeros((2, 5)), np.array([0.0, 2.0]), np.zeros((2, 5)),
                         np.zeros(2)), "only 0 and 1"),
    (lambda: predict_logits(FraudNet(5), np.zeros(5)), "shape"),
])
def test_bad_input_is_explained(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


# -- input checking and the training loop pinned step by step ------------------------------------

def tiny_problem(d=5):
    """12 training and 8 validation examples, a quarter of them positive."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(20, d))
    y = (np.arange(20) % 4 == 0).astype(float)
    return X[:12], y[:12], X[12:], y[12:]


@pytest.mark.parametrize("where", ["X_train", "y_train", "X_val", "y_val"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_the_data_is_refused(where, bad):
    X_tr, y_tr, X_va, y_va = (a.copy() for a in tiny_problem())
    data = {"X_train": X_tr, "y_train": y_tr, "X_val": X_va, "y_val": y_va}
    data[where].flat[3] = bad
    name = where[0]
    with pytest.raises(ValueError, match=rf"^{name} .*{name}\[.*\] = (nan|inf)"):
        train_model(make_model(5, seed=0), data["X_train"], data["y_train"], data["X_val"],
                    data["y_val"], epochs=1, batch_size=16)
    if where.startswith("X"):
        with pytest.raises(ValueError, match="NaN|finite"):
            predict_logits(make_model(5, seed=0), data[where])
        with pytest.raises(ValueError, match="NaN|finite"):
            mean_bce(make_model(5, seed=0), data[where], y_tr if where == "X_train" else y_va)
    else:
        with pytest.raises(ValueError, match="NaN|finite"):
            mean_bce(make_model(5, seed=0), X_tr if where == "y_train" else X_va, data[where])


@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_training_matches_a_hand_written_adam_loop(pos_weight):
    """Two epochs of three mini-batches (the last one short), step by step: the same seed, the
    same shuffling (a torch.Generator seeded with the seed, one randperm per epoch) and the same
    dropout masks must give bit-identical float32 parameters. Pins zero_grad, the batch order,
    the loss and its pos_weight, the learning rate and train mode."""
    X_tr, y_tr, X_va, y_va = tiny_problem(d=4)
    epochs, batch_size, lr, seed = 2, 5, 0.05, 7
    model = make_model(4, seed=1)
    reference = make_model(4, seed=1)
    model.eval()  # train_model must switch dropout on for the steps itself
    history = train_model(model, X_tr, y_tr, X_va, y_va, epochs=epochs, batch_size=batch_size, lr=lr,
                          pos_weight=pos_weight, seed=seed)

    Xt = torch.tensor(X_tr, dtype=torch.float32)
    yt = torch.tensor(y_tr, dtype=torch.float32)
    torch.set_num_threads(1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        shuffle = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(reference.parameters(), lr=lr)
        weight = None if pos_weight is None else torch.tensor(pos_weight)
        steps = 0
        for _ in range(epochs):
            reference.train()
            order = torch.randperm(12, generator=shuffle)
            for batch in (order[0:5], order[5:10], order[10:12]):
                for p in reference.parameters():
                    p.grad = None
                logits = reference(Xt[batch])
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, yt[batch],
                                                                            pos_weight=weight)
                loss.backward()
                optimizer.step()
                steps += 1
    assert steps == 6
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        assert p.dtype == torch.float32
        assert torch.equal(p, q), name
    assert not model.training
    # the recorded losses are those of the trained model, in eval mode, unweighted
    assert history.epochs == epochs and len(history.val_loss) == epochs + 1
    assert history.train_loss[-1] == mean_bce(reference, X_tr, y_tr)
    assert history.val_loss[-1] == mean_bce(reference, X_va, y_va)
    assert history.train_loss[0] == mean_bce(make_model(4, seed=1), X_tr, y_tr)
