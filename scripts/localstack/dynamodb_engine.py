"""A faster engine under moto's DynamoDB, for the local stack only: costs follow the items touched.

moto answers every table Query by sorting *all* items of the table and filtering them on the hash key
(`Table.all_items`), and every TransactWriteItems by deep-copying each table it touches, once per item
of the transaction. After a 100k-series load that made each query of the series index, each compaction
pass and each DROP take seconds. `install()` patches moto's classes in this process (the local stack
calls it before serving):

* each partition of a table with a range key gets a sorted list of its range keys, kept up to date by
  `Table.put_item` / `Table.delete_item` (every write path of moto goes through them) and rebuilt
  lazily when it disagrees with the partition's size (a table restored from a backup, a snapshot
  taken before install);
* a table Query on its primary key finds its partition by hash, bisects the key condition, and then
  runs moto's own loop (Limit and the 1 MB page, LastEvaluatedKey, ExclusiveStartKey, filters and
  projections): O(log n + k) instead of O(N log N) for the whole table;
* TransactWriteItems undoes a failed transaction from copies of the items it names instead of copies
  of whole tables;
* the answers of the item reads (Query, Scan, GetItem, BatchGetItem), plain DynamoDB JSON, are
  written with `json.dumps`: moto's generic, model-driven serializer spent about 0.3 ms per item.
  A Query's items are not deep-copied either: nothing downstream changes them.

Index (GSI/LSI) queries, scans and PartiQL keep moto's code. The sorted lists live on the table as
plain picklable data (`Table.sorted_ranges`: hash key -> ([cast range values], [range keys])), so a
snapshot of moto's backends carries them and a restored table rebuilds any that went stale.

One deliberate difference: moto also counts the sizes of items *past* the key condition towards a
page's 1 MB, so it may stop a page early on an item the condition excludes; this engine looks at one
item past the condition (enough for moto's Limit behaviour), as DynamoDB reads only matching items.
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
import threading
from collections.abc import Callable
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
from moto.dynamodb.models.utilities import dynamo_to_dict
from moto.dynamodb.responses import DynamoResult

INDEX_ATTRIBUTE = "sorted_ranges"
ENGINE_ENV = "TICKLESS_DYNAMODB_ENGINE"  # "moto": leave moto as it is

# Threads of the moto server write and read concurrently; index updates and reads take this lock.
_lock = threading.RLock()
_originals: dict[str, Callable[..., Any]] = {}

Partition = tuple[list[Any], list[DynamoType]]  # cast range values (sorted), their range keys


def _indexes(table: Table) -> dict[DynamoType, Partition]:
    indexes = table.__dict__.get(INDEX_ATTRIBUTE)
    if indexes is None:
        indexes = table.__dict__[INDEX_ATTRIBUTE] = {}
    return indexes


def _partition(table: Table, hash_key: DynamoType) -> Partition | None:
    """The sorted range keys of a partition (None: no such partition); call with `_lock` held."""
    items = table.items.get(hash_key)  # `items` is a defaultdict: never index it to look
    indexes = _indexes(table)
    if not items:
        indexes.pop(hash_key, None)
        return None
    index = indexes.get(hash_key)
    if index is None or len(index[0]) != len(items):
        keys = sorted(items, key=lambda k: k.cast_value)
        index = indexes[hash_key] = ([k.cast_value for k in keys], keys)
    return index


def _added(table: Table, item: Item) -> None:
    with _lock:
        index = _indexes(table).get(item.hash_key)
        if index is None:
            _partition(table, item.hash_key)
            return
        casts, keys = index
        value = item.range_key.cast_value  # type: ignore[union-attr]
        at = bisect.bisect_left(casts, value)
        if at < len(casts) and casts[at] == value:
            return  # overwritten in place
        casts.insert(at, value)
        keys.insert(at, item.range_key)  # type: ignore[arg-type]


def _removed(table: Table, item: Item) -> None:
    with _lock:
        index = _indexes(table).get(item.hash_key)
        if index is None:
            return
        casts, keys = index
        value = item.range_key.cast_value  # type: ignore[union-attr]
        at = bisect.bisect_left(casts, value)
        if at < len(casts) and casts[at] == value:
            del casts[at]
            del keys[at]
        if not casts:
            _indexes(table).pop(item.hash_key, None)


# -- writes ------------------------------------------------------------------------------------------


def put_item(self: Table, *args: Any, **kwargs: Any) -> Item:
    item = _originals["put_item"](self, *args, **kwargs)
    if self.range_key_attr is not None:
        _added(self, item)
    return item


def delete_item(self: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
    item = _originals["delete_item"](self, hash_key, range_key)
    if item is not None and self.range_key_attr is not None:
        _removed(self, item)
    return item


# -- Query -------------------------------------------------------------------------------------------


def _bounds(casts: list[Any], comparison: str | None, values: list[Any]) -> tuple[int, int]:
    """[lo, hi) of the sorted cast values that meet a key condition."""
    size = len(casts)
    if comparison is None:
        return 0, size
    if comparison == "EQ":
        return bisect.bisect_left(casts, values[0]), bisect.bisect_right(casts, values[0])
    if comparison == "LT":
        return 0, bisect.bisect_left(casts, values[0])
    if comparison == "LE":
        return 0, bisect.bisect_right(casts, values[0])
    if comparison == "GT":
        return bisect.bisect_right(casts, values[0]), size
    if comparison == "GE":
        return bisect.bisect_left(casts, values[0]), size
    if comparison == "BETWEEN":
        lo = bisect.bisect_left(casts, values[0])
        return lo, max(lo, bisect.bisect_right(casts, values[1]))
    if comparison == "BEGINS_WITH":
        prefix = values[0]
        lo = hi = bisect.bisect_left(casts, prefix)
        while hi < size and casts[hi].startswith(prefix):
            hi += 1
        return lo, hi
    raise NotImplementedError(comparison)


def _candidates(
    table: Table,
    hash_key: DynamoType,
    comparison: str | None,
    range_objs: list[DynamoType],
    exclusive_start_key: dict[str, Any] | None,
    forward: bool,
) -> list[Item]:
    """The partition's items meeting the key condition after the start key, in the query's order,
    and the next one past the condition (moto sets LastEvaluatedKey on a full page only if one is)."""
    with _lock:
        index = _partition(table, hash_key)
        if index is None:
            return []
        casts, keys = index
        lo, hi = _bounds(casts, comparison, [o.cast_value for o in range_objs])
        if exclusive_start_key is not None:
            start = DynamoType(exclusive_start_key[table.range_key_attr]).cast_value
            if forward:
                lo = max(lo, bisect.bisect_right(casts, start))
            else:
                hi = min(hi, bisect.bisect_left(casts, start))
        if lo >= hi:
            return []
        chosen = keys[lo : hi + 1] if forward else keys[max(lo - 1, 0) : hi][::-1]
        partition = table.items[hash_key]
        # a delete racing this query may have taken an item its sorted keys still list
        return [item for item in map(partition.get, chosen) if item is not None]


def query(
    self: Table,
    hash_key: DynamoType | None,
    range_comparison: str | None,
    range_objs: list[DynamoType],
    limit: int,
    exclusive_start_key: dict[str, Any],
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, DynamoType]] | None = None,
    range_key_conditions: list[tuple[str, str, list[DynamoType]]] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Item], int, dict[str, Any] | None]:
    args = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
    fast = (
        index_name is None
        and not filter_kwargs
        and hash_key is not None
        and self.range_key_attr is not None
        and (range_key_conditions is None or len(range_key_conditions) <= 1)
        and (
            exclusive_start_key is None
            or (
                DynamoType(exclusive_start_key.get(self.hash_key_attr, {"NULL": True})) == hash_key
                and self.range_key_attr in exclusive_start_key
            )
        )
    )
    candidates: list[Item] | None = None
    if fast:
        try:
            candidates = _candidates(
                self, hash_key, range_comparison, range_objs, exclusive_start_key, scan_index_forward
            )  # type: ignore[arg-type]
        except (NotImplementedError, TypeError, AttributeError):
            candidates = None  # an unusual key condition: moto's own code answers it
    if candidates is None:
        return _originals["query"](
            self,
            *args,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )

    # moto's loop for a table query, on the candidates only
    results: list[Item] = []
    result_size = 0
    scanned_count = 0
    last_evaluated_key = None
    for result in candidates:
        size = result.size()
        if len(results) == limit or result_size + size > RESULT_SIZE_LIMIT:
            last_evaluated_key = self._get_last_evaluated_key(results[-1], None)
            break
        if not range_comparison or result.range_key.compare(range_comparison, range_objs):  # type: ignore[union-attr]
            results.append(result)
            result_size += size
            scanned_count += 1

    # moto deep-copies here; filters only read, projections and answers build new objects
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expressions:
        results = [r.project(projection_expressions) for r in results]
    return results, scanned_count, last_evaluated_key


# -- TransactWriteItems ------------------------------------------------------------------------------


def _transaction_keys(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> list[tuple[Table, DynamoType, DynamoType | None]] | None:
    """The table and key of each operation, or None when one is malformed (moto's code reports it)."""
    found = []
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                return None
            source = op["Item"] if "Item" in op else op["Key"]
            hash_value = DynamoType(source[table.hash_key_attr])
            range_value = None if table.range_key_attr is None else DynamoType(source[table.range_key_attr])
        except (KeyError, TypeError, AttributeError, IndexError, StopIteration):
            return None
        found.append((table, hash_value, range_value))
    return found


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, old: Item | None) -> None:
    """Put back an item as it was before a cancelled transaction (no stream record: it never happened)."""
    if range_key is None:
        if old is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = old
        return
    partition = table.items.get(hash_key)
    if old is None:
        if partition is not None and partition.pop(range_key, None) is not None:
            _removed(table, Item(hash_key, range_key, {}))
        return
    table.items[hash_key][range_key] = old
    _added(table, old)


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, undone from copies of the items it names (moto copies every table)."""
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    targets = _transaction_keys(self, transact_items)
    if targets is None:
        return _originals["transact_write_items"](self, transact_items)
    saved = [(t, h, r, copy.deepcopy(t.get_item(h, r))) for t, h, r in targets]

    def rollback() -> None:
        with _lock:
            for table, hash_key, range_key, old in reversed(saved):
                _restore(table, hash_key, range_key, old)

    target_items: set[tuple[str, str]] = set()
    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            rollback()
            raise TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            on_failure = op.get("ReturnValuesOnConditionCheckFailure")
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in target_items:
                raise MultipleTransactionsException()
            target_items.add(unique)

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(condition_expression, names, values)
                if not condition_op.expr(current):
                    if on_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            options = {
                "condition_expression": condition_expression,
                "expression_attribute_names": names,
                "expression_attribute_values": values,
            }
            if op_type == "Put":
                self.put_item(table_name, op["Item"], **options)
            elif op_type == "Delete":
                self.delete_item(table_name, key, **options)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"], **options)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore[arg-type]
        except Exception as e:  # moto reports any failure as the item's cancellation reason
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore[arg-type]

    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)


# -- answers ---------------------------------------------------------------------------------------

# Outputs made only of AttributeValues, counts, keys and ConsumedCapacity: their JSON is the result as it
# is, binary values in base64, which is what the model-driven serializer writes. moto converts every
# result to plain dicts first (`dynamo_to_dict`); here that happens only for the other outputs.
_PLAIN_OUTPUTS = frozenset({"Query", "Scan", "GetItem", "BatchGetItem"})
_JSON_1_0 = "application/x-amz-json-1.0"


def _base64(value: Any) -> Any:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes | bytearray) else value


def _json_default(value: Any) -> Any:
    if isinstance(value, DynamoType):
        if value.type == "B":
            return {"B": _base64(value.value)}  # moto keeps the wire's base64 (bytes after a projection)
        if value.type == "BS":
            return {"BS": [_base64(v) for v in value.value]}
        return {value.type: value.value}
    if isinstance(value, bytes | bytearray):
        return _base64(value)
    raise TypeError(f"not DynamoDB JSON: {type(value).__name__}")


def result_init(self: DynamoResult, result: object) -> None:
    self._result = result
    self._plain = False  # not converted by dynamo_to_dict yet


def execute_result(self: DynamoResult, context: Any) -> Any:
    result = self._result
    if not self.__dict__.get("_plain", True):
        if str(context.operation_model.name) in _PLAIN_OUTPUTS and isinstance(result, dict):
            try:
                body = json.dumps(
                    {key: value for key, value in result.items() if value is not None},
                    default=_json_default,
                    separators=(",", ":"),
                )
            except TypeError:
                pass
            else:
                return 200, {"Content-Type": _JSON_1_0}, body
        self._result, self._plain = dynamo_to_dict(result), True
    return _originals["execute_result"](self, context)


# -- installation ------------------------------------------------------------------------------------


def install() -> None:
    """Patch moto's Table and DynamoDB backend in this process (idempotent)."""
    with _lock:
        if _originals:
            return
        _originals["query"] = Table.query
        _originals["put_item"] = Table.put_item
        _originals["delete_item"] = Table.delete_item
        _originals["transact_write_items"] = DynamoDBBackend.transact_write_items
        _originals["execute_result"] = DynamoResult.execute_result
        _originals["result_init"] = DynamoResult.__init__
        DynamoResult.execute_result = execute_result  # type: ignore[method-assign]
        DynamoResult.__init__ = result_init  # type: ignore[method-assign]
        Table.query = query  # type: ignore[method-assign]
        Table.put_item = put_item  # type: ignore[method-assign]
        Table.delete_item = delete_item  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def uninstall() -> None:
    """Put moto's own methods back (tests compare both)."""
    with _lock:
        if not _originals:
            return
        Table.query = _originals.pop("query")  # type: ignore[method-assign]
        Table.put_item = _originals.pop("put_item")  # type: ignore[method-assign]
        Table.delete_item = _originals.pop("delete_item")  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = _originals.pop("transact_write_items")  # type: ignore[method-assign]
        DynamoResult.execute_result = _originals.pop("execute_result")  # type: ignore[method-assign]
        DynamoResult.__init__ = _originals.pop("result_init")  # type: ignore[method-assign]


def installed() -> bool:
    return bool(_originals)


def moto_method(name: str) -> Callable[..., Any]:
    """moto's own `Table.<name>` or `DynamoDBBackend.<name>`, installed or not (tests compare them)."""
    if name in _originals:
        return _originals[name]
    return getattr(DynamoDBBackend if name == "transact_write_items" else Table, name)
