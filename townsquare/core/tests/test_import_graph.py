"""The import graph of DESIGN.md, checked on every product module.

Edges come from top-level imports, imports inside functions, ``apps.get_model`` calls and string model
references in relation fields: a lazy import or a looked-up model is still a dependency, it only hides
from the reader. Tests and migrations are left out (tests build rows of every app they need; migrations
are history). The project wiring at the top of the package (``settings.py``, ``urls.py``, ``wsgi.py``,
``cli.py``) assembles every app and may import any of them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "townsquare"
ROOT = Path(__file__).resolve().parents[2]  # the townsquare package directory

# DESIGN.md, "Architecture": who may import whom (besides itself). home is the top and reads every app.
ALLOWED: dict[str, frozenset[str]] = {
    # notify: issue 19 emails the sponsor through the outbox on publish (DESIGN.md's value line needs it too).
    "value": frozenset({"metrics", "updates", "reports", "intake", "board", "feedback", "people", "notify", "core"}),
    "updates": frozenset({"board", "feedback", "reports", "people", "notify", "core"}),
    "metrics": frozenset({"sources", "people", "feedback", "intake", "board", "core"}),
    "reports": frozenset({"feedback", "people", "notify", "core"}),
    "feedback": frozenset({"sources", "people", "notify", "core"}),
    "board": frozenset({"intake", "people", "notify", "core"}),
    "intake": frozenset({"people", "notify", "core"}),
    "sources": frozenset({"people", "core"}),
    "people": frozenset({"core"}),
    "notify": frozenset({"core"}),
    "core": frozenset(),
}
APPS = frozenset(ALLOWED) | {"home"}
ALLOWED["home"] = APPS - {"home"}

# The project wiring: these modules put the apps together and may import every one.
WIRING = frozenset({"settings.py", "urls.py", "wsgi.py", "cli.py", "__init__.py"})  # the last: the package itself

RELATION_FIELDS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField"})


@dataclass(frozen=True)
class Edge:
    path: str
    line: int
    source: str
    target: str
    how: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.source} -> {self.target} ({self.how})"


def _app_of_module(dotted: str) -> str | None:
    """``townsquare.board.services`` -> ``board``; None for anything outside our apps."""
    parts = dotted.split(".")
    if len(parts) >= 2 and parts[0] == PACKAGE and parts[1] in APPS:
        return parts[1]
    return None


def _app_of_label(reference: str) -> str | None:
    """``"people.Team"`` -> ``people``; Django's app label is the app's directory name here."""
    if "." not in reference:
        return None  # "self" or a model of the same app
    label = reference.split(".", 1)[0]
    return label if label in APPS else None


def _resolve_relative(module: str, level: int, name: str | None) -> str:
    base = module.split(".")[:-level] if level else []
    return ".".join([*base, name] if name else base)


def _call_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def edges_of(source_code: str, *, module: str, path: str) -> list[Edge]:
    """Every dependency of one module on an app, whatever its spelling."""
    app = _app_of_module(module)
    found: list[Edge] = []
    tree = ast.parse(source_code)
    top_level = {id(node) for node in tree.body}

    def add(node: ast.AST, target: str | None, how: str) -> None:
        if target is not None and target != app:
            found.append(Edge(path, getattr(node, "lineno", 0), app or module, target, how))

    for node in ast.walk(tree):
        kind = "import" if id(node) in top_level else "lazy import"
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(node, _app_of_module(alias.name), kind)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_relative(module, node.level, node.module) if node.level else node.module or ""
            if base == PACKAGE:  # from townsquare import board
                for alias in node.names:
                    add(node, _app_of_module(f"{PACKAGE}.{alias.name}"), kind)
            else:
                add(node, _app_of_module(base), kind)
        elif isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name == "get_model" and node.args:
                first = _string(node.args[0])
                if first is not None:
                    add(node, _app_of_label(first) if "." in first else (first if first in APPS else None), "get_model")
            elif name in RELATION_FIELDS:
                target = _string(node.args[0]) if node.args else None
                for keyword in node.keywords:
                    if keyword.arg == "to":
                        target = _string(keyword.value)
                if target is not None:
                    add(node, _app_of_label(target), f"{name} string reference")
    return found


def forbidden(edges: list[Edge]) -> list[Edge]:
    return [edge for edge in edges if edge.source in ALLOWED and edge.target not in ALLOWED[edge.source]]


def product_modules() -> list[Path]:
    modules = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "tests" in relative.parts or "migrations" in relative.parts:
            continue
        if len(relative.parts) == 1 and relative.name in WIRING:
            continue
        modules.append(path)
    return modules


def _module_name(path: Path) -> str:
    # A package's __init__ keeps its last part, so that a relative import resolves from the package.
    return ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)


def test_every_app_directory_is_in_the_graph() -> None:
    # A new app must be placed in DESIGN.md's graph (and here) before its imports can be judged.
    on_disk = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert on_disk <= APPS, f"apps missing from the import graph: {sorted(on_disk - APPS)}"


def test_no_module_imports_an_app_the_graph_does_not_allow() -> None:
    modules = product_modules()
    assert len(modules) > 100  # the walk found the tree, not an empty directory
    violations = []
    for path in modules:
        text = path.read_text()
        violations += forbidden(edges_of(text, module=_module_name(path), path=str(path.relative_to(ROOT.parent))))
    assert not violations, "imports the graph in DESIGN.md forbids:\n" + "\n".join(map(str, violations))


def test_the_checker_reports_each_kind_of_forbidden_edge() -> None:
    # Line numbers matter: the report names them. Forbidden: lines 3, 5, 8, 9, 10, 11, 15 and 17.
    source = """\
from django.apps import apps
from django.db import models
from townsquare.board.services import task_create_for_request
from townsquare.core import roles
from townsquare import sources

def accept():
    from townsquare.board import models as board_models
    import townsquare.feedback.models
    Task = apps.get_model('board', 'Task')
    Theme = apps.get_model('feedback.Theme')
    Team = apps.get_model('people', 'Team')

class Request(models.Model):
    task = models.ForeignKey('board.Task', on_delete=models.CASCADE)
    team = models.ForeignKey('people.Team', on_delete=models.CASCADE)
    tags = models.ManyToManyField(to='reports.Report')
    parent = models.ForeignKey('self', on_delete=models.CASCADE)
    sibling = models.OneToOneField('Request', on_delete=models.CASCADE)
"""
    edges = edges_of(source, module="townsquare.intake.services", path="townsquare/intake/services.py")
    reported = {(edge.line, edge.target, edge.how) for edge in forbidden(edges)}
    assert reported == {
        (3, "board", "import"),
        (5, "sources", "import"),
        (8, "board", "lazy import"),
        (9, "feedback", "lazy import"),
        (10, "board", "get_model"),
        (11, "feedback", "get_model"),
        (15, "board", "ForeignKey string reference"),
        (17, "reports", "ManyToManyField string reference"),
    }
    # the allowed edges were seen too, and passed
    assert {(edge.line, edge.target) for edge in edges} - {(line, target) for line, target, _ in reported} == {
        (4, "core"),
        (12, "people"),
        (16, "people"),
    }
    message = str(next(edge for edge in forbidden(edges) if edge.line == 8))
    assert message == "townsquare/intake/services.py:8: intake -> board (lazy import)"


def test_core_may_import_no_app_at_all() -> None:
    source = "from townsquare.people.models import Team\n"
    edges = edges_of(source, module="townsquare.core.selectors", path="townsquare/core/selectors.py")
    assert [str(edge) for edge in forbidden(edges)] == ["townsquare/core/selectors.py:1: core -> people (import)"]
