"""W&B's sweep engine, the `sweeps` package (pip install -e '.[sweeps]'): its config schema and
validator, its run model and its search methods (grid, random, bayes).

sweeps 0.2 declares its pydantic model in pydantic-1 style; pydantic 2 warns about that once at
import, harmlessly, so the import is quiet. Under pydantic 2 the model takes its fields only by
their W&B names (summaryMetrics, sampledHistory): the Python names are silently ignored.
"""

import warnings

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sweeps
        from sklearn.exceptions import ConvergenceWarning
        from sweeps import RunState, SweepConfig, SweepRun
except ImportError as error:
    raise ImportError(
        "offline sweeps and sweep-config checks use W&B's search engine, the `sweeps` package: "
        "pip install -e '.[sweeps]'"
    ) from error

__all__ = ["ConvergenceWarning", "RunState", "SweepConfig", "SweepRun", "sweeps"]
