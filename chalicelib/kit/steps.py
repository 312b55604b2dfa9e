"""What a Step Functions step's handler may return instead of its output: `DEFERRED`, the step is answered
later by someone else holding its task token (a stream recording's capture ends when the task consumer
sees a point past its stop time)."""

from __future__ import annotations


class Deferred:
    def __repr__(self) -> str:
        return "DEFERRED"


DEFERRED = Deferred()
