"""旷工 HR review: 15 consecutive absent working days or 30 in a year open a case for HR.

Never an automatic dismissal. The seed's rule (连续旷工超过十五天 … 作除名处理) is the
1982 企业职工奖惩条例 word for word, repealed in 2008; today a dismissal rests on
劳动合同法 art. 39 (a serious breach of rules adopted under art. 4) and HR's judgement
of the facts (was the employee ill, unreachable, detained …). The case says so.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kefu.plugins.hr import kinds, rules
from kefu.plugins.hr.config import Ctx
from kefu.plugins.hr.models import DayResult, Review
from kefu.plugins.hr.register import Person

NOT_DISMISSAL = (
    "本案仅供人事复核，不是除名或解除劳动合同的决定。制度原文（连续旷工超过十五天或一年内累计超过三十天作除名处理）"
    "出自1982年《企业职工奖惩条例》，该条例已于2008年废止；现行解除劳动合同须依据《劳动合同法》第三十九条"
    "及依法公示的规章制度（第四条），由人事核实事实（是否生病、失联、有无请假等）后判断。"
)


def open_reviews(ctx: Ctx, people: dict[str, Person], today: date) -> list[str]:
    """Open the review cases now due (each once per employee, year and reason); their numbers."""
    cfg = ctx.config.absence
    session = ctx.db()
    year_start = date(today.year, 1, 1)
    days: dict[str, list[tuple[date, str, float]]] = {}
    for emp, day, status, absent in session.execute(
        select(DayResult.employee, DayResult.day, DayResult.status, DayResult.absent)
        .where(DayResult.day >= year_start, DayResult.day <= today)
        .order_by(DayResult.employee, DayResult.day)
    ):
        days.setdefault(emp, []).append((day, status, float(absent)))
    known = {(r.employee, r.reason) for r in session.scalars(select(Review).where(Review.year == today.year))}
    opened = []
    for emp, rows in days.items():
        run = rules.longest_absent_run((d, s) for d, s, _a in rows)
        total = int(sum(a for _d, _s, a in rows))
        for reason, count, limit, words in (
            ("consecutive", run, cfg.review_consecutive, f"连续旷工{run}个工作日"),
            ("in_year", total, cfg.review_in_year, f"{today.year}年累计旷工{total}天"),
        ):
            if count < limit or (emp, reason) in known:
                continue
            person = people.get(emp)
            name = person.name if person else emp
            case = ctx.open_case(
                kind=kinds.REVIEW,
                title=f"旷工人事复核：{name}，{words}",
                data={"employee": emp, "reason": reason, "days": count, "note": NOT_DISMISSAL},
            )
            ctx.record_event(case, "note", reason=NOT_DISMISSAL, data={"employee": emp, "days": count})
            session.add(
                Review(employee=emp, year=today.year, reason=reason, days=count, case_id=case.id, opened_at=ctx.now())
            )
            known.add((emp, reason))
            opened.append(case.number)
            if ctx.config.hr_reviewer:
                for key in ctx.staff_for(ctx.config.hr_reviewer):
                    staff = ctx.person(key)
                    if staff and staff.email:
                        ctx.queue(
                            key=f"{case.number}/review/{key}/email",
                            channel="email",
                            recipient=staff.email,
                            recipient_name=staff.name,
                            template="absence_review.txt",
                            context={"name": name, "words": words, "note": NOT_DISMISSAL},
                            case=case,
                            audience="staff",
                        )
    return opened
