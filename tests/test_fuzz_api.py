"""Schemathesis over the OpenAPI schema drf-spectacular serves: no request a DevRel member can make gets a 500.

A real server (pytest-django's live server) answers; the cases are generated from the schema for every
operation, a few each and derandomised, so the run is bounded and the same every time. Every operation's
failures are gathered before the test fails, so one run lists them all.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token

from townsquare.sources.tests.factories import MessageFactory, SourceFactory

EXAMPLES = 6

pytestmark = pytest.mark.django_db(transaction=True)


def test_no_api_operation_answers_a_server_error(live_server: Any, make_user: Any) -> None:
    user = make_user("devrel_member")
    token = Token.objects.create(user=user)
    source = SourceFactory(kind="slack_export")
    MessageFactory(source=source)
    spec = SchemaGenerator().get_schema(request=None, public=True)
    schema = schemathesis.openapi.from_dict(spec)
    headers = {"Authorization": f"Token {token.key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(base_url=live_server.url, headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} answered {response.status_code}: {response.text[:300]}"
            )

        try:
            check()
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0] if str(exc) else repr(exc))
    assert operations > 10
    assert not failures, "\n".join(failures)
