"""The patrol app's HTTP API: ``POST /<plugin>/patrol/checkins`` with ``Authorization: Bearer <token>``.

The body is one check-in or ``{"checkins": [...]}``; each has ``point``, ``person``
(staff key or card number), ``at`` (ISO time; a time without a zone is the site's)
and optionally ``status`` (正常 / 隐患) and ``problem``. Check-ins already recorded
are skipped, so an app may resend its whole buffer after a dropped connection.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from kefu.api import Request, Response, Route
from kefu.plugins.market import patrols
from kefu.plugins.market.config import Ctx


def routes(ctx: Ctx) -> list[Route]:
    """The patrol route, when ``[market.patrols] token_secret`` names the app's token."""
    if not ctx.config.patrols.token_secret:
        return []
    return [Route("POST", f"/{ctx.name}/patrol/checkins", lambda request: checkins(ctx, request))]


def _authorised(ctx: Ctx, request: Request) -> bool:
    name = ctx.config.patrols.token_secret
    expected = ctx.secret(name) if name else None
    given = request.header("authorization")
    return bool(expected) and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), str(expected))


def _one(ctx: Ctx, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("each check-in is a JSON object")
    point, person, at = (str(item.get(k) or "").strip() for k in ("point", "person", "at"))
    if not point or not person or not at:
        raise ValueError("point, person and at are required")
    when = datetime.fromisoformat(at)
    status = str(item.get("status") or "")
    if status not in ("", "正常", "隐患"):
        raise ValueError(f"status {status!r}: write 正常 or 隐患")
    return {
        "point": point.upper(),
        "person": person,
        "at": when if when.tzinfo else when.replace(tzinfo=ctx.tz),
        "status": status,
        "problem": str(item.get("problem") or ""),
    }


def checkins(ctx: Ctx, request: Request) -> Response:
    """Record the posted check-ins: 401 without the token, 400 naming the bad item, else the counts."""
    if not _authorised(ctx, request):
        ctx.log.warning(
            "%s patrol API: request from %s refused (bad or missing bearer token)",
            ctx.name,
            request.client,
        )
        return Response.json({"error": "bad or missing bearer token"}, 401)
    try:
        body = request.json()
        items = body.get("checkins") if isinstance(body, dict) and "checkins" in body else [body]
        if not isinstance(items, list):
            raise ValueError("checkins must be a list")
        parsed = [_one(ctx, item) for item in items]
    except (ValueError, UnicodeDecodeError) as exc:
        return Response.json({"error": str(exc)}, 400)
    recorded = 0
    try:
        with ctx.transaction() as tx:
            for item in parsed:
                recorded += patrols.check_in(tx, source="app", **item) is not None
    except ValueError as exc:
        return Response.json({"error": str(exc)}, 400)
    return Response.json({"recorded": recorded, "duplicates": len(parsed) - recorded})
