"""The small network of the TensorFlow imbalanced-data tutorial, in PyTorch, with a seeded,
reproducible training loop.

How the port differs from the tutorial's Keras model: the tutorial's output layer applies the
sigmoid and Keras's ``BinaryCrossentropy`` is computed on those probabilities; here the network
returns logits and the loss is ``BCEWithLogitsLoss`` (the same function, computed stably from
the logit). Keras's ``Dense`` starts its bias at 0 when given no initialiser, but the tutorial's
``make_model`` passes ``bias_initializer=None`` when no bias is given, and tf.keras's
``Layer.add_weight`` then uses Glorot-uniform: for the single output bias (fan-in = fan-out = 1)
that is uniform on ±√3 ≈ ±1.73, so the tutorial's untrained baseline also has a random output
bias, wider than the port's. Its "zero bias" run sets the bias to 0 explicitly and starts near
ln 2. PyTorch's ``nn.Linear`` draws weights and bias uniformly from ±1/√fan_in, so ``output_bias=None``
here means a random output bias in ±1/√hidden (±0.25), and an initial loss above or below ln 2
depending on the seed.

- :class:`FraudNet`: Linear(d, 16) → ReLU → Dropout(0.5) → Linear(16, 1); it returns logits
  (shape (N,)); the probability is their sigmoid. ``output_bias`` sets the last layer's bias.
- :func:`make_model`: a FraudNet whose weights depend only on ``seed``, so two models made with
  the same seed differ only in the output bias you give them.
- :func:`train_model`: Adam, mini-batches, ``BCEWithLogitsLoss`` (optionally with
  ``pos_weight``), and a :class:`History` of the train and validation losses per epoch.
- :func:`predict_logits`, :func:`predict_proba`, :func:`mean_bce`: evaluation helpers (eval
  mode, no gradients, NumPy float64 out).

Reproducibility: training runs on one thread (``torch.set_num_threads(1)``, a process-wide
setting) inside ``torch.random.fork_rng``: the seed fixes the shuffling (a seeded
``torch.Generator``) and the dropout masks, and the caller's random state is left as it was.
The same call on the same machine gives bit-identical losses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ._validation import as_float_array

__all__ = ["FraudNet", "make_model", "History", "train_model", "predict_logits", "predict_proba",
           "mean_bce"]


class FraudNet(nn.Module):
    """Linear(n_features, hidden) → ReLU → Dropout(dropout) → Linear(hidden, 1), logits out.

    Parameters
    ----------
    n_features : int
        Number of input columns (29 after the tutorial's preprocessing).
    output_bias : float, optional
        None keeps PyTorch's default initialisation of the output bias (uniform in
        ±1/sqrt(hidden)); a number sets it, e.g. the prior bias log(pos/neg).
    hidden, dropout : the hidden width (16) and the dropout rate (0.5) of the tutorial.
    """

    def __init__(self, n_features: int, output_bias: float | None = None, hidden: int = 16,
                 dropout: float = 0.5):
        super().__init__()
        if int(n_features) != n_features or n_features < 1:
            raise ValueError(f"n_features must be a positive whole number, not {n_features!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), not {dropout!r}")
        self.hidden = nn.Linear(int(n_features), int(hidden))
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(int(hidden), 1)
        if output_bias is not None:
            bias = float(output_bias)
            if not np.isfinite(bias):
                raise ValueError(f"output_bias must be a finite number, not {output_bias!r}")
            with torch.no_grad():
                self.output.bias.fill_(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape (N,) for inputs of shape (N, n_features)."""
        return self.output(self.dropout(self.relu(self.hidden(x)))).squeeze(-1)


def make_model(n_features: int, output_bias: float | None = None, seed: int = 0, **kwargs) -> FraudNet:
    """A :class:`FraudNet` initialised from ``seed`` alone (the global random state is untouched).

    Two calls with the same seed give the same weights; only ``output_bias`` differs between
    ``make_model(d, None, seed)`` and ``make_model(d, b0, seed)``.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return FraudNet(n_features, output_bias, **kwargs)


@dataclass
class History:
    """Losses recorded by :func:`train_model`.

    ``train_loss[k]`` and ``val_loss[k]`` are the mean BCE (unweighted, so runs with and without
    ``pos_weight`` compare) over the whole train and validation sets, in eval mode, after ``k``
    epochs; index 0 is the untrained model.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss) - 1


