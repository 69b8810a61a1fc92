"""core's hook registry: lower apps call a hook, higher apps fill it from their AppConfig.ready()."""

from __future__ import annotations

import pytest

from townsquare.core import hooks
from townsquare.core.hooks import Hook


def first(*, n: int) -> str:
    return f"first {n}"


def second(*, n: int) -> str:
    return f"second {n}"


def test_a_hook_calls_its_handlers_in_registration_order_with_keyword_arguments() -> None:
    hook: Hook[str] = Hook("test")
    hook.register(first)
    hook.register(second)
    assert hook.call(n=3) == [
        ("townsquare.core.tests.test_hooks.first", "first 3"),
        ("townsquare.core.tests.test_hooks.second", "second 3"),
    ]
    with pytest.raises(TypeError):
        hook.call(3)  # type: ignore[call-arg]  # keyword arguments only, like our services


def test_registering_again_replaces_instead_of_running_twice() -> None:
    hook: Hook[str] = Hook("test")
    hook.register(first)
    hook.register(first)  # ready() ran again
    hook.register(second, key="mine")
    hook.register(first, key="mine")
    assert [result for _, result in hook.call(n=1)] == ["first 1", "first 1"]
    hook.unregister("mine")
    assert [key for key, _ in hook.handlers()] == ["townsquare.core.tests.test_hooks.first"]


def test_a_newest_first_hook_runs_the_higher_apps_first() -> None:
    hook: Hook[str] = Hook("test", newest_first=True)
    hook.register(first)
    hook.register(second)
    assert [result for _, result in hook.call(n=2)] == ["second 2", "first 2"]


def test_a_handlers_exception_reaches_the_caller() -> None:
    hook: Hook[None] = Hook("test")

    @hook.register
    def broken(*, n: int) -> None:
        raise ValueError(f"broken {n}")

    with pytest.raises(ValueError, match="broken 4"):
        hook.call(n=4)


def test_the_apps_fill_the_projects_hooks_when_they_are_ready() -> None:
    registered = {
        hook.name: [key for key, _ in hook.handlers()]
        for hook in (
            hooks.request_accepted,
            hooks.member_erase,
            hooks.member_export,
            hooks.member_message_counts,
            hooks.members_identities_moved,
        )
    }
    assert registered == {
        "request accepted": ["townsquare.board.services.task_create_for_request"],
        "member erase": [
            "townsquare.reports.erasure.member_report_quotes_erase",
            "townsquare.feedback.erasure.member_feedback_erase",
            "townsquare.sources.member_data.member_messages_erase",
        ],
        "member export": ["townsquare.sources.member_data.member_messages_export"],
        "member message counts": ["townsquare.sources.selectors.member_message_counts"],
        "members identities moved": ["townsquare.sources.member_data.members_activity_refresh"],
    }
