"""The torch MAML surrogate: an MLP meta-trained to adapt to a task in a few gradient steps.

Model: ``f(config, task embedding, context) -> score`` (an MLP). Meta-training (MAML, Finn
et al. 2017, with learned per-tensor inner learning rates as in Meta-SGD, and a learned
slope of every log inner rate in ``log K`` so the step size can depend on how many
observations there are) over episodes drawn from the meta-dataset's tasks:

* support set: ``K`` random evaluations of a task (``K`` drawn per meta-batch), with targets
  the Gaussian copula of their scores *within the support set* (exactly what a new study
  has: only the ranks of its own trials);
* inner loop: ``inner_steps`` steps of gradient descent on the support loss (MSE on the
  support copula; ``1 - Pearson`` with ``inner_loss="pearson"``), written with
  ``torch.func.functional_call`` and ``torch.func.grad`` so the parameters are a dict that
  is adapted without mutating the module. By default (``adapt="all"``) the inner loop
  changes every weight; ``adapt="context"`` (CAVIA, Zintgraf et al. 2019) changes only a
  small learned *task context* vector fed to the first layer. When the network reads only
  configurations and meta-features, adapting every weight ranked held-out tasks worse than
  not adapting; since it also reads the cross-task surrogate's prediction
  (:mod:`warmstart.maml_data`), adapting every weight ranks held-out *families* better
  than the context, than not adapting and than the cross-task surrogate alone
  (``BENCHMARKS.md``, 2026-12-02);
* outer loss on a query set of other evaluations of the same task: ``1 - Pearson
  correlation`` between adapted predictions and the task-level copula of the query scores
  (scale-free: the support fixes the scale), differentiated through the inner loop
  (second order) or not (``first_order=True``).

An ensemble of independently meta-trained members gives the predictive spread used by
acquisition functions. The public shape follows learn2learn: :meth:`MAMLEnsemble.clone`
then :meth:`AdaptedEnsemble` via :meth:`MAMLEnsemble.adapt`.
"""

from __future__ import annotations

import logging
import numbers
import threading
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from .checks import check_count
from .scores import copula, order_keeping_affine
from .threads import one_torch_thread

logger = logging.getLogger(__name__)
# functional_call swaps a shared module's parameters while it runs: not thread-safe
_FUNC_LOCK = threading.RLock()
#: key of the learned step-size slope in log(K) (K = support size) among the log-lrs
K_SLOPE = "k_slope"


def _k_shift(log_lr: dict, n: int) -> torch.Tensor | float:
    """The learned change of every log inner-lr with the number of observations ``n``:
    ``slope * log(n / 10)`` (few observations can call for smaller steps)."""
    if K_SLOPE not in log_lr:
        return 0.0
    return log_lr[K_SLOPE] * float(np.log(max(n, 1) / 10.0))


