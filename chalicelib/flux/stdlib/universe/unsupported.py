"""Known Flux functions tickless does not implement: calling one raises `function X is not supported`."""

from __future__ import annotations

from chalicelib.flux.interpreter import builtin
from chalicelib.flux.stdlib.library import UNIVERSE
from chalicelib.flux.values import FluxError


def not_supported(name: str):
    def impl(interp, **kwargs):
        raise FluxError(f"function {name} is not supported")

    fn = builtin(name, "", "", None)(impl)
    fn.call = lambda interp, args, pipe=None: impl(interp)  # type: ignore[method-assign]
    return fn


for _name in (
    "integral",
    "holtWinters",
    "histogram",
    "histogramQuantile",
    "exponentialMovingAverage",
    "timedMovingAverage",
    "kaufmansAMA",
    "chandeMomentumOscillator",
    "relativeStrengthIndex",
    "pearsonr",
    "cov",
    "covariance",
    "stateCount",
    "stateDuration",
    "hourSelection",
    "lowestAverage",
    "highestAverage",
    "highestMax",
    "lowestMin",
    "highestCurrent",
    "lowestCurrent",
    "sample",
    "mode",
    "tripleEMA",
    "doubleEMA",
    "truncateTimeColumn",
    "keyValues",
    "sleep",
    "experimental",
    "display",
):
    UNIVERSE.setdefault(_name, not_supported(_name))  # an implemented function of the name wins
