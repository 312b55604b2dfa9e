"""Kapacitor's `holtWinters(field, h, m, interval)` and `holtWintersWithFit(...)`: InfluxDB 1.x's Holt-Winters
reducer (query.FloatHoltWintersReducer), a damped triple exponential smoothing whose parameters (alpha,
beta, gamma, phi, the initial level, trend and seasonals) are fitted by a Nelder-Mead simplex started from a
grid of guesses, then forecast `h` points at `interval` after the batch's last point (and, with fit, the
fitted values from its first point). The reducer lives for one batch: the node keeps no state across them.

Bit for bit as Go computes it: the same evaluation order, Go's float division by zero (Inf/NaN, not an
exception), Go's math.Pow for integer powers (repeated squaring, not libm's pow), Go's truncating integer
division for rounding times, and the objective mutating the simplex vertex it is given (clamping the
smoothing parameters to [0, 1] and overwriting the seasonals in place), as the Go slices do."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chalicelib.kit.errors import invalid

METHOD = "holtWinters"

# Starting guesses: a grid over alpha, beta, gamma and phi from 0.3 by 0.4 below 1.0 (0.3 and 0.7).
_WEIGHT = 0.5
_EPSILON = 1.0e-4
_GUESS_LOWER, _GUESS_UPPER, _GUESS_STEP = 0.3, 1.0, 0.4

# The Nelder-Mead optimizer's settings (InfluxDB's query/neldermead defaults).
_MAX_ITERATIONS = 1000
_REFLECT, _CONTRACT, _EXPAND = 1.0, 0.5, 2.0

Reduced = tuple[int | None, Any, dict[str, str], dict[str, Any]]


# ---- Go's float and integer arithmetic -----------------------------------------------------------------


def _div(a: float, b: float) -> float:
    """a / b as Go divides floats: by zero gives ±Inf, or NaN for 0/0 and NaN/0."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def go_pow_int(x: float, n: int) -> float:
    """Go's math.Pow(x, float64(n)) for an integer n >= 1: repeated squaring of the mantissa, which can
    differ from libm's pow in the last bits."""
    if n == 1:
        return x
    if x == 1.0:
        return 1.0
    if x != x:
        return math.nan
    if x == 0.0:
        return math.copysign(0.0, x) if n & 1 else 0.0
    if math.isinf(x):
        return x if x > 0 or n & 1 else math.inf
    a1, ae = 1.0, 0
    x1, xe = math.frexp(x)
    i = n
    while i:
        if xe < -4096 or xe > 4096:  # catastrophic over/underflow: Ldexp settles it
            ae += xe
            break
        if i & 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1
    try:
        return math.ldexp(a1, ae)
    except OverflowError:
        return math.copysign(math.inf, a1)


