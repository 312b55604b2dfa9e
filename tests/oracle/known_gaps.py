"""Corpus queries where tickless still answers differently from influxd, by corpus index, with why.

Each is a strict xfail: the day tickless gives influxd's answer the test fails as XPASS, and its line
must go. The list only shrinks; a new divergence is a plain failure. Tracked by the query engine issue.
"""

_MERGE_ORDER = (
    "points of different series at the same timestamp come out in influxd's merge-iterator order, "
    "tickless orders them by series key"
)

KNOWN_GAPS: dict[int, str] = {
    31: _MERGE_ORDER,
    118: "influxd reports the time of whichever tied point Go's unstable sort leaves at the percentile index",
    138: _MERGE_ORDER,
}
