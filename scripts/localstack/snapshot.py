"""Snapshots of moto's in-memory backends: a pickle of every `BackendDict` in use.

moto keeps each service's state in a module-global `BackendDict` (account -> region -> backend). A
snapshot pickles those as plain dicts keyed `module:attribute`; restoring puts their contents back
into the live module globals, so moto's own code finds them. Live machinery in the state is replaced:
locks and conditions by fresh ones, threads by None, and Step Functions executions lose their worker
(an execution still running is stored as ABORTED: it cannot resume in another process).
"""

from __future__ import annotations

import copyreg
import datetime
import importlib
import io
import json
import pickle
import sys
import threading
from typing import Any

import moto
from moto.core.base_backend import BackendDict

from .datadir import DataDirError

MAGIC = b"TLSNAP01"
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _new_lock() -> Any:
    return threading.Lock()


def _new_rlock() -> Any:
    return threading.RLock()


def _new_condition() -> threading.Condition:
    return threading.Condition()


def _nothing() -> None:
    return None


def _live_backend_dict(key: str) -> BackendDict:
    module, _, attribute = key.partition(":")
    return getattr(importlib.import_module(module), attribute)


def _restore_object(cls: type, state: dict[str, Any]) -> Any:
    instance = cls.__new__(cls)
    instance.__dict__.update(state)
    return instance


def backend_dicts() -> dict[str, BackendDict]:
    """The BackendDicts of every imported moto module that hold state, keyed `module:attribute`."""
    found: dict[int, str] = {}
    dicts: dict[str, BackendDict] = {}
    for name, module in sorted(sys.modules.items()):
        if not name.startswith("moto.") or name.startswith("moto.moto_api") or module is None:
            continue
        for attribute, value in list(vars(module).items()):
            if isinstance(value, BackendDict) and id(value) not in found:
                found[id(value)] = f"{name}:{attribute}"
                dicts[found[id(value)]] = value
    return dicts


def _dispatch_table(keys: dict[int, str]) -> dict[Any, Any]:
    table = copyreg.dispatch_table.copy()
    table[_LOCK_TYPES[0]] = lambda _lock: (_new_lock, ())
    table[_LOCK_TYPES[1]] = lambda _lock: (_new_rlock, ())
    table[threading.Condition] = lambda _condition: (_new_condition, ())
    table[threading.Thread] = lambda _thread: (_nothing, ())
    # A BackendDict referenced from inside another service's state stays the live module global.
    table[BackendDict] = lambda value: (_live_backend_dict, (keys[id(value)],))
    try:
        from moto.stepfunctions.parser.api import ExecutionStatus
        from moto.stepfunctions.parser.backend.execution import Execution
    except ImportError:  # pragma: no cover - moto without the Step Functions interpreter
        return table

    def execution(value: Any) -> tuple[Any, ...]:
        state = dict(value.__dict__)
        state["exec_worker"] = None
        if state.get("exec_status") == ExecutionStatus.RUNNING:
            state["exec_status"] = ExecutionStatus.ABORTED
            state["stop_date"] = datetime.datetime.now(datetime.UTC)
            state["error"], state["cause"] = "States.Runtime", "the local stack stopped during the execution"
        return _restore_object, (type(value), state)

    for cls in {Execution, *Execution.__subclasses__()}:
        table[cls] = execution
    return table


def dump(sequence: int) -> bytes:
    """The snapshot of moto's state after journal entry `sequence`. Callers keep moto still meanwhile."""
    dicts = backend_dicts()
    keys = {id(value): key for key, value in dicts.items()}
    body = io.BytesIO()
    pickler = pickle.Pickler(body, protocol=5)
    pickler.dispatch_table = _dispatch_table(keys)
    pickler.dump({key: dict(value) for key, value in dicts.items() if len(value)})
    header = json.dumps({"moto": moto.__version__, "sequence": sequence}).encode()
    return MAGIC + len(header).to_bytes(4, "big") + header + body.getvalue()


def load(data: bytes, source: str) -> tuple[int, dict[str, dict[str, Any]]]:
    """(sequence, state) from `dump`'s bytes; DataDirError when they are not a usable snapshot."""
    if not data.startswith(MAGIC):
        raise DataDirError(f"{source} is not a tickless snapshot (bad magic)")
    try:
        size = int.from_bytes(data[len(MAGIC) : len(MAGIC) + 4], "big")
        header = json.loads(data[len(MAGIC) + 4 : len(MAGIC) + 4 + size])
        version, sequence = header["moto"], int(header["sequence"])
    except (ValueError, KeyError, TypeError):
        raise DataDirError(f"{source} cannot be read (bad header)") from None
    if version != moto.__version__:
        raise DataDirError(
            f"{source} was written by moto {version}, this stack runs moto {moto.__version__}: a snapshot "
            "is moto's own objects; run the stack with that moto version, or start afresh"
        )
    try:
        state = pickle.loads(data[len(MAGIC) + 4 + size :])
    except Exception as exc:
        raise DataDirError(
            f"{source} cannot be read ({type(exc).__name__}: {exc}): the snapshot is corrupt; restore "
            "it from a backup or move the data directory away"
        ) from None
    return sequence, state


def restore(state: dict[str, dict[str, Any]]) -> None:
    """Put a loaded snapshot's contents into moto's live BackendDicts (each one cleared first)."""
    for live in backend_dicts().values():
        live.clear()
    for key, accounts in state.items():
        try:
            live = _live_backend_dict(key)
        except (ImportError, AttributeError):
            raise DataDirError(
                f"the snapshot holds moto state {key!r}, which moto {moto.__version__} does not have"
            ) from None
        live.clear()
        dict.update(live, accounts)
        if live not in BackendDict._instances:
            BackendDict._instances.append(live)
