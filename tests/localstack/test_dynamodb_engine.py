"""The local stack's DynamoDB engine answers as moto does, from a partition's sorted keys."""

from __future__ import annotations

import os
import uuid

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models.table import Table

from scripts.localstack import dynamodb_engine
from scripts.localstack.motoserver import MotoServer

# moto servers of one process share their backends, and `mock_aws` resets them all: a server of our own
# and a table no other test uses keep this file from wiping the tables of tests run before it.
TABLE = f"engine-{uuid.uuid4().hex}"


@pytest.fixture(scope="module", autouse=True)
def engine():
    was = dynamodb_engine.installed()
    dynamodb_engine.install()
    yield
    if not was:
        dynamodb_engine.uninstall()


def make_table(range_type: str) -> Table:
    return Table(
        "t",
        account_id="123456789012",
        region="us-east-1",
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        attr=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": range_type},
        ],
    )


def range_value(range_type: str, raw: int) -> dict[str, str]:
    return {"N": str(raw - 7)} if range_type == "N" else {"S": f"k{raw:03d}"[: 2 + raw % 3]}


def key_condition(range_type: str, op: str, a: int, b: int) -> tuple[str | None, list[dict[str, str]]]:
    low, high = sorted((a, b))
    if op == "none":
        return None, []
    if op == "BETWEEN":
        return op, [range_value(range_type, low), range_value(range_type, high)]
    if op == "BEGINS_WITH":
        return (op, [{"S": f"k{a:03d}"[: 1 + a % 3]}]) if range_type == "S" else (None, [])
    return op, [range_value(range_type, a)]


def run_query(method, table, hash_value, op, objs, limit, start, forward, filtered):
    from moto.dynamodb.models.dynamo_type import DynamoType

    condition = get_filter_expression("#v < :v", {"#v": "v"}, {":v": {"N": "50"}}) if filtered else None
    results, scanned, last = method(
        table,
        DynamoType({"S": hash_value}),
        op,
        [DynamoType(o) for o in objs],
        limit,
        start,
        forward,
        None,
        filter_expression=condition,
        range_key_conditions=[("sk", op, objs)] if op else [],
    )
    return [r.to_json() for r in results], scanned, last


operations = st.sampled_from(["none", "EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH"])


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    range_type=st.sampled_from(["S", "N"]),
    rows=st.lists(
        st.tuples(st.sampled_from("ab"), st.integers(0, 15), st.integers(0, 99), st.booleans()),
        min_size=1,
        max_size=60,
    ),
    op=operations,
    limit=st.sampled_from([None, 1, 1, 2, 3, 5]),
    forward=st.booleans(),
    filtered=st.booleans(),
    data=st.data(),
)
def test_query_pages_equal_moto(range_type, rows, op, limit, forward, filtered, data):
    # conditions mostly on keys the table holds, sometimes just outside them
    near = st.sampled_from([raw for _, raw, _, _ in rows] + [-1, 16])
    a, b = data.draw(near), data.draw(near)
    hash_value = data.draw(st.sampled_from([pk for pk, *_ in rows] + ["c"]))
    table = make_table(range_type)
    for pk, raw, value, remove in rows:  # puts, overwrites and deletes, interleaved
        key = range_value(range_type, raw)
        if remove:
            table.delete_item(*_keys(pk, key))
        else:
            table.put_item({"pk": {"S": pk}, "sk": key, "v": {"N": str(value)}})
    comparison, objs = key_condition(range_type, op, a, b)
    start = None
    for _page in range(100):  # follow LastEvaluatedKey to the end, both ways
        ours = run_query(
            dynamodb_engine.query, table, hash_value, comparison, objs, limit, start, forward, filtered
        )
        moto = run_query(
            dynamodb_engine.moto_method("query"),
            table,
            hash_value,
            comparison,
            objs,
            limit,
            start,
            forward,
            filtered,
        )
        assert ours == moto
        start = ours[2]
        if start is None:
            break
    # whatever happened to a partition, its sorted keys are those of its items, in order
    for hash_key, (casts, keys) in table.sorted_ranges.items():
        assert keys == sorted(table.items[hash_key], key=lambda k: k.cast_value)
        assert casts == [k.cast_value for k in keys]


def _keys(pk: str, key: dict[str, str]):
    from moto.dynamodb.models.dynamo_type import DynamoType

    return DynamoType({"S": pk}), DynamoType(key)


def test_partitions_written_behind_the_engine_are_sorted_again():
    table = make_table("S")
    table.put_item({"pk": {"S": "p"}, "sk": {"S": "b"}})
    run_query(dynamodb_engine.query, table, "p", None, [], None, None, True, False)
    restored = make_table("S")  # as a snapshot or a backup restores it: items, no sorted keys
    restored.items = table.items
    for sk in ("c", "a"):
        restored.items[_keys("p", {"S": sk})[0]][_keys("p", {"S": sk})[1]] = table.items[
            _keys("p", {"S": "b"})[0]
        ][_keys("p", {"S": "b"})[1]]
    results, *_ = run_query(dynamodb_engine.query, restored, "p", "GE", [{"S": "a"}], None, None, True, False)
    assert len(results) == 3
    assert [k.value for k in restored.sorted_ranges[_keys("p", {"S": "a"})[0]][1]] == ["a", "b", "c"]


