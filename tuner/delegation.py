"""What a fitted search delegates to its best estimator (``predict``, ``score``...), as
scikit-learn's own searches do: each method exists when the estimator has it and needs
``refit=True``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted


def _estimator_has(attr: str) -> Callable[[Any], bool]:
    def check(self: Any) -> bool:
        if hasattr(self, "best_estimator_"):
            getattr(self.best_estimator_, attr)  # raises AttributeError with its message
            return True
        getattr(self.estimator, attr)
        return True

    return check


class BestEstimatorDelegation:
    """Mixin: the fitted ``best_estimator_``'s prediction methods on the search itself."""

    def _check_refit(self, method: str) -> None:
        if not self.refit:
            raise AttributeError(
                f"This MetaSearchCV was fitted with refit=False; {method} is available only "
                "after refitting on the best parameters. Refit an estimator with "
                "estimator.set_params(**search.best_params_).fit(X, y)."
            )
        check_is_fitted(self)

    @property
    def classes_(self) -> np.ndarray:
        """Class labels (classifiers)."""
        if hasattr(self, "best_estimator_") and hasattr(self.best_estimator_, "classes_"):
            return self.best_estimator_.classes_
        if hasattr(self, "_classes"):
            return self._classes
        raise AttributeError(f"{type(self).__name__} has no classes_ (not fitted, or not a classifier)")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "cv_results_")

    def score(self, X: Any, y: Any = None) -> float:
        """The search's scorer applied to ``best_estimator_`` on ``X, y``."""
        self._check_refit("score")
        return float(self.scorer_(self.best_estimator_, X, y))

    @available_if(_estimator_has("predict"))
    def predict(self, X: Any) -> np.ndarray:
        """``best_estimator_.predict(X)``."""
        self._check_refit("predict")
        return self.best_estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """``best_estimator_.predict_proba(X)``."""
        self._check_refit("predict_proba")
        return self.best_estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``best_estimator_.predict_log_proba(X)``."""
        self._check_refit("predict_log_proba")
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X: Any) -> np.ndarray:
        """``best_estimator_.decision_function(X)``."""
        self._check_refit("decision_function")
        return self.best_estimator_.decision_function(X)

    @available_if(_estimator_has("transform"))
    def transform(self, X: Any) -> Any:
        """``best_estimator_.transform(X)``."""
        self._check_refit("transform")
        return self.best_estimator_.transform(X)

    @available_if(_estimator_has("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        """``best_estimator_.inverse_transform(X)``."""
        self._check_refit("inverse_transform")
        return self.best_estimator_.inverse_transform(X)

    @available_if(_estimator_has("score_samples"))
    def score_samples(self, X: Any) -> np.ndarray:
        """``best_estimator_.score_samples(X)``."""
        self._check_refit("score_samples")
        return self.best_estimator_.score_samples(X)