@dataclass
class MAMLConfig:
    """Hyperparameters of the MAML surrogate."""

    hidden: int = 64
    layers: int = 2
    inner_steps: int = 5
    inner_lr: float = 0.1
    meta_lr: float = 2e-3
    meta_iterations: int = 300
    meta_batch: int = 16
    k_min: int = 3
    k_max: int = 30
    query: int = 48
    members: int = 5
    first_order: bool = False
    weight_decay: float = 1e-4
    inner_loss: str = "mse"  # "mse" (on the support copula) or "pearson" (scale-free)
    #: the last ``embed_dim`` inputs describe the task (its scaled meta-features)
    embed_dim: int = 0
    #: std of Gaussian noise added to a task's description in each training episode, so
    #: the network cannot identify a training task from it and must adapt instead
    task_noise: float = 0.15
    #: size of a learned task context vector fed to the first layer (CAVIA, Zintgraf et
    #: al. 2019); 0 = none
    context_dim: int = 8
    #: what the inner loop adapts: ``"all"`` parameters (MAML) or the ``"context"`` vector
    #: only (CAVIA: few numbers to fit from few observations)
    adapt: str = "all"

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "meta_iterations", "meta_batch", "k_min", "query", "members"):
            check_count(f"maml {name}", getattr(self, name), 1)
        check_count("maml inner_steps", self.inner_steps, 0)
        if not isinstance(self.k_max, numbers.Integral) or self.k_max < self.k_min:
            raise ValueError(f"maml k_max must be an int >= k_min ({self.k_min}), got {self.k_max!r}")
        for name in ("inner_lr", "meta_lr"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
                raise ValueError(f"maml {name} must be a number > 0, got {value!r}")
        if self.adapt not in ("context", "all"):
            raise ValueError(f"adapt must be 'context' or 'all', got {self.adapt!r}")
        if self.adapt == "context" and self.context_dim < 1:
            raise ValueError(
                f"adapt='context' needs context_dim >= 1, got {self.context_dim}; "
                "set context_dim or use adapt='all'"
            )
        if self.inner_loss not in ("mse", "pearson"):
            raise ValueError(f"inner_loss must be 'mse' or 'pearson', got {self.inner_loss!r}")


class MLP(nn.Module):
    """A small MLP ``in_dim -> hidden^layers -> 1`` with SiLU activations."""

    def __init__(self, in_dim: int, hidden: int, layers: int, context_dim: int = 0) -> None:
        super().__init__()
        self.context_dim = context_dim
        if context_dim:
            self.context = nn.Parameter(torch.zeros(context_dim))
        dims = [in_dim + context_dim] + [hidden] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b), nn.SiLU()]
        blocks.append(nn.Linear(dims[-1], 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.context_dim:
            x = torch.cat([x, self.context.expand(*x.shape[:-1], self.context_dim)], dim=-1)
        return self.net(x).squeeze(-1)


def _pearson_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = pred - pred.mean()
    t = target - target.mean()
    return 1.0 - (p * t).sum() / (p.norm() * t.norm() + 1e-8)


class _Member:
    """One meta-trained network with its learned inner learning rates."""

    def __init__(self, in_dim: int, cfg: MAMLConfig, seed: int) -> None:
        torch.manual_seed(seed)
        self.model = MLP(in_dim, cfg.hidden, cfg.layers, cfg.context_dim)
        self.cfg = cfg
        self.params = {k: v.detach().clone() for k, v in self.model.named_parameters()}
        self.log_lr = {k: torch.full((), float(np.log(cfg.inner_lr))) for k in self.params}
        if "context" in self.log_lr:  # one small vector: larger steps (as in CAVIA)
            self.log_lr["context"] = torch.zeros(())
        self.log_lr[K_SLOPE] = torch.zeros(())

    # functional pieces ---------------------------------------------------------
    def _f(self, params: dict, x: torch.Tensor) -> torch.Tensor:
        return functional_call(self.model, params, (x,))

    def adapt_params(
        self, params: dict, log_lr: dict, xs: torch.Tensor, ys: torch.Tensor, steps: int,
        first_order: bool = False,
    ) -> dict:
        def support_loss(p: dict) -> torch.Tensor:
            pred = self._f(p, xs)
            if self.cfg.inner_loss == "pearson":
                return _pearson_loss(pred, ys)
            return ((pred - ys) ** 2).mean()

        shift = _k_shift(log_lr, xs.shape[-2])
        keys = _adapted_keys(self.cfg, list(params))
        for _ in range(steps):
            g = grad(support_loss)(params)
            if first_order:
                g = {k: v.detach() for k, v in g.items()}
            params = {k: params[k] - torch.exp(log_lr[k] + shift) * g[k] if k in keys else params[k]
                      for k in params}
        return params


def _adapted_keys(cfg: MAMLConfig, keys: list[str]) -> set[str]:
    """Names of the parameters the inner loop changes."""
    if cfg.adapt == "context":
        return {"context"}
    return set(keys)


class MAMLEnsemble:
    """An ensemble of MAML-trained MLP surrogates (see the module docstring)."""

    def __init__(self, in_dim: int, config: MAMLConfig | None = None, seed: int = 0) -> None:
        self.cfg = config or MAMLConfig()
        self.in_dim = in_dim
        self.seed = seed
        self.members = [_Member(in_dim, self.cfg, seed * 1000 + i) for i in range(self.cfg.members)]
        self.train_seconds = 0.0
        self.history: list[float] = []

    # ------------------------------------------------------------------ training
    def meta_train(self, tasks: list[tuple[np.ndarray, np.ndarray]]) -> MAMLEnsemble:
        """Meta-train every member on ``tasks``: a list of (inputs (n, in_dim), scores (n,))
        with higher scores better. Tasks need at least ``k_min + 2`` evaluations."""
        cfg = self.cfg
        usable = [(np.asarray(x, np.float32), np.asarray(y, np.float64)) for x, y in tasks
                  if len(y) >= cfg.k_min + 2 and np.ptp(y) > 0]
        if not usable:
            raise ValueError("MAML needs tasks with at least k_min + 2 distinct scores")
        task_level = [copula(y).astype(np.float32) for _, y in usable]
        start = time.perf_counter()
        threads = torch.get_num_threads()
        # tiny matrices: one thread avoids oversubscription (and is faster here)
        torch.set_num_threads(1)
        try:
            for mi, member in enumerate(self.members):
                rng = np.random.default_rng(self.seed * 7919 + mi)
                self.history.append(self._train_member(member, usable, task_level, rng))
        finally:
            torch.set_num_threads(threads)
        self.train_seconds = time.perf_counter() - start
        return self

    def _train_member(self, member: _Member, tasks, task_level, rng) -> float:
        cfg = self.cfg
        params = {k: v.clone().requires_grad_(True) for k, v in member.params.items()}
        log_lr = {k: v.clone().requires_grad_(True) for k, v in member.log_lr.items()}
        opt = torch.optim.Adam(
            [*params.values(), *log_lr.values()], lr=cfg.meta_lr, weight_decay=0.0
        )

        def episode_loss(p, lr, xs, ys, xq, yq):
            adapted = member.adapt_params(p, lr, xs, ys, cfg.inner_steps,
                                          first_order=cfg.first_order)
            return _pearson_loss(member._f(adapted, xq), yq)

        batched = vmap(episode_loss, in_dims=(None, None, 0, 0, 0, 0))
        last = float("nan")
        for it in range(cfg.meta_iterations):
            k = int(rng.integers(cfg.k_min, cfg.k_max + 1))
            picks = rng.integers(0, len(tasks), size=cfg.meta_batch)
            xs, ys, xq, yq = [], [], [], []
            for t in picks:
                x, _ = tasks[t]
                n = len(x)
                kk = min(k, n - 2)
                order = rng.permutation(n)
                s_idx = order[:kk]
                q_idx = order[kk:kk + cfg.query] if n - kk >= cfg.query else rng.choice(order[kk:], cfg.query)
                if kk < k:  # pad short tasks by resampling their support
                    s_idx = np.concatenate([s_idx, rng.choice(s_idx, k - kk)])
                xs_i, xq_i = x[s_idx], x[q_idx]  # copies (fancy indexing)
                if cfg.task_noise > 0 and cfg.embed_dim > 0:
                    shift = rng.normal(0.0, cfg.task_noise, cfg.embed_dim).astype(np.float32)
                    xs_i[:, -cfg.embed_dim:] += shift
                    xq_i[:, -cfg.embed_dim:] += shift
                xs.append(xs_i)
                # support targets: copula within the support set (what a study knows)
                ys.append(copula(task_level[t][s_idx]).astype(np.float32))
                xq.append(xq_i)
                yq.append(task_level[t][q_idx])
            xs_t = torch.from_numpy(np.stack(xs))
            ys_t = torch.from_numpy(np.stack(ys))
            xq_t = torch.from_numpy(np.stack(xq))
            yq_t = torch.from_numpy(np.stack(yq))
            loss = batched(params, log_lr, xs_t, ys_t, xq_t, yq_t).mean()
            decay = sum((v**2).sum() for v in params.values()) * cfg.weight_decay
            opt.zero_grad()
            (loss + decay).backward()
            opt.step()
            with torch.no_grad():
                for k, v in log_lr.items():
                    if k == K_SLOPE:
                        v.clamp_(-2.0, 2.0)
                    elif k == "context":
                        v.clamp_(np.log(1e-3), np.log(20.0))
                    else:
                        v.clamp_(np.log(1e-3), np.log(2.0))
            last = float(loss.detach())
            if it % 100 == 0:
                logger.debug("maml member iteration %d loss %.4f", it, last)
        member.params = {k: v.detach().clone() for k, v in params.items()}
        member.log_lr = {k: v.detach().clone() for k, v in log_lr.items()}
        return last

    # ------------------------------------------------------------------ use
    def adapt(self, x: np.ndarray, y: np.ndarray, steps: int | None = None) -> AdaptedEnsemble:
        """Adapt every member to observed inputs ``x`` and scores ``y`` (higher better).
        With no observations the meta-trained parameters are used as they are; with more
        than ``k_max`` a rank-spread subset of ``k_max`` is used."""
        with _FUNC_LOCK, one_torch_thread():
            return self._adapt(x, y, steps)

    def _adapt(self, x: np.ndarray, y: np.ndarray, steps: int | None) -> AdaptedEnsemble:
        steps = self.cfg.inner_steps if steps is None else steps
        stacked = self._stacked()
        y = np.asarray(y, dtype=np.float64)
        if len(y) > self.cfg.k_max:
            # adapt on at most k_max observations (the support sizes it was meta-trained
            # on), evenly spread over their ranks so the best and worst stay in
            keep = np.argsort(y, kind="stable")[np.linspace(0, len(y) - 1, self.cfg.k_max).round().astype(int)]
            x, y = np.asarray(x)[keep], y[keep]
        xs = torch.as_tensor(np.asarray(x, np.float32))
        if len(y) >= 2 and np.ptp(y) > 0:
            ys = torch.as_tensor(copula(np.asarray(y, np.float64)).astype(np.float32))
            # inference-time adaptation is first order; all members adapt at once on their
            # stacked parameters (one batched forward and one autograd call per step)
            shift = torch.stack([torch.as_tensor(_k_shift(m.log_lr, len(y))) for m in self.members])
            adapted = _adapted_keys(self.cfg, self._keys)
            which = [i for i, k in enumerate(self._keys) if k in adapted]
            rates = {i: torch.exp(torch.stack([m.log_lr[self._keys[i]] for m in self.members]) + shift)
                     for i in which}
            params = list(stacked)
            with torch.enable_grad():
                for _ in range(steps):
                    leaves = [p.detach().requires_grad_(i in rates) for i, p in enumerate(params)]
                    loss = _stacked_support_loss(leaves, xs, ys, self.cfg.inner_loss)
                    grads = torch.autograd.grad(loss, [leaves[i] for i in which])
                    for i, g in zip(which, grads):
                        r = rates[i].reshape((-1,) + (1,) * (leaves[i].dim() - 1))
                        leaves[i] = (leaves[i] - r * g).detach()
                    params = leaves
            return AdaptedEnsemble(params, xs, ys)
        return AdaptedEnsemble(stacked)

    @property
    def _keys(self) -> list[str]:
        return list(self.members[0].params)

    def _stacked(self) -> list[torch.Tensor]:
        """Member parameters stacked along a leading member axis, in layer order."""
        return [torch.stack([m.params[k] for m in self.members]) for k in self._keys]

    def clone(self) -> MAMLEnsemble:
        """A copy whose adaptation cannot touch this ensemble's parameters."""
        other = MAMLEnsemble(self.in_dim, self.cfg, self.seed)
        for dst, src in zip(other.members, self.members):
            dst.params = {k: v.clone() for k, v in src.params.items()}
            dst.log_lr = {k: v.clone() for k, v in src.log_lr.items()}
        return other

    # ------------------------------------------------------------------ persistence
    def state_dict(self) -> dict[str, torch.Tensor]:
        """Tensors only (loadable with ``torch.load(..., weights_only=True)``)."""
        out: dict[str, torch.Tensor] = {}
        for i, m in enumerate(self.members):
            for k, v in m.params.items():
                out[f"member{i}.param.{k}"] = v
            for k, v in m.log_lr.items():
                out[f"member{i}.log_lr.{k}"] = v
        return out

    @classmethod
    def from_state(cls, in_dim: int, config: dict, state: dict[str, torch.Tensor], seed: int = 0) -> MAMLEnsemble:
        """Rebuild from a config dict and a state dict (see :meth:`state_dict`)."""
        # knowledge bases saved before the context existed adapted every weight
        config = {"context_dim": 0, "adapt": "all", **config}
        ens = cls(in_dim, MAMLConfig(**config), seed)
        for i, m in enumerate(ens.members):
            for k in list(m.params):
                key = f"member{i}.param.{k}"
                if key not in state:
                    raise ValueError(f"MAML state lacks tensor {key!r}")
                if state[key].shape != m.params[k].shape:
                    raise ValueError(
                        f"MAML tensor {key!r} has shape {tuple(state[key].shape)}, expected "
                        f"{tuple(m.params[k].shape)} (other feature list or space?)"
                    )
                m.params[k] = state[key].clone()
                m.log_lr[k] = state[f"member{i}.log_lr.{k}"].clone()
            slope = state.get(f"member{i}.log_lr.{K_SLOPE}")
            m.log_lr[K_SLOPE] = torch.zeros(()) if slope is None else slope.clone()
        return ens

    def config_dict(self) -> dict:
        return asdict(self.cfg)


def _fold_context(params: list[torch.Tensor]) -> list[torch.Tensor]:
    """Stacked parameters with the context (if any, first) folded into the first layer's
    bias: the context is a constant input, so ``W [x; c] + b = W_x x + (b + W_c c)``."""
    if len(params) % 2 == 0:
        return params
    context, w, b = params[0], params[1], params[2]
    c_dim = context.shape[1]
    shift = torch.bmm(w[:, :, -c_dim:], context.unsqueeze(-1)).squeeze(-1)
    return [w[:, :, :-c_dim].contiguous(), b + shift, *params[3:]]


def _stacked_forward(params: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """All members' MLP outputs at once: ``params`` alternate stacked weights ``(M, out,
    in)`` and biases ``(M, out)`` in layer order (the :class:`MLP` layout), after a stacked
    context ``(M, context_dim)`` when the network has one; returns ``(M, n)``. Equal to
    running each member's module on ``x``."""
    params = _fold_context(params)
    n_members, width, _ = params[0].shape
    # first layer: the input is shared, so one (n, in) x (in, members*width) product
    h = (x @ params[0].reshape(n_members * width, -1).T).reshape(len(x), n_members, width)
    h = h.transpose(0, 1) + params[1].unsqueeze(1)
    n_layers = len(params) // 2
    for i in range(n_layers):
        if i > 0:
            w, b = params[2 * i], params[2 * i + 1]
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
        if i < n_layers - 1:
            h = torch.nn.functional.silu(h)
    return h.squeeze(-1)


def _stacked_support_loss(params: list[torch.Tensor], xs: torch.Tensor, ys: torch.Tensor, kind: str) -> torch.Tensor:
    """Sum over members of each member's support loss (members are independent, so the
    gradient of the sum is each member's own gradient)."""
    pred = _stacked_forward(params, xs)
    if kind == "pearson":
        p = pred - pred.mean(dim=1, keepdim=True)
        t = ys - ys.mean()
        corr = (p * t).sum(dim=1) / (p.norm(dim=1) * t.norm() + 1e-8)
        return (1.0 - corr).sum()
    return ((pred - ys) ** 2).mean(dim=1).sum()


class AdaptedEnsemble:
    """Members adapted to one task; :meth:`predict` gives ensemble mean and spread."""

    def __init__(
        self, params: list[torch.Tensor], xs: torch.Tensor | None = None,
        ys: torch.Tensor | None = None,
    ) -> None:
        self._params = _fold_context(params)  # once, not at every prediction
        # each member's output is put on the scale of the observed (copula) targets by an
        # order-keeping least-squares affine map (identity without observations)
        m = params[0].shape[0]
        self._a = np.ones(m)
        self._b = np.zeros(m)
        if xs is not None and ys is not None and len(xs):
            with torch.no_grad():
                f = _stacked_forward(self._params, xs).numpy().astype(np.float64)
            self._a, self._b = order_keeping_affine(f, ys.numpy())

    def predict_members(self, x: np.ndarray) -> np.ndarray:
        """``(members, n)`` predictions on the observed scale."""
        xt = torch.as_tensor(np.asarray(x, np.float32))
        with one_torch_thread(), torch.no_grad():
            raw = _stacked_forward(self._params, xt).numpy().astype(np.float64)
        return self._a[:, None] * raw + self._b[:, None]

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        preds = self.predict_members(x)
        return preds.mean(axis=0), preds.std(axis=0)
