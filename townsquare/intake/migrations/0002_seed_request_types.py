"""Seed the request types: weights follow GitLab's developer evangelism handbook (new work
costs about twice or three times reusing existing work; a quarter's budget is about 15 points)."""

from __future__ import annotations

from django.db import migrations


def _f(name, label, kind="text", required=False, help="", choices=None):
    field = {"name": name, "label": label, "kind": kind, "required": required, "help": help}
    if choices:
        field["choices"] = choices
    return field


AUDIENCE = _f("audience", "Who is the audience?", required=True, help="For example: Python developers new to the product.")

MENTORING = [
    ("mentoring-writing", "Mentoring: write it yourself", 1,
     "DevRel reviews your outline and draft and helps you publish; your team writes it.",
     [_f("topic", "What will you write?", required=True), _f("writer", "Who on your team will write it?", required=True),
      _f("draft_url", "Outline or draft, if any", "url")]),
    ("mentoring-speaking", "Mentoring: speaker coaching", 2,
     "Abstract review, a dry run with feedback and slide tips for someone on your team.",
     [_f("speaker", "Who will speak?", required=True), _f("event", "Event", required=True), _f("event_date", "Event date", "date")]),
    ("mentoring-community", "Mentoring: answering the community", 1,
     "A session on where the community asks, how to answer well, and when to pull DevRel in.",
     [_f("people", "Who should join?", "textarea", required=True, help="Names, one per line.")]),
    ("mentoring-demo", "Mentoring: run your own demo", 1,
     "DevRel walks your team through the demo script and environment so you can run it yourselves.",
     [_f("presenter", "Who will present?", required=True), AUDIENCE]),
    ("mentoring-metrics", "Mentoring: self-serve community metrics", 1,
     "How to read Townsquare's value pages and exports to answer your own questions.",
     [_f("question", "What do you want to be able to answer?", "textarea", required=True)]),
]

SERVICE = [
    ("new-blog-post", "New blog post or tutorial", 3, "mentoring-writing",
     "A new article or step-by-step tutorial written by DevRel.",
     [AUDIENCE, _f("key_points", "What must the reader take away?", "textarea", required=True),
      _f("reference_url", "Related material", "url")]),
    ("integration-tutorial", "Integration tutorial", 5, "mentoring-writing",
     "A tutorial with working code showing the product with another tool.",
     [_f("integration", "Which tool or platform?", required=True),
      _f("use_case", "What should the reader build?", "textarea", required=True),
      _f("repo_url", "Existing code, if any", "url")]),
    ("new-talk", "New talk", 5, "mentoring-speaking",
     "A talk DevRel writes and gives for the first time.",
     [_f("event", "Event", required=True), _f("event_date", "Event date", "date"), AUDIENCE,
      _f("length_minutes", "Length (minutes)", "number"), _f("cfp_deadline", "CFP deadline", "date")]),
    ("talk-already-given", "Talk already given", 1, "mentoring-speaking",
     "A talk from DevRel's catalogue, delivered again.",
     [_f("talk", "Which talk?", required=True, help="Title or a link to the recording."),
      _f("event", "Event", required=True), _f("event_date", "Event date", "date")]),
    ("qa-session", "One-hour Q&A session", 1, "mentoring-community",
     "An hour with DevRel answering questions, live or in a thread.",
     [AUDIENCE, _f("topics", "Topics to cover", "textarea")]),
    ("demo", "Product demo", 2, "mentoring-demo",
     "A live demo for prospects, customers or a conference booth.",
     [_f("setting", "Setting", "choice", required=True, choices=["Prospect call", "Customer call", "Internal", "Conference"]),
      AUDIENCE, _f("product_area", "Product area")]),
    ("docs-review", "Docs review", 1, "mentoring-writing",
     "DevRel reviews a docs page or section for accuracy and developer experience.",
     [_f("docs_url", "Page or pull request", "url", required=True), _f("what_changed", "What changed?", "textarea")]),
    ("newsletter-review", "Newsletter review", 1, "mentoring-writing",
     "DevRel reviews a newsletter or announcement draft before it goes out.",
     [_f("draft_url", "Draft", "url", required=True), _f("send_date", "Send date", "date")]),
    ("metrics-pull", "Community metrics pull", 2, "mentoring-metrics",
     "Numbers about the community for a deck, a plan or a customer.",
     [_f("question", "What question should the numbers answer?", "textarea", required=True),
      _f("period", "Period", help="For example: last two quarters.")]),
    ("event-support", "Event support", 3, "mentoring-speaking",
     "DevRel staffs a booth, runs a workshop or judges at an event.",
     [_f("event", "Event", required=True), _f("event_date", "Event date", "date"),
      _f("role", "What is needed?", "choice", required=True, choices=["Booth", "Workshop", "Judging", "Speaking slot"])]),
    ("community-response", "Community response on a thread", 1, "mentoring-community",
     "DevRel answers a community thread that needs an official voice.",
     [_f("thread_url", "Thread", "url", required=True), _f("context", "What should we know?", "textarea")]),
]


def seed(apps, schema_editor):
    RequestType = apps.get_model("intake", "RequestType")
    by_slug = {}
    position = 10
    for slug, name, points, description, fields in MENTORING:
        by_slug[slug], _ = RequestType.objects.get_or_create(slug=slug, defaults={
            "name": name, "points": points, "mode": "mentoring", "description": description, "fields": fields,
            "position": 500 + position})
        position += 10
    position = 10
    for slug, name, points, alternative, description, fields in SERVICE:
        RequestType.objects.get_or_create(slug=slug, defaults={
            "name": name, "points": points, "mode": "service", "description": description, "fields": fields,
            "mentoring_alternative": by_slug[alternative], "position": position})
        position += 10


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_requests_budgets_ledger")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
