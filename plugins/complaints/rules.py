"""Pure rules of the property developer's customer service: no database, no clock.

Text → kind and repair class; delivery date + warranty table → expiry dates and
notice dates; project dates → milestone and assessment tasks; case figures →
KPIs. The hooks and jobs are thin glue around these, and each row of the README's rule
table has a test here under its own name.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from kefu.plugins.complaints.config import (
    REPAIR_STEPS,
    ComplaintsConfig,
    Project,
    RepairSection,
    WarrantyItem,
    WarrantySection,
)

FEEDBACK_KINDS = ("complaint", "inquiry", "suggestion")


def normalise(text: str) -> str:
    """Fold full-width forms (１２３, ＡＢＣ) to ASCII so keywords and scores match either."""
    return unicodedata.normalize("NFKC", text).lower()


def _hits(text: str, words: Iterable[str]) -> bool:
    return any(normalise(w) in text for w in words if w)


@dataclass(frozen=True)
class TextMatch:
    """What complaints' words found in a text: the kind and how strongly the words point to us."""

    kind: str
    score: float
    words: tuple[str, ...]


def _found(text: str, words: Iterable[str]) -> set[str]:
    return {w for w in (normalise(word) for word in words) if w and w in text}


def _weight_table(weights: dict[str, float]) -> dict[str, float]:
    return {normalise(k): v for k, v in weights.items()}


def words_score(found: Iterable[str], weights: dict[str, float], default: float = 1.0) -> float:
    """The sum of the found words' weights (``default`` unless ``weights`` says otherwise).

    A word inside a longer found word counts once, as the longer one ("是否在保修期" is
    not also "是否"), so a specific phrase is not outweighed by its own generic parts.
    """
    words = set(found)
    table = _weight_table(weights)
    return sum(table.get(w, default) for w in words if not any(w != o and w in o for o in words))


def match_text(text: str, cfg: ComplaintsConfig) -> TextMatch | None:
    """Which kind a customer's message is (repair, complaint, inquiry, suggestion) and its score.

    The kind whose strongest word weighs most wins (``[complaints.score] weights``, else 1);
    a tie goes in ``feedback.order`` (default: a complaint about a slow repair is a
    complaint). The score sums every word found, context words included. None when no
    kind's word occurs.
    """
    folded = normalise(text)
    found = {
        "complaint": _found(folded, cfg.feedback.complaint_keywords),
        "repair": _found(folded, cfg.repair.keywords).union(
            *(_found(folded, c.keywords) for c in cfg.repair.classes.values())
        ),
        "suggestion": _found(folded, cfg.feedback.suggestion_keywords),
        "inquiry": _found(folded, cfg.feedback.inquiry_keywords),
    }
    every = set().union(*found.values())
    if not every:
        return None
    table = _weight_table(cfg.score.weights)
    order: list[str] = list(cfg.feedback.order)

    def strength(kind: str) -> tuple[float, int]:
        words = found[kind]
        return (max(table.get(w, 1.0) for w in words) if words else -1.0, -order.index(kind))

    kind = max((k for k in order if found[k]), key=strength, default=None)
    if kind is None:
        return None  # only kinds left out of feedback.order matched
    context = _found(folded, cfg.score.context_words) - every
    score = words_score(every, cfg.score.weights) + words_score(context, cfg.score.weights, default=0.5)
    return TextMatch(kind, score, tuple(sorted(every | context)))


def classify_text(text: str, cfg: ComplaintsConfig) -> str | None:
    """Which kind a customer's message is: repair, complaint, inquiry or suggestion (None: none).

    Keywords come from config; when several kinds match, the strongest word decides, then
    ``feedback.order`` (see :func:`match_text`).
    """
    found = match_text(text, cfg)
    return found.kind if found is not None else None


def claim_score(words: float, *, customer: bool, cfg: ComplaintsConfig) -> float:
    """How well an item matches complaints: its word score, plus ``score.customer`` when the sender
    owns one of our homes. The standing only adds to an item its words matched."""
    if words <= 0:
        return 0.0
    return words + (cfg.score.customer if customer else 0.0)


def repair_class(text: str, repair: RepairSection) -> str:
    """The repair class a report belongs to (plumbing leak, …), else the default class."""
    folded = normalise(text)
    for name, cls in repair.classes.items():
        if name != repair.default_class and _hits(folded, cls.keywords):
            return name
    return repair.default_class


