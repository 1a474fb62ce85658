"""Many copies of chapter 4's fraud network trained at once, as one batched model.

The network is the one of :mod:`course_lib.fraud_model` (Linear(d, 16) → ReLU → Dropout(0.5) →
Linear(16, 1), logits out, ``BCEWithLogits``, Adam). :func:`train_batched` trains K *members* of
it together: their parameters are stacked along a first axis of length K,

    W₁: (K, 16, d)   b₁: (K, 16)   w₂: (K, 16)   b₂: (K,)

and every optimiser step is one grouped matrix product (``torch.baddbmm``) over all members.
Member k has its own seed, output bias and learning rate; with the same seed it starts from
exactly the weights of ``fraud_model.make_model(d, output_bias, seed)``, draws its mini-batches
and dropout masks from generators seeded like ``fraud_model.train_model``'s, and so follows
``train_model(make_model(d, output_bias, seed), ..., seed=seed)`` step for step, up to float32
rounding (the grouped product sums in another order than ``nn.Linear``; tests/test_fraud_sweep.py
measures the gap). Why this works (chapter 4, §Measured in steps):

- the total loss is Σ_k L_k, and L_k depends only on member k's parameters, so the gradient of
  the sum with respect to member k's parameters is ∇L_k: one backward pass gives all K gradients;
- Adam is element-wise, so one Adam update of the stacked tensors, with a learning rate per
  member, is K independent Adam updates.

Early stopping (the tutorial's ``EarlyStopping(patience=..., restore_best_weights=True)``, but on
the validation loss), per member: after each epoch the full validation loss (mean BCE, eval mode)
of each member that has not stopped is compared with its best so far; a member whose best is
``patience`` epochs old has *stopped* at that epoch, and from then on its best (epoch, loss and
parameters) is no longer updated. It is then *frozen*, at the stop epoch or, if that comes earlier,
once ``budget_epochs`` and ``min_epochs`` are reached (so that its fixed-budget snapshot is the one
of the uninterrupted run): from the next step on its parameters, its Adam moments and its Adam step
count no longer change (the frozen slices are put back after every update, since a zero gradient
would still move a parameter through Adam's first moment). A member's shuffles and dropout masks
come from its own generators, so the members that carry on follow exactly the steps they would
follow if no member had stopped. Each member therefore gets the best epoch, stop epoch, best
validation loss and final parameters it gets when trained alone (up to the grouped product's
rounding; tests/test_fraud_sweep.py checks both). The batch ends when every member is frozen, or at
``max_epochs``; ``epochs_trained`` records each member's own number of epochs.

What is logged (a :class:`BatchedRun`):

- per optimiser step t = 1, 2, ...: the training-batch loss before the step, the output bias b₂,
  the mean logit that the last layer's weights add on that batch, w₂·mean(h) (eval-mode hidden
  activations h, no dropout), and how far the hidden layer has moved, ‖(W₁, b₁) − (W₁, b₁)⁽⁰⁾‖_F
  (for a frozen member the loss and w₂·mean(h) are NaN, the other two stay at their frozen values);
- at each evaluation step (every epoch end, and every ``eval_every`` steps up to ``dense_until``):
  the full validation loss and the mean validation logit split by route (chapter 4, §The
  mechanism): with h̄ the mean hidden activation on the validation set and ⁽⁰⁾ the initial model,

      mean logit = b₂ + w₂·h̄ = b₂ + w₂⁽⁰⁾·h̄⁽⁰⁾ + w₂⁽⁰⁾·(h̄ − h̄⁽⁰⁾) + (w₂ − w₂⁽⁰⁾)·h̄,

  the terms being the bias, the starting value, the hidden route and the last-layer route
  (a frozen member's rows repeat its frozen state).

Reproducibility: one thread (``torch.set_num_threads(1)``), every random number from seeded
generators, the caller's global random state untouched; members do not interact, so a member's
numbers do not depend on which other members share its batch only up to the grouped product's
rounding (the sweep therefore batches exactly one setting at a time, and a re-run of one setting
is bit-identical).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from .fraud_model import _as_tensors, make_model

__all__ = ["Member", "BatchedParams", "BatchedRun", "stack_members", "batched_logits",
           "train_batched", "dropout_mask"]

_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults


@dataclass(frozen=True)
class Member:
    """One network of a batched run.

    seed:        fixes its initial weights (``make_model(..., seed=seed)``), its mini-batch order
                 and its dropout masks, as ``train_model(..., seed=seed)`` does.
    output_bias: None for PyTorch's default (uniform in ±1/√16), or a number (0.0 for Keras's
                 default, log(pos/neg) for the prior bias).
    lr:          its Adam learning rate.
    label:       a name for tables (e.g. ``"zero"``, ``"torch"``, ``"prior"``).
    pos_weight:  the weight of its positive terms in the training loss, overriding
                 ``train_batched(pos_weight=...)`` for this member (None: use that one), so that a
                 plain and a ``pos_weight`` network can be trained in one batch.
    """

    seed: int
    output_bias: float | None = None
    lr: float = 1e-3
    label: str = ""
    pos_weight: float | None = None


@dataclass
class BatchedParams:
    """Stacked parameters of K networks: W1 (K, H, d), b1 (K, H), w2 (K, H), b2 (K,)."""

    W1: torch.Tensor
    b1: torch.Tensor
    w2: torch.Tensor
    b2: torch.Tensor

    def tensors(self) -> list[torch.Tensor]:
        return [self.W1, self.b1, self.w2, self.b2]

    def clone(self) -> "BatchedParams":
        return BatchedParams(*(t.detach().clone() for t in self.tensors()))

    @property
    def K(self) -> int:
        return int(self.b2.shape[0])


def stack_members(n_features: int, members, hidden: int = 16) -> BatchedParams:
    """The stacked initial parameters: member k is ``make_model(n_features, bias_k, seed=k's seed)``."""
    if not members:
        raise ValueError("members must list at least one Member")
    nets = [make_model(n_features, m.output_bias, seed=m.seed, hidden=hidden) for m in members]
    return BatchedParams(
        W1=torch.stack([n.hidden.weight.detach() for n in nets]).clone(),
        b1=torch.stack([n.hidden.bias.detach() for n in nets]).clone(),
        w2=torch.stack([n.output.weight.detach().reshape(-1) for n in nets]).clone(),
        b2=torch.stack([n.output.bias.detach().reshape(()) for n in nets]).clone(),
    )


def dropout_mask(shape, p: float, generator: torch.Generator) -> torch.Tensor:
    """The scaled keep-mask that ``nn.Dropout(p)`` multiplies by in training mode.

    PyTorch's CPU dropout draws ``noise = empty(shape).bernoulli_(1 − p)``, divides it by
    1 − p and returns ``input * noise``; drawing the same noise from a generator seeded like the
    global one reproduces its masks exactly. Each entry is 0 with probability p and 1/(1 − p)
    otherwise, so the mask has mean 1 and the expected activation is unchanged.
    """
    noise = torch.empty(shape).bernoulli_(1.0 - p, generator=generator)
    return noise.div_(1.0 - p)


def _hidden(params: BatchedParams, Xb: torch.Tensor) -> torch.Tensor:
    """ReLU(X W₁ᵀ + b₁) for per-member inputs Xb of shape (K, B, d): (K, B, H)."""
    return torch.relu(torch.baddbmm(params.b1.unsqueeze(1), Xb, params.W1.transpose(1, 2)))


def _member_hidden(params: BatchedParams, k: int, X: torch.Tensor) -> torch.Tensor:
    """Member k's eval-mode hidden activations on a shared X (N, d): (N, H)."""
    return torch.relu(torch.addmm(params.b1[k], X, params.W1[k].T))


def batched_logits(params: BatchedParams, X: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
    """Every member's eval-mode logits on the same inputs X (N, d): shape (K, N).

    Member by member (so that a member's numbers do not depend on the batch it sits in), in
    chunks of rows to bound the memory.
    """
    out = torch.empty(params.K, X.shape[0])
    with torch.no_grad():
        for k in range(params.K):
            for start in range(0, X.shape[0], chunk):
                h = _member_hidden(params, k, X[start:start + chunk])
                out[k, start:start + chunk] = h @ params.w2[k] + params.b2[k]
    return out


def _logits_and_mean_hidden(params: BatchedParams, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode logits (K, N) on a shared X and each member's mean hidden activation (K, H)."""
    logits = torch.empty(params.K, X.shape[0])
    hbar = torch.empty(params.K, params.W1.shape[1])
    with torch.no_grad():
        for k in range(params.K):
            h = _member_hidden(params, k, X)
            logits[k] = h @ params.w2[k] + params.b2[k]
            hbar[k] = h.mean(0)
    return logits, hbar


def _mean_bce_rows(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-member mean BCE (K,) of logits (K, N) against shared labels y (N,)."""
    return torch.stack([F.binary_cross_entropy_with_logits(logits[k], y) for k in range(logits.shape[0])])


@dataclass
class BatchedRun:
    """The record of :func:`train_batched` (arrays have the members along their last axis).

    members, steps_per_epoch, patience:  as given / derived
    step_loss (T, K):        training-batch loss (what the optimiser minimised) before step t+1
    step_bias (T+1, K):      output bias b₂ after t steps (row 0: the initial value)
    step_wh (T, K):          w₂·mean(h) on the batch of step t+1, before that step
    step_hidden_change (T+1, K):  ‖(W₁, b₁) − initial‖_F after t steps
    eval_step (E,):          the steps at which the validation set was evaluated (0 first)
    val_loss (E, K):         full validation loss (mean BCE, eval mode) at those steps
    val_mean_logit, val_route_bias, val_route_hidden, val_route_last, val_start (E, K):
                             the mean validation logit and its split (see the module docstring)
    best_epoch, stop_epoch (K,):  epoch of the best validation loss up to the stop epoch, and the
                             epoch at which patience ran out (−1 if it never did within the run)
    best_val_loss (K,):      the validation loss at best_epoch
    best: BatchedParams      the restored (best) parameters
    budget: BatchedParams | None   the parameters after ``budget_epochs`` epochs (uninterrupted)
    final: BatchedParams     each member's parameters when it was frozen (or at the end of the run)
    epochs_run:              epochs the batch ran (the largest of epochs_trained)
    epochs_trained (K,):     epochs each member was trained before it was frozen
    """

    members: list
    steps_per_epoch: int
    patience: int
    step_loss: np.ndarray
    step_bias: np.ndarray
    step_wh: np.ndarray
    step_hidden_change: np.ndarray
    eval_step: np.ndarray
    val_loss: np.ndarray
    val_mean_logit: np.ndarray
    val_route_bias: np.ndarray
    val_route_hidden: np.ndarray
    val_route_last: np.ndarray
    val_start: np.ndarray
    best_epoch: np.ndarray
    stop_epoch: np.ndarray
    best_val_loss: np.ndarray
    best: BatchedParams
    budget: BatchedParams | None
    final: BatchedParams
    epochs_run: int
    budget_epochs: int | None = None
    epochs_trained: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def epoch_val_loss(self) -> np.ndarray:
        """Validation loss at the epoch ends, shape (epochs_run + 1, K)."""
        rows = [int(np.flatnonzero(self.eval_step == e * self.steps_per_epoch)[0])
                for e in range(self.epochs_run + 1)]
        return self.val_loss[rows]


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    return int(value)


def train_batched(members, X_train, y_train, X_val, y_val, *, batch_size: int = 2048,
                  max_epochs: int = 100, patience: int | None = 10, budget_epochs: int | None = None,
                  eval_every: int | None = None, dense_until: int = 0,
                  pos_weight: float | None = None, dropout: float = 0.5, hidden: int = 16,
                  min_epochs: int = 0) -> BatchedRun:
    """Train the K members together with Adam and per-member early stopping; return a :class:`BatchedRun`.

    Parameters
    ----------
    members : list of :class:`Member` (K ≥ 1)
    X_train, y_train, X_val, y_val : arrays (float32 inside, as ``fraud_model.train_model``)
    batch_size : mini-batch size (the same for every member)
    max_epochs : the most epochs trained
    patience : a member stops when its best epoch-end validation loss is ``patience`` epochs old;
        its best is then final and it is frozen (see the module docstring); None disables early
        stopping (every member trains ``max_epochs`` epochs, and ``best`` is its best epoch-end state)
    budget_epochs : also keep the parameters after this many epochs (the fixed-budget comparison);
        every member trains at least this long
    eval_every, dense_until : evaluate the validation loss every ``eval_every`` steps up to step
        ``dense_until`` as well as at every epoch end (finer step counts early in training)
    pos_weight : weight of the positive terms in the training loss of every member whose own
        ``Member.pos_weight`` is None (the logged training-batch losses are the weighted ones each
        member minimised; the validation losses are unweighted)
    dropout : dropout rate (0.5 in the tutorial; 0 switches it off and draws no masks)
    min_epochs : train every member at least this many epochs even if it has stopped
    """
    members = list(members)
    if not members or not all(isinstance(m, Member) for m in members):
        raise ValueError("members must be a non-empty list of Member(seed, output_bias, lr, label)")
    for m in members:
        if not (isinstance(m.lr, (int, float)) and math.isfinite(m.lr) and m.lr > 0):
            raise ValueError(f"lr must be a positive number, not {m.lr!r} (member {m})")
    batch_size = _check_positive_int(batch_size, "batch_size")
    max_epochs = _check_positive_int(max_epochs, "max_epochs")
    if patience is not None:
        patience = _check_positive_int(patience, "patience")
    if budget_epochs is not None:
        budget_epochs = _check_positive_int(budget_epochs, "budget_epochs")
        if budget_epochs > max_epochs:
            raise ValueError(f"budget_epochs ({budget_epochs}) must not exceed max_epochs ({max_epochs})")
    if eval_every is not None:
        eval_every = _check_positive_int(eval_every, "eval_every")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), not {dropout!r}")
    if pos_weight is not None and not (math.isfinite(pos_weight) and pos_weight > 0):
        raise ValueError(f"pos_weight must be a positive number, not {pos_weight!r}")
    Xtr, ytr = _as_tensors(X_train, y_train)
    Xva, yva = _as_tensors(X_val, y_val)
    if Xva.shape[1] != Xtr.shape[1]:
        raise ValueError(f"X_val has {Xva.shape[1]} columns but X_train has {Xtr.shape[1]}")
    torch.set_num_threads(1)

    K, n = len(members), Xtr.shape[0]
    steps_per_epoch = math.ceil(n / batch_size)
    params = stack_members(Xtr.shape[1], members, hidden=hidden)
    init = params.clone()
    for t in params.tensors():
        t.requires_grad_(True)
    exp_avg = [torch.zeros_like(t) for t in params.tensors()]
    exp_avg_sq = [torch.zeros_like(t) for t in params.tensors()]
    lr = torch.tensor([float(m.lr) for m in members], dtype=torch.float64)
    shuffles = [torch.Generator().manual_seed(m.seed) for m in members]
    masks = [torch.Generator().manual_seed(m.seed) for m in members]
    for m in members:
        if m.pos_weight is not None and not (math.isfinite(m.pos_weight) and m.pos_weight > 0):
            raise ValueError(f"pos_weight must be a positive number, not {m.pos_weight!r} (member {m})")
    weights = [None if w is None else torch.tensor(float(w))
               for w in (pos_weight if m.pos_weight is None else m.pos_weight for m in members)]

    with torch.no_grad():
        h0_val = torch.stack([_member_hidden(init, k, Xva).mean(0) for k in range(K)])  # (K, H)
    w2_0 = init.w2

    step_loss, step_wh, step_bias, step_hidden = [], [], [params.b2.detach().clone()], [torch.zeros(K)]
    ev_step, ev = [], {key: [] for key in ("loss", "mean", "bias", "hidden", "last", "start")}
    best = params.clone()
    best_loss = torch.full((K,), math.inf)
    best_epoch = np.zeros(K, dtype=np.int64)
    stop_epoch = np.full(K, -1, dtype=np.int64)
    active = np.ones(K, dtype=bool)               # not frozen yet
    epochs_trained = np.zeros(K, dtype=np.int64)
    budget = None

    def evaluate(step: int) -> torch.Tensor:
        with torch.no_grad():
            logits, hbar = _logits_and_mean_hidden(params, Xva)
            loss = _mean_bce_rows(logits, yva)
            ev_step.append(step)
            ev["loss"].append(loss)
            ev["mean"].append(logits.mean(1))
            ev["bias"].append(params.b2.detach().clone())
            ev["start"].append((w2_0 * h0_val).sum(1))
            ev["hidden"].append((w2_0 * (hbar - h0_val)).sum(1))
            ev["last"].append(((params.w2 - w2_0) * hbar).sum(1))
        return loss

    def hidden_change() -> torch.Tensor:
        with torch.no_grad():
            return torch.sqrt(((params.W1 - init.W1) ** 2).sum((1, 2)) + ((params.b1 - init.b1) ** 2).sum(1))

    loss0 = evaluate(0)
    best_loss = loss0.clone()
    step = 0
    epoch = 0
    for epoch in range(1, max_epochs + 1):
        orders = [torch.randperm(n, generator=g) for g in shuffles]
        for start in range(0, n, batch_size):
            idx = torch.stack([o[start:start + batch_size] for o in orders])  # (K, B)
            Xb, yb = Xtr[idx], ytr[idx]
            h = _hidden(params, Xb)
            if dropout > 0:
                mask = torch.stack([dropout_mask(h.shape[1:], dropout, g) for g in masks])
                hd = h * mask
            else:
                hd = h
            logits = torch.baddbmm(params.b2.view(K, 1, 1), hd, params.w2.unsqueeze(2)).squeeze(2)
            per_member = torch.stack([F.binary_cross_entropy_with_logits(logits[k], yb[k], pos_weight=weights[k])
                                      for k in range(K)])
            grads = torch.autograd.grad(per_member.sum(), params.tensors())
            with torch.no_grad():
                frozen = torch.as_tensor(~active) if not active.all() else None
                batch_loss = per_member.detach().clone()
                batch_wh = (params.w2 * h.mean(1)).sum(1)
                if frozen is not None:
                    batch_loss[frozen] = math.nan
                    batch_wh[frozen] = math.nan
                step_loss.append(batch_loss)
                step_wh.append(batch_wh)
                step += 1
                bc1 = 1.0 - _BETA1 ** step
                bc2_sqrt = math.sqrt(1.0 - _BETA2 ** step)
                step_size = (lr / bc1).float()
                for p, g, m1, m2 in zip(params.tensors(), grads, exp_avg, exp_avg_sq):
                    if frozen is not None:  # put the frozen members' slices back after the update
                        kept = [t[frozen].clone() for t in (p, m1, m2)]
                    m1.lerp_(g, 1.0 - _BETA1)
                    m2.mul_(_BETA2).addcmul_(g, g, value=1.0 - _BETA2)
                    denom = (m2.sqrt() / bc2_sqrt).add_(_EPS)
                    p.sub_(step_size.view((K,) + (1,) * (p.ndim - 1)) * (m1 / denom))
                    if frozen is not None:
                        for t, old in zip((p, m1, m2), kept):
                            t[frozen] = old
                step_bias.append(params.b2.detach().clone())
                step_hidden.append(hidden_change())
            if eval_every is not None and step <= dense_until and step % eval_every == 0 \
                    and step % steps_per_epoch != 0:
                evaluate(step)
        loss = evaluate(step)
        epochs_trained[active] = epoch
        # only a member that has not stopped can improve: a stopped one keeps its best
        improved = (loss < best_loss) & torch.as_tensor(stop_epoch < 0)
        with torch.no_grad():
            for b, p in zip(best.tensors(), params.tensors()):
                b[improved] = p.detach()[improved]
        best_loss = torch.where(improved, loss, best_loss)
        best_epoch[improved.numpy()] = epoch
        if patience is not None:
            newly = (stop_epoch < 0) & (epoch - best_epoch >= patience)
            stop_epoch[newly] = epoch
        if budget_epochs is not None and epoch == budget_epochs:
            budget = params.clone()
        if epoch >= (budget_epochs or 0) and epoch >= min_epochs:
            active &= stop_epoch < 0  # stopped members are frozen from the next step on
        if not active.any():
            break

    def arr(rows):
        return torch.stack(rows).double().numpy()

    return BatchedRun(
        members=members, steps_per_epoch=steps_per_epoch, patience=patience,
        step_loss=arr(step_loss), step_bias=arr(step_bias), step_wh=arr(step_wh),
        step_hidden_change=arr(step_hidden), eval_step=np.asarray(ev_step, dtype=np.int64),
        val_loss=arr(ev["loss"]), val_mean_logit=arr(ev["mean"]), val_route_bias=arr(ev["bias"]),
        val_route_hidden=arr(ev["hidden"]), val_route_last=arr(ev["last"]), val_start=arr(ev["start"]),
        best_epoch=best_epoch, stop_epoch=stop_epoch, best_val_loss=best_loss.double().numpy(),
        best=best, budget=budget, final=params.clone(), epochs_run=epoch, budget_epochs=budget_epochs,
        epochs_trained=epochs_trained,
    )
