"""Lists through the official `influxdb-client`, as a user reads them: nothing is silently cut.

The client reads one answer for labels and authorizations (the contract gives them no paging
parameters), so those answers hold every item; buckets page, and the client's iterator follows the
pages (with `after`) to the last one. More items than one default page (20) each time."""

from __future__ import annotations

import pytest
from influxdb_client import InfluxDBClient, Permission, PermissionResource

MORE_THAN_A_PAGE = 25


@pytest.fixture
def client(onboarded):
    with InfluxDBClient(url=onboarded.url, token=onboarded.token, org=onboarded.org_name) as client:
        yield client


@pytest.fixture
def org(client, unique):
    return client.organizations_api().create_organization(name=unique("lists-org"))


def test_find_labels_returns_every_label(client, org, unique):
    api = client.labels_api()
    made = {api.create_label(name=unique("label"), org_id=org.id).id for _ in range(MORE_THAN_A_PAGE)}
    assert {label.id for label in api.find_labels(org_id=org.id)} == made


def test_find_authorizations_returns_every_authorization(client, org):
    api = client.authorizations_api()
    read = [Permission(action="read", resource=PermissionResource(type="buckets", org_id=org.id))]
    made = {api.create_authorization(org_id=org.id, permissions=read).id for _ in range(MORE_THAN_A_PAGE)}
    assert {auth.id for auth in api.find_authorizations(org_id=org.id)} == made


def test_find_buckets_iter_pages_through_every_bucket(client, org, unique):
    api = client.buckets_api()
    made = {api.create_bucket(bucket_name=unique("bucket"), org=org.id).id for _ in range(MORE_THAN_A_PAGE)}
    first = api.find_buckets(org_id=org.id)
    assert len(first.buckets) == 20 and first.links.next is not None  # a page, saying there is more
    iterated = [bucket.id for bucket in api.find_buckets_iter(org_id=org.id)]
    assert len(iterated) == len(set(iterated)) == MORE_THAN_A_PAGE + 2  # and the two system buckets
    assert made <= set(iterated)