def test_query_touches_one_partition():
    table = make_table("S")
    for i in range(2000):
        table.put_item({"pk": {"S": f"p{i % 200}"}, "sk": {"S": f"{i:05d}"}})
    table.all_items = None  # the engine must never walk the whole table for a key query
    results, scanned, last = run_query(
        dynamodb_engine.query, table, "p7", "BETWEEN", [{"S": "0"}, {"S": "1"}], 3, None, True, False
    )
    assert [r["Attributes"]["sk"]["S"] for r in results] == ["00007", "00207", "00407"]
    assert scanned == 3 and {k: v.to_json() for k, v in last.items()} == {
        "pk": {"S": "p7"},
        "sk": {"S": "00407"},
    }
    results, *_ = run_query(
        dynamodb_engine.query, table, "p7", "BEGINS_WITH", [{"S": "01"}], None, None, False, False
    )
    assert [r["Attributes"]["sk"]["S"] for r in results] == [f"01{n}07" for n in range(8, -1, -2)]


@pytest.fixture
def dynamodb():
    moto_port = os.environ.get("MOTO_PORT")
    server = MotoServer().start()
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=server.endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_table(
        TableName=TABLE,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        yield client
    finally:
        client.delete_table(TableName=TABLE)
        server.stop()
        if moto_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = moto_port


def _all(client) -> list[tuple[str, str]]:
    found = client.query(
        TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}}
    )["Items"]
    return [(i["sk"]["S"], i.get("v", {}).get("S", "")) for i in found]


def test_cancelled_transaction_leaves_every_item_as_it_was(dynamodb):
    for sk in ("a", "b", "c"):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": sk}, "v": {"S": "old"}})
    before = _all(dynamodb)
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as failure:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "p"}, "sk": {"S": "a"}, "v": {"S": "x"}}}},
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "p"}, "sk": {"S": "new"}}}},
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "b"}}}},
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "p"}, "sk": {"S": "c"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "new"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "p"}, "sk": {"S": "zz"}},
                        "ConditionExpression": "attribute_exists(sk)",
                    }
                },
            ]
        )
    reasons = [r["Code"] for r in failure.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "ConditionalCheckFailed"]
    assert _all(dynamodb) == before


def test_transaction_applies_every_item(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": "a"}, "v": {"S": "old"}})
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {"pk": {"S": "p"}, "sk": {"S": "b"}, "v": {"S": "new"}},
                    "ConditionExpression": "attribute_not_exists(sk)",
                }
            },
            {
                "Delete": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "p"}, "sk": {"S": "a"}},
                    "ConditionExpression": "v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "old"}},
                }
            },
        ]
    )
    assert _all(dynamodb) == [("b", "new")]
    with pytest.raises(dynamodb.exceptions.ClientError):  # two operations on one item
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "p"}, "sk": {"S": "c"}}}},
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "c"}}}},
            ]
        )
    assert _all(dynamodb) == [("b", "new")]


def test_paging_through_boto3(dynamodb):
    for i in range(30):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "p"}, "sk": {"S": f"{i:02d}"}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "q"}, "sk": {"S": "00"}})
    seen, start = [], None
    while True:
        extra = {"ExclusiveStartKey": start} if start else {}
        page = dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p AND sk > :s",
            ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"S": "04"}},
            ScanIndexForward=False,
            Limit=7,
            ReturnConsumedCapacity="TOTAL",
            **extra,
        )
        assert page["ConsumedCapacity"]["TableName"] == TABLE
        seen += [i["sk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == [f"{i:02d}" for i in range(29, 4, -1)]


RICH = {
    "pk": {"S": "p"},
    "s": {"S": 'text é \u2028 "quoted"'},
    "n": {"N": "-12.5e3"},
    "b": {"B": b"\x00\xffbytes"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
    "t": {"BOOL": True},
    "z": {"NULL": True},
    "l": {"L": [{"S": "x"}, {"N": "1"}, {"B": b"\x03"}, {"M": {"k": {"BOOL": False}}}]},
    "m": {"M": {"inner": {"L": []}, "e": {"S": ""}, "bin": {"B": b"\x04"}}},
}


def test_read_answers_equal_moto_serializer(dynamodb):
    for i in range(5):
        dynamodb.put_item(TableName=TABLE, Item={**RICH, "sk": {"S": f"{i:02d}"}})

    def answers():
        query = {
            "TableName": TABLE,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p"}},
        }
        found = [
            dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "01"}}),
            dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "p"}, "sk": {"S": "none"}}),
            dynamodb.query(**query, Limit=2, ReturnConsumedCapacity="TOTAL"),
            dynamodb.query(**query, Select="COUNT"),
            dynamodb.query(**query, ProjectionExpression="sk, m.bin, l[2]", ReturnConsumedCapacity="INDEXES"),
            dynamodb.scan(TableName=TABLE, Limit=3),
            dynamodb.batch_get_item(
                RequestItems={
                    TABLE: {"Keys": [{"pk": {"S": "p"}, "sk": {"S": f"{i:02d}"}} for i in (0, 3, 9)]}
                },
                ReturnConsumedCapacity="TOTAL",
            ),
        ]
        for answer in found:
            answer.pop("ResponseMetadata")
            for page in answer.get("Responses", {}).values():
                page.sort(key=lambda item: item["sk"]["S"])
        return found

    ours = answers()
    dynamodb_engine.uninstall()
    try:
        assert answers() == ours
    finally:
        dynamodb_engine.install()


def test_tables_pickle_with_their_sorted_keys():
    import pickle

    table = make_table("N")
    for i in (5, 1, 3):
        table.put_item({"pk": {"S": "p"}, "sk": {"N": str(i)}})
    copy = pickle.loads(pickle.dumps(table))  # as persistence snapshots moto's backends
    copy.put_item({"pk": {"S": "p"}, "sk": {"N": "2"}})
    results, *_ = run_query(dynamodb_engine.query, copy, "p", "GT", [{"N": "1"}], None, None, True, False)
    assert [r["Attributes"]["sk"]["N"] for r in results] == ["2", "3", "5"]
