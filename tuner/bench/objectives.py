"""The objectives of the tuning benchmark: a held-out task's objective model (a surrogate
of its own evaluations) or its real cross-validation, each with its normalized regret."""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np

from warmstart import MetaDataset, spaces
from warmstart.scores import metric_sign, normalized_regret, spearman
from warmstart.surrogate import encode_configs


@functools.lru_cache(maxsize=4)
def _random_configs(space: str, seed: int) -> np.ndarray:
    """20,000 random configurations of a space, encoded (the same for every task: the
    reference of the normalized regret)."""
    sp = spaces.get_search_space(space)
    rng = np.random.default_rng(seed)
    rand = [{p: spaces.from_unit(sp.distributions[p], u) for p, u in zip(sp.params, row)}
            for row in rng.random((20_000, len(sp.params)))]
    enc = encode_configs(sp, rand)
    enc.flags.writeable = False
    return enc


class TaskObjective:
    """A held-out task's objective: an XGBoost surrogate of its own evaluations."""

    def __init__(self, md: MetaDataset, task_id: str, space: str, metric: str, seed: int = 0) -> None:
        import xgboost
        from sklearn.model_selection import cross_val_predict

        self.space = spaces.get_search_space(space)
        ev = md.evaluations
        sub = ev[(ev["task_id"] == task_id) & (ev["status"] == "ok") & ev[metric].notna()]
        sign = metric_sign(metric)
        configs = [json.loads(c) for c in sub["config"]]
        X = encode_configs(self.space, configs)
        y = sign * sub[metric].to_numpy(np.float64)
        params = dict(n_estimators=300, max_depth=5, learning_rate=0.05, subsample=0.9,
                      colsample_bytree=0.9, n_jobs=1, random_state=seed)
        self.model = xgboost.XGBRegressor(**params).fit(X, y)
        oof = cross_val_predict(xgboost.XGBRegressor(**params), X, y, cv=5)
        self.cv_spearman = spearman(oof, y)
        pred = self.model.predict(_random_configs(space, seed))
        self.y_max = float(max(np.max(y), np.max(pred)))
        self.y_ref = float(np.median(pred))
        self.table_configs, self.table_scores = configs, y

    def __call__(self, config: dict[str, Any]) -> float:
        return float(self.model.predict(encode_configs(self.space, [config]))[0])

    def regret(self, best: float) -> float:
        return normalized_regret(best, self.y_max, self.y_ref)


class RealObjective:
    """A held-out task's real objective (``--real``): each configuration is
    cross-validated on the task's data exactly as the meta-dataset's build did (same folds,
    row cap and seeds), so a configuration of the table scores its table value. Regret is
    normalized by the table's maximum and median."""

    def __init__(self, md: MetaDataset, task_id: str, space: str, metric: str) -> None:
        from warmstart.fidelity import level_data
        from warmstart.protocol import task_seed
        from warmstart.tasks import load_task, suite_specs

        build = (md.manifest.get("builds") or {}).get(space)
        if not build:
            raise ValueError(f"the meta-dataset's manifest has no build of {space!r}: --real needs its protocol")
        specs, base = suite_specs(build["suite"])
        info = md.tasks.set_index("task_id").loc[task_id] if task_id in set(md.tasks["task_id"]) else None
        source = str(info["source"]) if info is not None else task_id  # a fidelity: SOURCE@ROWS
        spec = next((sp for sp in specs if sp["source"] == source), None)
        if spec is None:
            raise ValueError(f"task {task_id!r} is not in the build's suite {build['suite']!r}")
        self.space = spaces.get_search_space(space)
        self.metric, self.sign = metric, metric_sign(metric)
        self.folds, self.seed = int(build["folds"]), task_seed(source, int(build["seed"]))
        # exactly the rows the build evaluated for this task (one fidelity of its table)
        self.X, self.y = level_data(load_task(spec, base), task_id, build)
        ev = md.evaluations
        sub = ev[(ev["task_id"] == task_id) & (ev["status"] == "ok") & ev[metric].notna()]
        self.table_configs = [json.loads(c) for c in sub["config"]]
        self.table_scores = self.sign * sub[metric].to_numpy(np.float64)
        self.y_max, self.y_ref = float(np.max(self.table_scores)), float(np.median(self.table_scores))
        self.cv_spearman = 1.0  # the objective is the real thing

    def __call__(self, config: dict[str, Any]) -> float:
        from warmstart.protocol import cross_validate

        rec = cross_validate(self.space, config, self.X, self.y, folds=self.folds, seed=self.seed)
        value = rec.get(self.metric, float("nan"))
        return float(self.sign * value) if np.isfinite(value) else float("nan")

    def regret(self, best: float) -> float:
        return normalized_regret(best, self.y_max, self.y_ref)