def warranty_item_for(text: str, table: dict[str, WarrantyItem]) -> str | None:
    """The warranty item a repair concerns (by its keywords), or None if none matches."""
    folded = normalise(text)
    for name, item in table.items():
        if _hits(folded, item.keywords):
            return name
    return None


def trade_for(text: str, trades: dict[str, list[str]]) -> str:
    """The trade (专业) a defect belongs to for the monthly report; 其他 when none matches."""
    folded = normalise(text)
    for trade, words in trades.items():
        if _hits(folded, words):
            return trade
    return "其他"


_SCORE = re.compile(r"(?<!\d)([1-5])(?!\d)")
_SCORE_WORDS = (("非常满意", 5), ("很满意", 5), ("不满意", 1), ("很差", 1), ("满意", 4), ("一般", 3))


def parse_score(text: str) -> int | None:
    """The 1–5 satisfaction score in a callback reply ("5", "５分", "非常满意"), or None."""
    folded = normalise(text).strip()
    found = _SCORE.findall(folded)
    if len(set(found)) == 1:
        return int(found[0])
    if found:
        return None  # "1到5分我给3" names several digits: ambiguous, staff read it
    for word, score in _SCORE_WORDS:
        if word in folded:
            return score
    return None


def is_low_score(score: int, reopen_below: int) -> bool:
    """A callback score that reopens the case and alerts the project CS."""
    return score < reopen_below


def next_repair_step(step: str | None) -> str | None:
    """The step after ``step`` in 沟通联系 → … → 维修关闭 (the first when None; None after the last)."""
    if step is None:
        return REPAIR_STEPS[0]
    index = REPAIR_STEPS.index(step)
    return REPAIR_STEPS[index + 1] if index + 1 < len(REPAIR_STEPS) else None


def escalation_target(chain: Sequence[str], level: int) -> str | None:
    """The role told at breach number ``level`` (1 = first breach); None past the chain's end."""
    return chain[level] if 0 <= level < len(chain) else None


# --- dates ----------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years (Feb 29 → Feb 28)."""
    return add_months(day, 12 * years)


def _month_day(year: int, text: str) -> date:
    month, day = (int(p) for p in text.split("-"))
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def heating_seasons_end(delivered: date, seasons: int, wcfg: WarrantySection) -> date:
    """The last day of the ``seasons``-th heating season after delivery.

    A season runs from ``heating_season_start`` to ``heating_season_end`` of the
    next year. The first season counted is the first that starts on or after the
    delivery date, unless ``count_partial_season`` counts one already running.
    """
    start = _month_day(delivered.year, wcfg.heating_season_start)
    end_this = _month_day(delivered.year, wcfg.heating_season_end)
    # A season that began last year and has not ended yet is running at delivery.
    running_since_last_year = delivered <= end_this
    if wcfg.count_partial_season and running_since_last_year:
        first_start = _month_day(delivered.year - 1, wcfg.heating_season_start)
    elif delivered <= start:
        first_start = start
    elif wcfg.count_partial_season:
        first_start = start  # delivered during this year's season: it counts
    else:
        first_start = _month_day(delivered.year + 1, wcfg.heating_season_start)
    last_start_year = first_start.year + seasons - 1
    return _month_day(last_start_year + 1, wcfg.heating_season_end)


def warranty_expiry(delivered: date, item: WarrantyItem, wcfg: WarrantySection) -> date:
    """The last day of warranty for ``item`` on a home delivered on ``delivered``.

    A period of N years runs from the delivery day to the day before its N-th
    anniversary (2 years from 2024-06-01 → 2026-05-31).
    """
    if item.heating_seasons is not None:
        return heating_seasons_end(delivered, item.heating_seasons, wcfg)
    assert item.years is not None  # the model requires exactly one period
    return add_years(delivered, item.years) - timedelta(days=1)


@dataclass(frozen=True)
class NoticeDue:
    """One warranty notice for one home and item: which lead, sent on which day."""

    item: str
    lead_days: int
    expires_on: date
    notice_on: date


def notice_dates(expires_on: date, leads: Sequence[int]) -> list[tuple[int, date]]:
    """(lead, day) of each notice before ``expires_on``: 60 and 30 days before by default."""
    return [(lead, expires_on - timedelta(days=lead)) for lead in sorted(leads, reverse=True)]


def due_notice(expires_on: date, leads: Sequence[int], today: date) -> tuple[int, date] | None:
    """The notice that is due on ``today`` for an expiry, or None.

    The due one is the latest whose day has come, as long as the warranty has not
    expired: a daemon that was down on the 60-day mark still sends that notice
    late, but one down past the 30-day mark sends only the 30-day notice (the
    older would say the wrong thing).
    """
    if today > expires_on:
        return None
    due = [(lead, day) for lead, day in notice_dates(expires_on, leads) if day <= today]
    return due[-1] if due else None


