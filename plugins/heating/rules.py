"""The heating table's rules as pure functions: text → category, date → campaign, rota → person.

Nothing here touches the database or the clock; hooks, jobs and imports call these
with values they read, so every rule is tested without a daemon.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from kefu.plugins.heating.config import HeatingConfig, KeywordsConfig, ScoreConfig, SeasonConfig

Category = Literal["leak", "general", "outage", "fee"]
Campaign = Literal["before", "during"]

# Replies are short and typed on phones: drop spaces and punctuation before matching.
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# After a leak (always first: it is the emergency), a tie between categories goes in this order.
_CATEGORY_ORDER: tuple[Category, ...] = ("outage", "fee", "general")


def _normalise(text: str) -> str:
    """NFKC (full-width ２ → 2) and lower case, noise removed."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).lower()


def _is_token(word: str) -> bool:
    """Digits and Latin words ("1", "td") match a whole reply only, never inside other text."""
    return word.isascii()


@dataclass(frozen=True)
class TextMatch:
    """What heating's words found in a text: the category and how strongly the words point to heating."""

    category: Category
    score: float
    words: tuple[str, ...]


def _found(clean: str, words: Iterable[str]) -> set[str]:
    return {w for w in (_normalise(word) for word in words) if w and w in clean}


def words_score(found: Iterable[str], weights: dict[str, float]) -> float:
    """The sum of the found words' weights (1 unless ``weights`` says otherwise).

    A word inside a longer found word counts once, as the longer one ("暖气不热" is
    not also "不热"), so a specific phrase is not outweighed by its own generic parts.
    """
    words = set(found)
    table = {_normalise(k): v for k, v in weights.items()}
    return sum(table.get(w, 1.0) for w in words if not any(w != o and w in o for o in words))


def match_text(text: str, keywords: KeywordsConfig, weights: dict[str, float] | None = None) -> TextMatch | None:
    """Which heating category a text is, and its word score; None when no heating word occurs.

    A leak word always makes a leak ("暖气不热，还漏水" is a leak); otherwise the category
    whose strongest word weighs most wins, ties in the order outage, fee, general. The score sums
    every heating word found (see :func:`words_score`).
    """
    clean = _normalise(text)
    table = weights or {}
    found: dict[Category, set[str]] = {
        "leak": _found(clean, keywords.leak),
        "outage": _found(clean, keywords.outage),
        "fee": _found(clean, keywords.fee),
        "general": _found(clean, keywords.general),
    }
    every = set().union(*found.values())
    if not every:
        return None
    if found["leak"]:
        category: Category = "leak"
    else:
        weight = {_normalise(k): v for k, v in table.items()}
        category = max(
            _CATEGORY_ORDER,
            key=lambda c: (max((weight.get(w, 1.0) for w in found[c]), default=-1.0), -_CATEGORY_ORDER.index(c)),
        )
    return TextMatch(category, words_score(every, table), tuple(sorted(every)))


def classify_text(text: str, keywords: KeywordsConfig) -> Category | None:
    """The category of a text (:func:`match_text` with every word weighing 1), or None.

    Leak (跑冒漏, 4 h) if any leak word occurs, else an outage or fee question, else
    general (24 h) if a general word does.
    """
    found = match_text(text, keywords)
    return found.category if found is not None else None


def claim_score(words: float, *, customer: bool, score: ScoreConfig) -> float:
    """How well an item matches heating: its word score, plus ``score.customer`` when the sender
    is one of our households. The standing only adds to an item its words matched (``words > 0``)."""
    if words <= 0:
        return 0.0
    return words + (score.customer if customer else 0.0)


_QUOTE_START = re.compile(
    r"^\s*(>|-{2,}\s*(原始邮件|Original Message)|在.{0,80}写道[:：]|On .{0,120}wrote:|发件人[:：]|From:)",
    re.IGNORECASE,
)


def reply_head(text: str) -> str:
    """The part of a reply above the quoted original (mail clients quote our question back)."""
    lines = []
    for line in text.splitlines():
        if _QUOTE_START.match(line):
            break
        lines.append(line)
    return "\n".join(lines)


_REPORTED_TEMP = re.compile(r"(?:室温|屋里|家里|室内|温度)[^\d。，,]{0,6}?(\d{1,2}(?:\.\d)?)\s*(?:度|℃|°C|°)")


def reported_temperature(text: str) -> float | None:
    """An indoor temperature a household states ("室温只有15度", "家里16℃"), or None."""
    found = _REPORTED_TEMP.search(unicodedata.normalize("NFKC", text))
    return float(found.group(1)) if found else None


