"""Property-based fuzzing of every endpoint from the server's OpenAPI document (schemathesis).

Every operation gets generated requests with a tenant admin token against a
small fleet: valid ones (positive mode) aimed at the fleet's real objects, and
invalid ones (negative mode: wrong types, missing and unknown fields, out of
range values) with any path parameters. No answer may be a 5xx, and every answer
must match the document: status code documented, content type, body schema.
Bounded (a few examples per operation and mode) so that the suite stays fast.
"""

from __future__ import annotations

import re
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance)

from api_fixtures import api_server  # noqa: F401  pylint: disable=unused-import

EXAMPLES = 5
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fleet(api_server):  # noqa: F811
    root = api_server.session(api_server.token(None, "admin"))
    name = "fz%s" % uuid.uuid4().hex[:6]
    tenant = root.post(api_server.url + "/v1/tenants", json={"name": name}).json()
    token = api_server.token(name, "admin")
    s = api_server.session(token)
    url = api_server.url
    region = s.post(url + "/v1/regions", json={"name": "r", "variables": {"x": 1}}).json()
    group = s.post(url + "/v1/groups", json={"name": "g"}).json()
    child = s.post(url + "/v1/groups", json={"name": "c"}).json()
    host = s.post(url + "/v1/hosts", json={"name": "h", "region_id": region["id"], "groups": [group["id"]]}).json()
    s.put(url + "/v1/hosts/%d/secrets/k" % host["id"], json={"kind": "opaque", "data": "x"})
    ref = s.post(url + "/v1/groups/%d/vars_references" % group["id"], json={"url": "https://example.invalid/v.yml"})
    ids = {"tenant_id": tenant["id"], "region_id": region["id"], "group_id": group["id"], "child_id": child["id"],
           "host_id": host["id"], "ref_id": ref.json()["id"], "name": "k"}
    return token, ids


def test_no_5xx_and_answers_match_the_document(api_server, fleet):  # noqa: F811
    token, ids = fleet
    headers = {"Authorization": "Bearer %s" % token}
    schema = schemathesis.openapi.from_url(api_server.url + "/v1/openapi.json")
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        names = re.findall(r"{(\w+)}", operation.path)
        real = {k: ids[k] for k in names}
        strategies = [operation.as_strategy(GenerationMode.NEGATIVE)]
        if not (operation.method.upper() == "DELETE" and operation.path == "/v1/tenants/{tenant_id}"):
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real or None))
        for strategy in strategies:
            @given(case=strategy)
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                case.call_and_validate(base_url=api_server.url, headers=headers, checks=CHECKS)
            try:
                run()  # pylint: disable=no-value-for-parameter
            except Exception as e:  # pylint: disable=broad-except
                failures.append("%s %s: %s" % (operation.method.upper(), operation.path, str(e)[:1500]))
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
