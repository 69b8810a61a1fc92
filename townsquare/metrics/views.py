"""Value pages: Health and Channels read the latest stored snapshot; the lead can recompute it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from townsquare.core import charts as core_charts
from townsquare.core import roles
from townsquare.core.errors import TownsquareError
from townsquare.core.exports import csv_response
from townsquare.core.http import AuthenticatedHttpRequest
from townsquare.metrics import charts, panels
from townsquare.metrics.channels import Scenario, scenario_run
from townsquare.metrics.corpus import month_label
from townsquare.metrics.forms import HealthFilterForm, ScenarioForm, ScenarioSaveForm
from townsquare.metrics.models import ChannelMap, ConsolidationScenario
from townsquare.metrics.selectors import health as selectors
from townsquare.metrics.services import health as services
from townsquare.sources.models import Message, Source

CUSTOMERS_SHOWN = 50  # a scenario at 1M messages can touch a thousand accounts: the rest are in its CSV
HEALTH_TABLES = ("monthly", "response-times", "retention", "quarterly", "unanswered")
CHANNEL_TABLES = ("channels", "overlap", "scenario")
TTFR_KEYS = ("openers", "answered", "by_community", "by_staff", "median_h", "p90_h", "median_h_community",
             "median_h_staff", "within_24h", "within_7d")  # fmt: skip
QUARTER_KEYS = ("caf_community", "caf_everyone", "elephant", "organizations", "customer_organizations",
                "unaffiliated_share", "customer_share", "core", "regular", "casual")  # fmt: skip


@roles.role_required(roles.VALUE_READERS)
def index(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _status(request)
    if context["snapshot"] is None:
        # The empty state says which step is missing: a source with messages, or the first recompute.
        context["sources"] = Source.objects.count()
        context["has_messages"] = Message.objects.exists()
    return render(request, "metrics/index.html", context)


# ---------------------------------------------------------------- health


def _status(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    snapshot = selectors.snapshot_latest()
    return {
        "snapshot": snapshot,
        "pending": selectors.snapshot_pending(),
        "failed": selectors.snapshot_failed_since(snapshot),
        "can_recompute": roles.has_role(request.user, roles.LEADS),
    }


def _health(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    context = _status(request)
    form = HealthFilterForm(request.GET or None)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound and valid else {}
    source = data.get("source")
    snapshot = context["snapshot"]
    figures = selectors.health_figures_for(snapshot=snapshot, source=source) if snapshot else None
    context.update({"form": form, "source": source, "figures": figures, "definitions": panels.DEFINITIONS})
    if not figures or figures.get("empty"):
        return context
    months, quarters = panels.months_window(figures, data.get("start"), data.get("end"))
    context["months"], context["quarters"] = months, quarters
    context["shown"] = figures["months"][months]
    if not context["shown"]:
        return context
    last = months.stop - 1
    t = figures["ttfr"]
    context["latest"] = {
        "month": figures["months"][last],
        "contributors": figures["contributors"]["community"][last],
        "new": figures["new_contributors"]["community"][last],
        "inactive": figures["inactive_contributors"][last],
        "median_h": t["median_h"][last],
        "p90_h": t["p90_h"][last],
        "within_24h": t["within_24h"][last],
        "within_7d": t["within_7d"][last],
    }
    context["retention"] = panels.retention_rows(figures, months)
    context["quarter_rows"] = _quarter_rows(figures, quarters)
    context["unanswered"] = selectors.messages_in_order(figures["unanswered"][:50])
    context["export_query"] = request.GET.urlencode()
    return context


def _quarter_rows(figures: dict[str, Any], quarters: slice) -> list[dict[str, Any]]:
    labels = figures["quarter_labels"][quarters]
    top = [figures["top_organizations"][i] for i in range(len(figures["quarters"]))[quarters]]
    names = selectors.organizations_named({org for rows in top for org, _ in rows})
    out = []
    for offset, label in enumerate(labels):
        i = quarters.start + offset
        out.append(
            {
                "quarter": label,
                **{k: figures[k][i] for k in QUARTER_KEYS},
                "top": [
                    (names.get(org, "Staff (your company)" if org < 0 else f"#{org}"), share)
                    for org, share in top[offset]
                ],
            }
        )
    return out


@roles.role_required(roles.VALUE_READERS)
def health(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = _health(request)
    if context.get("shown"):
        source = context["source"]
        context["panels"] = panels.health_panels(
            snapshot=context["snapshot"],
            source_id=source.pk if source else None,
            figures=context["figures"],
            months=context["months"],
            quarters=context["quarters"],
        )
    return render(request, "metrics/health.html", context)


@roles.role_required(roles.VALUE_READERS)
def health_export(request: AuthenticatedHttpRequest, table: str) -> HttpResponseBase:
    if table not in HEALTH_TABLES:
        raise Http404("no such table")
    context = _health(request)
    figures = context.get("figures")
    if not figures or not context.get("shown"):
        raise Http404("no figures for this selection")
    scope = context["source"].pk if context["source"] else "all"
    header, rows = _health_table(table, figures, context)
    return csv_response(f"health-{table}-{scope}.csv", header, rows)


def _health_table(table: str, f: dict[str, Any], context: dict[str, Any]) -> tuple[list[str], Iterator[Sequence[Any]]]:
    months = range(len(f["months"]))[context["months"]]
    t = f["ttfr"]
    if table == "monthly":
        columns = [
            ("contributors (community)", f["contributors"]["community"]),
            ("contributors (staff)", f["contributors"]["staff"]),
            ("new contributors (community)", f["new_contributors"]["community"]),
            ("new contributors (staff)", f["new_contributors"]["staff"]),
            ("inactive contributors (community)", f["inactive_contributors"]),
            ("messages (community)", f["messages"]["community"]),
            ("messages (staff)", f["messages"]["staff"]),
            ("messages (bots)", f["messages"]["bots"]),
            ("messages (no author)", f["messages"]["unknown"]),
        ]
        return ["month", *(name for name, _ in columns)], (
            [f["months"][i], *(values[i] for _, values in columns)] for i in months
        )
    if table == "response-times":
        keys = list(TTFR_KEYS)
        return ["month", *keys], ([f["months"][i], *(t[k][i] for k in keys)] for i in months)
    if table == "retention":
        return ["joined", "new community people", "back after 30 days", "back after 90 days"], (
            [r["month"], r["new"], r["d30"], r["d90"]] for r in context["retention"]
        )
    if table == "quarterly":
        keys = list(QUARTER_KEYS)
        return ["quarter", *keys, "top organisations"], (
            [r["quarter"], *(r[k] for k in keys), "; ".join(f"{n} {s:.1%}" for n, s in r["top"])]
            for r in context["quarter_rows"]
        )
    listed = selectors.messages_in_order(f["unanswered"])
    return ["created", "channel", "kind", "title", "link"], (
        [m.created_at.isoformat(), m.source.name, m.kind, m.title or m.body[:120], m.url] for m in listed
    )


@require_POST
@roles.role_required(roles.LEADS)
def recompute(request: AuthenticatedHttpRequest) -> HttpResponse:
    _, queued = services.health_recompute_request(by=request.user)
    if queued:
        messages.success(request, "Recompute queued: the figures refresh when the worker has finished.")
    else:
        messages.info(request, "A recompute is already queued or running.")
    target = request.POST.get("next", "")
    allowed = (reverse("metrics:health"), reverse("metrics:channels"), reverse("metrics:index"))
    return redirect(target if target in allowed else "metrics:health")


# ---------------------------------------------------------------- channels


def _channels(request: AuthenticatedHttpRequest, params: Any = None, *, all_customers: bool = False) -> dict[str, Any]:
    context = _status(request)
    query = params if params is not None else request.GET
    form = ScenarioForm(query or None)
    valid = form.is_valid() if form.is_bound else False
    window = (form.cleaned_data.get("window") if valid else None) or query.get("window") or "12m"
    if window not in ChannelMap.Window.values:
        window = "12m"
    snapshot = context["snapshot"]
    data = selectors.channel_map_for(snapshot=snapshot, window=window) if snapshot else None
    sources = selectors.sources_all()
    names = {s.pk: s.name for s in sources}
    context.update({"form": form, "window": window, "windows": ChannelMap.Window.choices, "map": data, "names": names})
    if not data or data.get("empty"):
        return context
    context["window_label"] = f"{month_label(data['from'])} to {month_label(data['to'])}"
    context["rows"] = [{**r, "name": names.get(r["source"], f"source {r['source']}")} for r in data["channels"]]
    built = charts.channel_charts(data, names)
    core_charts.warm(built.values())
    context["charts"] = built
    if valid and form.asks:
        retire = [s.pk for s in form.cleaned_data.get("retire") or []]
        destination = form.cleaned_data.get("destination")
        result = scenario_run(data, retire=retire, destination=destination.pk if destination else None)
        context["scenario"] = result
        context["scenario_query"] = urlencode(
            {"window": window, "retire": retire, "to": destination.pk if destination else "new"}, doseq=True
        )
        context["scenario_names"] = {
            "retire": [names.get(pk, "?") for pk in retire],
            "destination": destination.name if destination else "a new channel",
        }
        # The page lists the customers with the most revenue first; the CSV lists them all.
        # (Those at risk are among the affected.)
        accounts = selectors.accounts_by_revenue(
            result.customers_affected, limit=None if all_customers else CUSTOMERS_SHOWN
        )
        context["customers"] = [
            (a, result.customers_affected[a.pk], result.customers_at_risk.get(a.pk, 0)) for a in accounts
        ]
        context["customers_total"] = len(result.customers_affected)
        context["save_form"] = ScenarioSaveForm()
    context["scenarios"] = selectors.scenarios_recent()
    context["can_save"] = roles.has_role(request.user, roles.LEADS)
    return context


@roles.role_required(roles.VALUE_READERS)
def channels(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "metrics/channels.html", _channels(request))


@roles.role_required(roles.VALUE_READERS)
def scenario(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(ConsolidationScenario.objects.prefetch_related("retire"), pk=pk)
    params = QueryDict(mutable=True)
    for key, value in saved.query().items():
        params.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    context = _channels(request, params)
    context["saved"] = saved
    return render(request, "metrics/channels.html", context)


@require_POST
@roles.role_required(roles.LEADS)
def scenario_save(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ScenarioForm(request.POST)
    save = ScenarioSaveForm(request.POST)
    if form.is_valid() and save.is_valid():
        try:
            saved = services.scenario_save(
                name=save.cleaned_data["name"],
                note=save.cleaned_data["note"],
                retire=list(form.cleaned_data.get("retire") or []),
                destination=form.cleaned_data.get("destination"),
                window=form.cleaned_data["window"],
                by=request.user,
            )
        except TownsquareError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Saved the scenario “{saved.name}”.")
            return redirect(saved)
    else:
        messages.error(request, "The scenario could not be saved: give it a name and a valid question.")
    return redirect(reverse("metrics:channels") + "?" + request.POST.urlencode())


@roles.role_required(roles.VALUE_READERS)
def channels_export(request: AuthenticatedHttpRequest, table: str) -> HttpResponseBase:
    if table not in CHANNEL_TABLES:
        raise Http404("no such table")
    context = _channels(request, all_customers=True)
    data = context.get("map")
    if not data or data.get("empty"):
        raise Http404("no channel map yet")
    names = context["names"]
    window = context["window"]
    if table == "channels":
        keys = ("people", "staff", "messages", "newcomers", "entry", "core", "only_here")
        header = ["channel", "active people", "staff", "messages", "newcomers", "first contributions here",
                  "core people", "only here"]  # fmt: skip
        rows = ([r["name"], *(r[k] for k in keys)] for r in context["rows"])
        return csv_response(f"channels-{window}.csv", header, rows)
    labels = [names.get(pk, f"source {pk}") for pk in data["sources"]]
    if table == "overlap":
        return csv_response(
            f"channel-overlap-{window}.csv",
            ["", *labels],
            ([label, *row] for label, row in zip(labels, data["overlap"], strict=True)),
        )
    result: Scenario | None = context.get("scenario")
    if result is None:
        raise Http404("ask a question first: pick channels to retire")
    figures: list[list[Any]] = [
        ["active people", result.people], ["people on a retired channel", result.affected],
        ["already on the destination", result.already_there], ["must move", result.must_move],
        ["only on retired channels (likely lost)", result.only_retired],
        ["channels per person before (mean)", result.channels_before_mean],
        ["channels per person after (mean)", result.channels_after_mean],
        ["channels per person before (median)", result.channels_before_median],
        ["channels per person after (median)", result.channels_after_median],
    ]  # fmt: skip
    figures += [[f"customer: {a.name}", people] for a, people, _ in context["customers"]]
    return csv_response(f"scenario-{window}.csv", ["figure", "value"], figures)
