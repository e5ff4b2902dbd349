"""Which configuration should the warm start's last trial take? Lookups on a ``bench
tuning`` run's objective models.

For every held-out task of the run's folds (its fold knowledge base, its objective model),
the warm start's first nine trials are replayed as ``MetaSampler`` takes them (the
portfolio, then the follow: :func:`tuner.bench.knowledge.followed_warm_start`; the objective
models are deterministic, so these are lookups), and the regret after ten trials is
compared for several ways of choosing the tenth:

* ``follow``: the tenth known configuration the follow picks (the warm start before
  session 22);
* ``random near best``: a uniform point within ``REFINE_HALF_WIDTH`` of the best so far
  (unit cube of the knowledge's space);
* ``cross-task argmax near best`` / ``adapted argmax near best``: the candidate near the
  best (200 of them) the unadapted cross-task XGBoost surrogate / the MAML surrogate
  adapted to the nine trials scores highest;
* ``EI`` / ``EI near best``: the surrogate phase's proposal (adapted surrogate as the prior
  mean of a residual GP, expected improvement) over its usual candidate pool / over
  candidates near the best (what ``MetaSampler`` does since session 22);
* ``best near best (oracle)``: the best of those candidates under the objective model
  itself, an upper bound.

Random choices are repeated over ``SEEDS`` seeds and averaged per task::

    python -m tuner.bench.analysis.last_trial BENCH_DIR OUT.parquet [TASKS_FILE]
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.bench.folds import task_folds
from tuner.bench.knowledge import followed_warm_start
from tuner.bench.objectives import TaskObjective
from tuner.gp import (
    REFINE_HALF_WIDTH,
    candidate_units,
    expected_improvement,
    local_units,
    residual_gp,
)
from warmstart import KnowledgeBase, MetaDataset, spaces
from warmstart.scores import copula
from warmstart.surrogate import encode_configs

SEEDS = 5
N_NEAR = 200  # candidates near the best so far


def followed_ten(kb: KnowledgeBase, mf: pd.Series, f: TaskObjective) -> tuple[list[dict], list[float]]:
    """The warm start's ten known configurations as MetaSampler takes them
    (:func:`tuner.bench.knowledge.followed_warm_start` on the objective model's values of
    every known configuration), and their values."""
    keys = [json.dumps(c, sort_keys=True) for c in kb.configs]
    table = dict(zip(keys, f.model.predict(encode_configs(kb.space, kb.configs)).tolist()))
    observed = followed_warm_start(kb, mf, table, n=10)
    return observed, [table[json.dumps(c, sort_keys=True)] for c in observed]


def _ways(kb: KnowledgeBase, mf: pd.Series, f: TaskObjective, obs: list[dict], vals: np.ndarray,
          sur: Any, rng: np.random.RandomState) -> dict[str, dict]:
    """The tenth configuration of each way, given the first nine (``obs``, ``vals``)."""
    sp = kb.space
    names = sp.params
    dists = dict(sp.distributions)

    def unit(c: dict) -> np.ndarray:
        return np.array([spaces.to_unit(dists[p], c[p]) for p in names])

    def config(u: np.ndarray) -> dict:
        return {p: spaces.from_unit(dists[p], float(x)) for p, x in zip(names, np.clip(u, 0.0, 1.0))}

    U = np.array([unit(c) for c in obs])
    # candidates near the best so far, drawn as the sampler draws them
    near = local_units(rng, N_NEAR, dists, names, obs[int(np.argmax(vals))], REFINE_HALF_WIDTH)
    near_c = [config(u) for u in near]
    target = copula(vals)

    def ei(units: np.ndarray) -> dict:
        cs = [config(u) for u in units]
        mean, std = residual_gp(U, target - sur.predict_observed(), units, dists, names)
        return cs[int(np.argmax(expected_improvement(mean + sur.predict(cs)[0], std, float(target.max()))))]

    pool = candidate_units(np.random.RandomState(rng.randint(2**31)), 1000, dists, names, obs, vals)

    def pick(score: np.ndarray) -> dict:
        return near_c[int(np.argmax(score))]

    return {
        "random near best": near_c[0],
        "cross-task argmax near best": pick(kb.cross_task_predict(mf, near_c)),
        "adapted argmax near best": pick(sur.predict(near_c)[0]),
        "EI": ei(pool),
        "EI near best": ei(near),
        "best near best (oracle)": pick(f.model.predict(encode_configs(sp, near_c))),
    }


def main(bench_dir: str, out: str, tasks_file: str | None = None) -> None:
    warnings.simplefilter("ignore")
    bench = Path(bench_dir)
    proto = json.loads((bench / "protocol.json").read_text())
    space = proto["space"]
    md = MetaDataset.default().filter(space=space)
    mf_all = md.metafeatures()
    only = set(Path(tasks_file).read_text().split()) if tasks_file else None
    rows = []
    for fi, held in enumerate(task_folds(md, proto["folds"], seed=0)):
        kb_dir = bench / "kb" / f"fold{fi}"
        todo = [t for t in held if only is None or t in only]
        if not todo or not (kb_dir / "held_out.json").exists():
            continue
        kb = KnowledgeBase.load(kb_dir)
        for tid in todo:
            f = TaskObjective(md, tid, space, kb.metric)
            mf = mf_all.loc[tid]
            obs, vals = followed_ten(kb, mf, f)
            best9 = max(vals[:9])
            row = {"task_id": tid, "fold": fi, "nine": f.regret(best9), "follow": f.regret(max(vals))}
            per: dict[str, list[float]] = {}
            sur = kb.adapt(mf, obs[:9], vals[:9])  # the surrogate phase's, adapted to the nine
            for seed in range(SEEDS):
                ways = _ways(kb, mf, f, obs[:9], np.array(vals[:9]), sur, np.random.RandomState(100 + seed))
                for name, c in ways.items():
                    per.setdefault(name, []).append(f.regret(max(best9, f(c))))
            rows.append({**row, **{k: float(np.mean(v)) for k, v in per.items()}})
        print(f"fold {fi}: {len(todo)} tasks", file=sys.stderr, flush=True)
        pd.DataFrame(rows).to_parquet(out)
    df = pd.DataFrame(rows)
    df.to_parquet(out)
    base = df["follow"]
    print(f"{len(df)} held-out tasks, regret after ten trials (the tenth chosen each way)\n")
    print("| the tenth trial | median | mean | better / worse than the follow's |")
    print("|---|---|---|---|")
    for c in df.columns.drop(["task_id", "fold"]):
        better, worse = int((df[c] < base - 1e-9).sum()), int((df[c] > base + 1e-9).sum())
        print(f"| {c} | {df[c].median():.4f} | {df[c].mean():.4f} | {better} / {worse} |")


if __name__ == "__main__":  # pragma: no cover
    main(*sys.argv[1:])