def parse_callback_answer(text: str, keywords: KeywordsConfig) -> bool | None:
    """True for 满意/1, False for 不满意/2, None when the reply says neither.

    不满意 contains 满意, so the unsatisfied words are looked for first.
    """
    clean = _normalise(reply_head(text))
    if not clean:
        return None
    for words, answer in ((keywords.unsatisfied, False), (keywords.satisfied, True)):
        for word in words:
            w = _normalise(word)
            if not w:
                continue
            if (_is_token(w) and clean == w) or (not _is_token(w) and w in clean):
                return answer
    return None


def is_low_temperature(measured_c: float, threshold_c: float) -> bool:
    """Below the threshold (default 18 °C) is a low-temperature case; exactly at it is not."""
    return measured_c < threshold_c


def _on(year: int, month_day: str) -> date:
    month, day = (int(p) for p in month_day.split("-"))
    if (month, day) == (2, 29):
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, month, day)


def season_bounds(season_year: int, season: SeasonConfig) -> tuple[date, date]:
    """First and last day of the season that starts in ``season_year`` (2026 → 2026-11-01 … 2027-03-31)."""
    start = _on(season_year, season.start)
    end = _on(season_year, season.end)
    if end < start:
        end = _on(season_year + 1, season.end)
    return start, end


def season_year_of(day: date, season: SeasonConfig) -> int:
    """The season a day belongs to for fee purposes: the one in progress or the next to start.

    Days after the end of one season count towards the next (fees are raised ahead).
    """
    start, end = season_bounds(day.year - 1, season)
    if start <= day <= end:
        return day.year - 1
    return day.year


def in_season(day: date, season: SeasonConfig) -> bool:
    """True from the season's first to its last day inclusive."""
    start, end = season_bounds(season_year_of(day, season), season)
    return start <= day <= end


def fee_campaign_on(day: date, season: SeasonConfig) -> Campaign | None:
    """Which fee reminder campaign runs on ``day``: one of the before/during dates, else None."""
    md = f"{day.month:02d}-{day.day:02d}"
    if md in season.reminders_before and not in_season(day, season):
        return "before"
    if md in season.reminders_during and in_season(day, season):
        return "during"
    return None


@dataclass(frozen=True)
class FeeDebtor:
    """A household's standing for a season, as the ledger says."""

    account: str
    phone: str | None
    owed: float
    opted_out: bool = False


def fee_reminder_recipients(debtors: Iterable[FeeDebtor]) -> list[FeeDebtor]:
    """Households that owe something and can be texted; each account once."""
    seen: set[str] = set()
    out = []
    for d in debtors:
        if d.owed > 0.005 and d.phone and not d.opted_out and d.account not in seen:
            seen.add(d.account)
            out.append(d)
    return out


def fee_season_prefix(plugin: str, season_year: int) -> str:
    """What every reminder key of one season of ``plugin`` starts with."""
    return f"{plugin}/fee/{season_year}/"


def fee_campaign_prefix(plugin: str, season_year: int, day: date) -> str:
    """What every reminder key of one campaign day of ``plugin`` starts with."""
    return f"{fee_season_prefix(plugin, season_year)}{day.isoformat()}/"


def fee_reminder_key(plugin: str, account: str, season_year: int, day: date) -> str:
    """The idempotency key of one reminder: a re-run of the same campaign queues nothing."""
    return f"{fee_campaign_prefix(plugin, season_year, day)}{account}/sms"


def escalation_chain(station_key: str | None, cfg: HeatingConfig) -> list[str]:
    """Station on duty → branch head → CS-centre head, as [staff] targets; gaps skipped, no repeats.

    The station's target is a rota (``rota:station-S01``) the core resolves to whoever
    is on duty at the moment of each notification.
    """
    chain: list[str | None] = []
    station = cfg.stations.get(station_key) if station_key else None
    if station_key and station is not None:
        chain.append(cfg.duty_of(station_key))
        branch = cfg.branches.get(station.branch)
        chain.append(branch.head if branch else None)
    chain.append(cfg.cs_centre_head)
    out: list[str] = []
    for key in chain:
        if key and key not in out:
            out.append(key)
    return out


def escalation_level(station_key: str | None, level: int, cfg: HeatingConfig) -> list[str]:
    """Who level ``level`` (1-based) of a case's chain means: that entry of :func:`escalation_chain`.

    A chain shorter than the kind's levels (no station, a station whose duty is its
    branch head …) repeats its top past its end, as the core repeats a chain's top
    level; [] only when no head is configured at all.
    """
    chain = escalation_chain(station_key, cfg)
    return [chain[min(level, len(chain)) - 1]] if chain and level >= 1 else []