def _as_tensors(X, y=None):
    """float32 tensors of X (and y), refusing NaN and ±inf with a ValueError that names the entry
    (one NaN feature would otherwise turn every weight, and every loss, into NaN)."""
    reason = "The network needs finite inputs (a NaN or inf turns every weight into NaN)"
    Xt = torch.as_tensor(as_float_array(X, "X", allow_inf=False, inf_reason=reason).astype(np.float32))
    if Xt.ndim != 2:
        raise ValueError(f"X must have shape (N, n_features), but has shape {tuple(Xt.shape)}")
    if y is None:
        return Xt
    yt = torch.as_tensor(as_float_array(y, "y", allow_inf=False).astype(np.float32))
    if yt.shape != (Xt.shape[0],):
        raise ValueError(f"y must have shape ({Xt.shape[0]},), one label per row of X, but has "
                         f"shape {tuple(yt.shape)}")
    if not bool(torch.all((yt == 0) | (yt == 1))):
        raise ValueError("y must contain only 0 and 1")
    return Xt, yt


def predict_logits(model: nn.Module, X) -> np.ndarray:
    """The model's logits for X (eval mode: no dropout), as a float64 NumPy array of shape (N,)."""
    Xt = X if isinstance(X, torch.Tensor) else _as_tensors(X)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(Xt.float()).double().numpy().reshape(-1)
    finally:
        model.train(was_training)


def predict_proba(model: nn.Module, X) -> np.ndarray:
    """The predicted probabilities σ(logit) for X, float64, shape (N,)."""
    from .functional import sigmoid

    return np.asarray(sigmoid(predict_logits(model, X)), dtype=np.float64).reshape(-1)


def mean_bce(model: nn.Module, X, y) -> float:
    """The mean binary cross-entropy of the model on (X, y), in eval mode, as a Python float."""
    return _mean_bce(model, *_as_tensors(X, y))


def _mean_bce(model: nn.Module, Xt: torch.Tensor, yt: torch.Tensor) -> float:
    """:func:`mean_bce` on tensors already checked by :func:`_as_tensors`."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return float(nn.functional.binary_cross_entropy_with_logits(model(Xt), yt))
    finally:
        model.train(was_training)


def train_model(model: nn.Module, X_train, y_train, X_val, y_val, *, epochs: int = 20,
                batch_size: int = 2048, lr: float = 1e-3, pos_weight: float | None = None,
                seed: int = 0) -> History:
    """Train ``model`` in place with Adam on BCE-with-logits; return the loss history.

    Parameters
    ----------
    model : nn.Module returning logits of shape (N,)
    X_train, y_train, X_val, y_val : arrays (float32 is used inside)
    epochs, batch_size, lr : the tutorial's settings are 20 (or more), 2048, 1e-3
    pos_weight : float, optional
        Weight of the positive examples' terms in the training loss (e.g. neg/pos); the
        recorded losses stay unweighted.
    seed : int
        Fixes the order of the mini-batches and the dropout masks.
    """
    if int(epochs) != epochs or epochs < 0:
        raise ValueError(f"epochs must be a whole number >= 0, not {epochs!r}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, not {batch_size!r}")
    if pos_weight is not None and not (np.isfinite(pos_weight) and pos_weight > 0):
        raise ValueError(f"pos_weight must be a positive number, not {pos_weight!r}")
    Xtr, ytr = _as_tensors(X_train, y_train)
    Xva, yva = _as_tensors(X_val, y_val)
    torch.set_num_threads(1)
    weight = None if pos_weight is None else torch.tensor(float(pos_weight))
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=weight)
    history = History()

    def record():
        history.train_loss.append(_mean_bce(model, Xtr, ytr))
        history.val_loss.append(_mean_bce(model, Xva, yva))

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        shuffle = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        record()
        n = Xtr.shape[0]
        for _ in range(int(epochs)):
            model.train()
            order = torch.randperm(n, generator=shuffle)
            for start in range(0, n, int(batch_size)):
                batch = order[start:start + int(batch_size)]
                optimizer.zero_grad()
                loss = loss_fn(model(Xtr[batch]), ytr[batch])
                loss.backward()
                optimizer.step()
            record()
    model.eval()
    return history
