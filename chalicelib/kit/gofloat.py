"""Floats written as Go writes them with strconv.FormatFloat(v, 'f', -1, 64): the shortest digits
that read back to the same float, never an exponent. InfluxQL CSV, Flux CSV and bound InfluxQL
parameters all write floats this way."""

from __future__ import annotations

import math
from decimal import Decimal


def format_float(v: float) -> str:
    text = repr(v)  # shortest round-trip digits too; an exponent, inf and nan take the long way
    if "e" not in text and "n" not in text:
        if text.endswith(".0"):
            return text[:-2] if text != "-0.0" else "-0"
        return text
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
