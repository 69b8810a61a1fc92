"""The people directory search on PostgreSQL: trigram indexes when pg_trgm can be had, a plain scan otherwise."""

from __future__ import annotations

import importlib
import logging
import uuid
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from townsquare.people.models import Identity, Member, Organization
from townsquare.people.selectors import DirectoryFilters, member_directory
from townsquare.people.tests.factories import IdentityFactory, OrganizationFactory

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

migration = importlib.import_module("townsquare.people.migrations.0004_directory_search_trigram_indexes")


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_trgm and its indexes exist only on PostgreSQL")


def trigram_indexes() -> set[str]:
    names = [name for name, _table, _column in migration.TRIGRAM_INDEXES]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [names])
        return {row[0] for row in cursor.fetchall()}


PLANNER_SCANS = ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan")


def plan(queryset: Any) -> str:
    """The plan with bitmap scans only: on tiny test tables PostgreSQL would rather read every row, and a
    bitmap scan needs an index whose condition matches the query's, so an unusable index cannot appear."""
    with connection.cursor() as cursor:
        for name in PLANNER_SCANS:
            cursor.execute(f"SET LOCAL {name} = off")
    try:
        return queryset.explain()
    finally:
        with connection.cursor() as cursor:
            for name in PLANNER_SCANS:
                cursor.execute(f"SET LOCAL {name} = on")


def people() -> None:
    org = OrganizationFactory(name="Quillmoor Analytics")
    IdentityFactory(
        handle="adaq",
        email="ada@quillmoor.com",
        display_name="Ada Q.",
        member__display_name="Ada Quill",
        member__primary_email="ada@quillmoor.com",
        member__organization=org,
    )
    IdentityFactory(handle="zed", member__display_name="Zed")


@pytest.mark.parametrize(
    ("model", "column", "index"),
    [
        (Member, "display_name", "member_name_trgm_idx"),
        (Member, "primary_email", "member_email_trgm_idx"),
        (Organization, "name", "organization_name_trgm_idx"),
        (Identity, "handle", "identity_handle_trgm_idx"),
        (Identity, "email", "identity_email_trgm_idx"),
        (Identity, "display_name", "identity_name_trgm_idx"),
    ],
)
def test_each_searched_column_has_a_trigram_index_that_icontains_uses(model: Any, column: str, index: str) -> None:
    people()
    assert index in plan(model.objects.filter(**{f"{column}__icontains": "quill"}))


def test_the_whole_directory_search_reads_the_trigram_indexes_and_finds_the_person() -> None:
    people()
    rows = member_directory(filters=DirectoryFilters(q="Quillmoor"))
    explained = plan(rows)
    assert trigram_indexes() == {name for name, _t, _c in migration.TRIGRAM_INDEXES}
    for name in (
        "member_name_trgm_idx",
        "member_email_trgm_idx",
        "organization_name_trgm_idx",
        "identity_handle_trgm_idx",
        "identity_email_trgm_idx",
        "identity_name_trgm_idx",
    ):
        assert name in explained, name
    assert [m.display_name for m in rows] == ["Ada Quill"]


def test_the_migration_creates_the_extension_and_indexes_when_they_are_missing() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP EXTENSION pg_trgm CASCADE")  # rolled back with the test's transaction
    assert trigram_indexes() == set()
    with connection.schema_editor() as editor:
        migration.trigram_indexes_create(apps, editor)
    assert trigram_indexes() == {name for name, _t, _c in migration.TRIGRAM_INDEXES}


def test_without_pg_trgm_the_migration_logs_once_and_search_still_works(client_for: Any, caplog: Any) -> None:
    client = client_for("devrel_member")
    people()
    role = f"people_no_ext_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        # All rolled back with the test's transaction: no extension, and a role that may not create one.
        cursor.execute("DROP EXTENSION pg_trgm CASCADE")
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        cursor.execute(f'SET LOCAL ROLE "{role}"')
    caplog.set_level(logging.WARNING, logger=migration.__name__)
    try:
        with connection.schema_editor() as editor:
            migration.trigram_indexes_create(apps, editor)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    warnings = [r.getMessage() for r in caplog.records if r.name == migration.__name__]
    assert len(warnings) == 1
    assert "pg_trgm could not be created" in warnings[0]
    assert trigram_indexes() == set()
    response = client.get(reverse("people:directory"), {"q": "quillmoor"})
    assert [m.display_name for m in response.context["page"].object_list] == ["Ada Quill"]