OUTAGE_CAUSES: dict[str, str] = {
    "停水": "water_power",
    "停电": "water_power",
    "water": "water_power",
    "power": "water_power",
    "设备故障": "equipment_pipe",
    "管网渗漏": "equipment_pipe",
    "equipment": "equipment_pipe",
    "pipe": "equipment_pipe",
}
CAUSE_GROUP_TITLES = {"water_power": "停水、停电", "equipment_pipe": "设备故障、管网渗漏", "other": "其他"}


def outage_cause_group(cause: str) -> str:
    """停水/停电 → water_power, 设备故障/管网渗漏 → equipment_pipe (the seed's two groups), else other."""
    return OUTAGE_CAUSES.get(cause.strip().lower(), OUTAGE_CAUSES.get(cause.strip(), "other"))


@dataclass(frozen=True)
class Visit:
    """One 包保 visit: station, local day, household visited, whether it is a far-end one."""

    station: str
    day: date
    account: str | None = None
    far_end: bool = False


def week_shortfalls(
    visits: Sequence[Visit], stations: Iterable[str], week_start: date, per_week: int
) -> dict[str, str]:
    """Stations visited fewer than ``per_week`` times in the week from ``week_start``: reason by station."""
    week_end = week_start + timedelta(days=7)
    out = {}
    for st in stations:
        n = sum(1 for v in visits if v.station == st and week_start <= v.day < week_end)
        if n < per_week:
            out[st] = f"本周走访 {n} 次，少于 {per_week} 次"
    return out


def month_shortfalls(
    visits: Sequence[Visit],
    stations: Iterable[str],
    month_start: date,
    per_month: int,
    far_end_households: int,
) -> dict[str, list[str]]:
    """Stations below the monthly minimums (visits, distinct far-end households): reasons by station."""
    nxt = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    out: dict[str, list[str]] = {}
    for st in stations:
        mine = [v for v in visits if v.station == st and month_start <= v.day < nxt]
        far = {v.account for v in mine if v.far_end and v.account}
        reasons = []
        if len(mine) < per_month:
            reasons.append(f"本月走访 {len(mine)} 次，少于 {per_month} 次")
        if len(far) < far_end_households:
            reasons.append(f"本月走访远端用户 {len(far)} 户，少于 {far_end_households} 户")
        if reasons:
            out[st] = reasons
    return out


@dataclass(frozen=True)
class CoalResult:
    """The verdict on one sample's double test."""

    measure: str
    first: float
    second: float
    difference: float
    tolerance: float
    mean: float | None  # None when a retest is needed

    @property
    def retest(self) -> bool:
        """True when the two tests differ beyond tolerance."""
        return self.mean is None


def coal_double_test(
    measure: str, first: float, second: float, tolerance: dict[str, float], default: float
) -> CoalResult:
    """Accept the mean of two tests within tolerance; beyond it, ask for a retest (seed: 每个样品做两次化验)."""
    tol = tolerance.get(measure, default)
    diff = round(abs(first - second), 6)
    mean = round((first + second) / 2, 4) if diff <= tol + 1e-9 else None
    return CoalResult(measure, first, second, diff, tol, mean)


def audit_finding_counts(kind: str, height_m: float | None, basement_height_m: float) -> bool:
    """Whether an auditor's record is a finding: a basement only when higher than 2.2 m (seed)."""
    if kind == "basement_extension":
        return height_m is not None and height_m > basement_height_m
    return kind in {"private_area_increase", "gifted_area", "layout_change"}


AUDIT_KINDS = {
    "private_area_increase": "私增供热面积",
    "basement_extension": "地下室下挖、外扩",
    "gifted_area": "开发商赠送面积",
    "layout_change": "私自拆改供热设施、打通间隔墙",
}


@dataclass(frozen=True)
class TimelinessRow:
    """One case for the 回复及时率 report."""

    station: str | None
    person: str | None
    due_at: datetime
    answered_at: datetime | None


def reply_timeliness(
    rows: Iterable[TimelinessRow], by: Literal["station", "person"]
) -> dict[str, tuple[int, int, float]]:
    """(answered in time, total, share) per station or person; unanswered cases count as late."""
    counts: dict[str, list[int]] = {}
    for r in rows:
        key = (r.station if by == "station" else r.person) or "-"
        c = counts.setdefault(key, [0, 0])
        c[1] += 1
        if r.answered_at is not None and r.answered_at <= r.due_at:
            c[0] += 1
    return {k: (ok, n, round(ok / n, 4) if n else 0.0) for k, (ok, n) in sorted(counts.items())}


def complaint_rate(complaints: dict[str, int], households: dict[str, int], per: int = 1000) -> dict[str, float]:
    """Complaints per ``per`` households, per station (投诉率, scored in the inspections)."""
    return {st: round(complaints.get(st, 0) * per / n, 2) if n else 0.0 for st, n in sorted(households.items())}
