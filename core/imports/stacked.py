"""Two header rows read as one: a merged group cell over its sub-headers.

DingTalk's 打卡结果 / 月度汇总 / 每日统计 exports and many ERP and HR exports head their
columns with two rows: a group (``上班1``) merged across the columns it covers, and
below it each column's sub-header (``打卡时间``, ``打卡结果``); a column of one level
(``姓名``) is merged down over both rows. A workbook gives the merged-away cells as
empty (openpyxl's read-only reader yields None for them) and a CSV export writes the
group once followed by empty cells, so both read the same way: a group carries on to
the right over empty cells until the next group.
"""

from __future__ import annotations


def combine(groups: list[str], subs: list[str]) -> list[str]:
    """The header cells of two stacked header rows, one per column.

    A sub-header is joined to its group (``上班1`` + ``打卡时间`` → ``上班1打卡时间``); a
    group over an empty sub-header (or over its own name, as some CSV exports fill a
    vertical merge) is its name alone (``姓名``); a sub-header left of any group is
    itself. A column whose group only carries over it and whose sub-header is empty
    has no name: it is the empty tail of a merge, not another column of the group.
    """
    cells: list[str] = []
    group = ""
    for i in range(max(len(groups), len(subs))):
        top = groups[i].strip() if i < len(groups) else ""
        sub = subs[i].strip() if i < len(subs) else ""
        if top:
            group = top
            cells.append(top if sub in ("", top) else top + sub)
        else:
            cells.append(group + sub if sub else "")
    return cells