def home_notices(
    delivered: date, table: dict[str, WarrantyItem], wcfg: WarrantySection, today: date
) -> list[NoticeDue]:
    """Every warranty notice due on ``today`` for one home (one per item at most)."""
    out = []
    for name, item in table.items():
        if not item.notify:
            continue
        expires = warranty_expiry(delivered, item, wcfg)
        due = due_notice(expires, wcfg.notice_days_before, today)
        if due is not None:
            out.append(NoticeDue(item=name, lead_days=due[0], expires_on=expires, notice_on=due[1]))
    return out


def delivery_windows(table: dict[str, WarrantyItem], wcfg: WarrantySection, today: date) -> list[tuple[date, date]]:
    """Ranges of delivery dates that can have a notice due on ``today`` (to query homes by index).

    One range per item with years (a day's padding each side covers Feb 29); a
    heating item has a range only when a season ends within the longest lead of
    ``today``. The ranges are a superset; :func:`home_notices` is the exact test.
    """
    lead = max(wcfg.notice_days_before)
    out: list[tuple[date, date]] = []
    for item in table.values():
        if not item.notify:
            continue
        if item.years is not None:
            # expiry = delivered + years - 1 day, due while expiry - lead <= today <= expiry
            low = add_years(today + timedelta(days=1), -item.years) - timedelta(days=1)
            high = add_years(today + timedelta(days=lead + 1), -item.years) + timedelta(days=1)
            out.append((low, high))
            continue
        seasons = item.heating_seasons or 1
        for year in range(today.year, today.year + 2 + lead // 365):
            ends = _month_day(year, wcfg.heating_season_end)
            if today <= ends <= today + timedelta(days=lead):
                first_start_year = year - seasons
                out.append((date(first_start_year - 1, 1, 1), date(first_start_year + 1, 12, 31)))
    return out


# --- milestones and assessment ------------------------------------------------


@dataclass(frozen=True)
class MilestoneTask:
    """A risk-control task for one project milestone, due on ``task_on``."""

    project: str
    milestone: str
    title: str
    milestone_on: date
    task_on: date


def milestone_tasks(code: str, project: Project, names: dict[str, str], lead_days: int) -> list[MilestoneTask]:
    """The risk-assessment task of each milestone, ``lead_days`` before it (14 by default)."""
    return [
        MilestoneTask(code, key, names.get(key, key), on, on - timedelta(days=lead_days))
        for key, on in sorted(project.milestones.items(), key=lambda kv: kv[1])
    ]


def assessment_date(delivered: date, months: int) -> date:
    """The post-delivery experience assessment: one month after delivery (seed)."""
    return add_months(delivered, months)


# --- KPIs -------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    """The three KPIs of 维修管理岗 a for one project or engineer and one month."""

    opened: int
    closed: int
    closed_in_time: int
    scores: tuple[int, ...]

    @property
    def closure_rate(self) -> float | None:
        """报事关闭率: closed / opened."""
        return self.closed / self.opened if self.opened else None

    @property
    def timeliness(self) -> float | None:
        """维修及时率: closed within the deadline / closed."""
        return self.closed_in_time / self.closed if self.closed else None

    @property
    def satisfaction(self) -> float | None:
        """维修满意度: the mean callback score (1–5)."""
        return sum(self.scores) / len(self.scores) if self.scores else None


def kpi(rows: Iterable[tuple[bool, bool, int | None]]) -> Kpi:
    """KPIs from (closed, closed in time, score) of each case opened in the period."""
    opened = closed = in_time = 0
    scores: list[int] = []
    for is_closed, is_in_time, score in rows:
        opened += 1
        if is_closed:
            closed += 1
            if is_in_time:
                in_time += 1
        if score is not None:
            scores.append(score)
    return Kpi(opened, closed, in_time, tuple(scores))


def month_bounds(period: str) -> tuple[date, date]:
    """The first day of month ``period`` ('2026-11') and the first day of the next."""
    try:
        year, month = (int(p) for p in period.split("-"))
        first = date(year, month, 1)
    except ValueError as exc:
        raise ValueError(f"period {period!r}: write a month as YYYY-MM, e.g. 2026-11") from exc
    return first, add_months(first, 1)


def previous_month(today: date) -> str:
    """The month before ``today`` as 'YYYY-MM' (what a job on the 1st reports on)."""
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"
