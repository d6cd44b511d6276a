"""The clock-in device's HTTP API: ``POST /<plugin>/punches`` with ``Authorization: Bearer <token>``.

The body is one punch or ``{"punches": [...]}``; each has ``number`` (工号), ``at`` (ISO
time; without a zone it is the site's), optionally ``direction`` (in/out), ``device``
and ``result`` (the device's own code, kept as it came). A punch already stored is
skipped, so a device may resend its buffer after a dropped connection.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kefu.api import Request, Response, Route
from kefu.plugins.hr.config import Ctx
from kefu.plugins.hr.imports import direction_of
from kefu.plugins.hr.models import Punch
from kefu.plugins.hr.register import by_number, register


def routes(ctx: Ctx) -> list[Route]:
    """The punch route, when ``[hr] token_secret`` names the device's token."""
    if not ctx.config.token_secret:
        return []
    return [Route("POST", f"/{ctx.name}/punches", lambda request: punches(ctx, request))]


def _authorised(ctx: Ctx, request: Request) -> bool:
    name = ctx.config.token_secret
    expected = ctx.secret(name) if name else None
    given = request.header("authorization")
    return bool(expected) and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip(), str(expected))


def _one(ctx: Ctx, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError("each punch is a JSON object")
    number, at = (str(item.get(k) or "").strip() for k in ("number", "at"))
    if not number or not at:
        raise ValueError("number and at are required")
    when = datetime.fromisoformat(at)
    return {
        "number": number,
        "at": when if when.tzinfo else when.replace(tzinfo=ctx.tz),
        "direction": direction_of(str(item.get("direction") or "")),
        "device": str(item.get("device") or "")[:100],
        "vendor_result": str(item.get("result") or "")[:32],
    }


def punches(ctx: Ctx, request: Request) -> Response:
    """Store the posted punches: 401 without the token, 400 naming the bad item, else the counts."""
    if not _authorised(ctx, request):
        ctx.log.warning("%s punch API: request from %s refused (bad or missing bearer token)", ctx.name, request.client)
        return Response.json({"error": "bad or missing bearer token"}, 401)
    try:
        body = request.json()
        items = body.get("punches") if isinstance(body, dict) and "punches" in body else [body]
        if not isinstance(items, list):
            raise ValueError("punches must be a list")
        parsed = [_one(ctx, item) for item in items]
    except (ValueError, UnicodeDecodeError) as exc:
        return Response.json({"error": str(exc)}, 400)
    recorded = 0
    with ctx.transaction() as tx:
        numbers = by_number(register(tx))
        unknown = sorted({p["number"] for p in parsed if p["number"] not in numbers})
        if unknown:
            return Response.json({"error": f"unknown 工号: {', '.join(unknown)}"}, 400)
        session = tx.db()
        for p in parsed:
            exists = session.scalar(
                select(Punch.id).where(
                    Punch.number == p["number"], Punch.at == p["at"], Punch.direction == p["direction"]
                )
            )
            if exists is None:
                session.add(Punch(source="api", recorded_at=tx.now(), name="", slot="", **p))
                session.flush()
                recorded += 1
    return Response.json({"recorded": recorded, "duplicates": len(parsed) - recorded})