def _go_quo(a: int, b: int) -> int:
    """Go's integer division, truncating toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def _round_time(t: int, interval: int) -> int:
    half = _go_quo(interval, 2)
    remainder = t - _go_quo(t, interval) * interval
    if remainder > half:
        return (_go_quo(t, interval) + 1) * interval
    return _go_quo(t, interval) * interval


# ---- the model -----------------------------------------------------------------------------------------


def _constrain(x: list[float]) -> None:
    """alpha, beta, gamma and phi into [0, 1], in place (NaN stays NaN, as in Go)."""
    for i in range(4):
        if x[i] > 1:
            x[i] = 1.0
        if x[i] < 0:
            x[i] = 0.0


def _powers(x: float, size: int) -> list[float]:
    """[Go's math.Pow(x, t) for t in range(size)] (index 0 unused). Go squares the mantissa and multiplies in
    the bits of t from the lowest, so x**t is x**(t - 2**k) times the k-th square, k t's highest bit: the
    very same float operations, one per t."""
    out = [1.0] * size
    if size <= 1:
        return out
    if x == 1.0 or x != x or x == 0.0 or math.isinf(x):
        for t in range(1, size):
            out[t] = go_pow_int(x, t)
        return out
    squares: list[tuple[float, int]] = []
    x1, xe = math.frexp(x)
    for _ in range((size - 1).bit_length()):
        if xe < -4096 or xe > 4096:  # Go's catastrophic branch: take the slow path
            for t in range(1, size):
                out[t] = go_pow_int(x, t)
            return out
        squares.append((x1, xe))
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
    # t in [2**k, 2**(k+1)) is t - 2**k (already known) times the k-th square.
    mantissas, exponents = [1.0], [0]
    for m1, e1 in squares:
        mantissas += [v * m1 for v in mantissas]
        exponents += [e + e1 for e in exponents]
    out = list(map(math.ldexp, mantissas[:size], exponents[:size]))
    out[0], out[1] = 1.0, x
    return out


def forecast(y: list[float], seasonal: bool, h: int, params: list[float]) -> list[float]:
    """The fitted values of `y` then `h` forecasts, for params [alpha, beta, gamma, phi, l0, b0, s...];
    `params` is clamped and its seasonals overwritten, as the Go reducer does to the slice it gets."""
    _constrain(params)
    alpha, beta, gamma, phi = params[0], params[1], params[2], params[3]
    y_t = y[0]
    phi_h = phi
    l_t, b_t = params[4], params[5]
    size = len(y) + h
    out = [0.0] * size
    out[0] = y_t
    pows = _powers(phi, size)
    one_alpha, one_beta, one_gamma = 1 - alpha, 1 - beta, 1 - gamma
    if not seasonal:
        for t in range(1, size):
            l_p = l_t
            damped = l_p + phi * b_t
            l_t = alpha * y_t + one_alpha * damped  # y/s and *s with s = 1.0: exact identities
            b_t = beta * (l_t - l_p) + one_beta * phi * b_t
            y_t = l_t + phi_h * b_t
            phi_h += pows[t]
            out[t] = y_t
        return out
    m = len(params) - 6
    if m == 1:
        params[6] = 1.0
    so = m - 1
    for t in range(1, size):
        stm = params[6 + (t - m + so) % m]
        stmh = params[6 + (t - m + t % m + so) % m]
        l_p, b_p = l_t, b_t
        damped = l_p + phi * b_p
        l_t = alpha * (y_t / stm if stm else _div(y_t, stm)) + one_alpha * damped
        b_t = beta * (l_t - l_p) + one_beta * phi * b_p
        s_t = gamma * (y_t / damped if damped else _div(y_t, damped)) + one_gamma * stm
        y_t = (l_t + phi_h * b_t) * stmh
        phi_h += pows[t]
        params[6 + (t + so) % m] = s_t
        so += 1
        out[t] = y_t
    return out


def _sse(y: list[float], seasonal: bool) -> Callable[[list[float]], float]:
    def sse(params: list[float]) -> float:
        total = 0.0
        for value, fitted in zip(y, forecast(y, seasonal, 0, params), strict=True):
            if value != value:  # a missing value has no error
                continue
            if fitted != fitted:  # forecast NaNs are penalized
                return math.inf
            diff = fitted - value
            total += diff * diff
        return total

    return sse


def nelder_mead(
    objective: Callable[[list[float]], float], start: list[float], epsilon: float, scale: float
) -> tuple[float, list[float]]:
    """InfluxDB's Nelder-Mead simplex (after Michael F. Hutt's): the minimum found and where."""
    n = len(start)
    pn = scale * (math.sqrt(n + 1) - 1 + n) / (n * math.sqrt(2))
    qn = scale * (math.sqrt(n + 1) - 1) / (n * math.sqrt(2))
    v = [list(start)] + [[(pn if i - 1 == j else qn) + start[j] for j in range(n)] for i in range(1, n + 1)]
    f = [objective(vertex) for vertex in v]
    rng = range(n)
    for _ in range(_MAX_ITERATIONS):
        vg = vs = 0
        for i in range(n + 1):
            if f[i] > f[vg]:
                vg = i
            if f[i] < f[vs]:
                vs = i
        vh = vs
        for i in range(n + 1):
            if f[i] > f[vh] and f[i] < f[vg]:
                vh = i
        vm = []
        for i in rng:
            cent = 0.0
            for k in range(n + 1):
                if k != vg:
                    cent += v[k][i]
            vm.append(cent / n)
        worst = v[vg]
        vr = [vm[i] + _REFLECT * (vm[i] - worst[i]) for i in rng]
        fr = objective(vr)
        if fr < f[vh] and fr >= f[vs]:
            v[vg] = list(vr)
            f[vg] = fr
        if fr < f[vs]:
            ve = [vm[i] + _EXPAND * (vr[i] - vm[i]) for i in rng]
            fe = objective(ve)
            if fe < fr:
                v[vg], f[vg] = list(ve), fe
            else:
                v[vg], f[vg] = list(vr), fr
        if fr >= f[vh]:
            worst = v[vg]
            if fr < f[vg] and fr >= f[vh]:  # outside contraction
                vc = [vm[i] + _CONTRACT * (vr[i] - vm[i]) for i in rng]
            else:  # inside contraction
                vc = [vm[i] - _CONTRACT * (vm[i] - worst[i]) for i in rng]
            fc = objective(vc)
            if fc < f[vg]:
                v[vg], f[vg] = list(vc), fc
            else:
                # Shrink toward the best vertex; only the worst two are evaluated again, as in Go.
                best = v[vs]
                for row in range(n + 1):
                    if row != vs:
                        v[row] = [best[i] + (v[row][i] - best[i]) / 2.0 for i in rng]
                f[vg] = objective(v[vg])
                f[vh] = objective(v[vh])
        favg = _sum_in_order(f) / (n + 1)
        s = 0.0
        for value in f:
            d = value - favg
            s += d * d / n
        if math.sqrt(s) < epsilon:
            break
    vs = 0
    for i in range(n + 1):
        if f[i] < f[vs]:
            vs = i
    parameters = list(v[vs])
    return objective(v[vs]), parameters


def _sum_in_order(values: list[float]) -> float:
    # Left to right, as Go adds (Python 3.12's sum() compensates).
    total = 0.0
    for value in values:
        total += value
    return total


# ---- the reducer ---------------------------------------------------------------------------------------


def holt_winters(
    points: list[tuple[int, float]], h: int, m: int, include_fit: bool, interval: int
) -> list[tuple[int, float]]:
    """FloatHoltWintersReducer's Emit over the (time, value) points of one batch, in their order."""
    seasonal = m >= 2
    if len(points) < 2 or (seasonal and len(points) < m) or h <= 0:
        return []
    if interval <= 0:
        raise invalid(f"holtWinters needs a positive interval, got {interval}")
    start, stop = _round_time(points[0][0], interval), _round_time(points[-1][0], interval)
    if _go_quo(stop - start, interval) <= 0:
        return []
    y = [float(points[0][1])]
    t = start
    for time, value in points[1:]:
        rounded = _round_time(time, interval)
        if rounded <= t:  # one value per interval: the first
            continue
        t += interval
        while rounded != t:  # NaN for each missing interval
            y.append(math.nan)
            t += interval
        y.append(float(value))
    if seasonal and len(y) < m:
        # Go indexes past the end of its series here and panics.
        raise invalid(f"holtWinters needs at least m={m} distinct intervals of data, got {len(y)}")

    l0 = 0.0
    if seasonal:
        for i in range(m):
            if y[i] == y[i]:
                l0 += (1 / m) * y[i]
    else:
        l0 += _WEIGHT * y[0]
    b0 = 0.0
    if seasonal:
        i = 0
        while i < m and m + i < len(y):
            if y[i] == y[i] and y[m + i] == y[m + i]:
                b0 += 1 / (m * m) * (y[m + i] - y[i])
            i += 1
    elif y[1] == y[1]:
        b0 = _WEIGHT * (y[1] - y[0])
    seasonals = []
    if seasonal:
        seasonals = [(y[i] / l0 if l0 else _div(y[i], l0)) if y[i] == y[i] else 0.0 for i in range(m)]
    parameters = [0.0, 0.0, 0.0, 0.0, l0, b0, *seasonals]

    objective = _sse(y, seasonal)
    min_sse = math.inf
    best: list[float] | None = None
    alpha = _GUESS_LOWER
    while alpha < _GUESS_UPPER:
        beta = _GUESS_LOWER
        while beta < _GUESS_UPPER:
            gamma = _GUESS_LOWER
            while gamma < _GUESS_UPPER:
                phi = _GUESS_LOWER
                while phi < _GUESS_UPPER:
                    parameters[0:4] = [alpha, beta, gamma, phi]
                    sse, params = nelder_mead(objective, parameters, _EPSILON, 1)
                    if sse < min_sse or best is None:
                        min_sse, best = sse, params
                    phi += _GUESS_STEP
                gamma += _GUESS_STEP
            beta += _GUESS_STEP
        alpha += _GUESS_STEP

    assert best is not None
    forecasted = forecast(y, seasonal, h, best)
    if include_fit:
        first = points[0][0]
        return [(first + interval * i, v) for i, v in enumerate(forecasted) if v == v]
    last = points[-1][0]
    return [(last + interval * (i + 1), v) for i, v in enumerate(forecasted[len(y) :]) if v == v]


def reduce(entries: list[Any], kind: str, args: list[Any]) -> list[Reduced]:
    """The InfluxQL node's slice reducer: entries [time, value, tags, fields]; args [h, m, interval,
    with_fit] as the pipeline records them. Integer fields are forecast as floats."""
    h, m, interval = int(args[0]), int(args[1]), int(args[2])
    include_fit = bool(args[3]) if len(args) > 3 else False
    out = holt_winters([(e[0], e[1]) for e in entries], h, m, include_fit, interval)
    return [(t, v, {}, {}) for t, v in out]
