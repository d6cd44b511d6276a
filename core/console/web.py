"""The staff console's pages: a Starlette app, server-rendered with kefu's template environment.

Every page needs a signed-in person (a server-side session, see :mod:`kefu.console.auth`);
every state change is a POST that carries the session's CSRF token and comes from the
console's own Origin; nothing changes on a GET. Case pages and actions are guarded by
the person's scope (:mod:`kefu.console.access`), 403 outside it, and every action is a
case event with the person's staff key, made through the same core functions the
``kefu cases`` commands call, in the daemon's main thread (:mod:`kefu.console.writer`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from kefu.console import auth
from kefu.console.access import Viewer, viewer_of
from kefu.console.extension import ConsoleAction, ConsolePage
from kefu.console.render import (
    CHANNELS,
    CLOCKS,
    OUTBOX_STATES,
    badge,
    deadline_label,
    local_time,
    mask_name,
    skipped_days,
    state_label,
)
from kefu.console.writer import Busy, DirectWriter, Writer
from kefu.db.models import Attachment, Case, ConsoleSession, Customer, Deadline, Letter, OutboxMessage
from kefu.kinds import DONE_STATES, OPEN_STATES
from kefu.sla.lifecycle import LABELS
from kefu.templating import template_env

if TYPE_CHECKING:
    from kefu.app import App

log = logging.getLogger("kefu.console")
STATIC = Path(__file__).parent / "static"
COOKIE = "kefu_session"
PRE_COOKIE = "kefu_pre"  # the sign-in form's CSRF (double submit): there is no session yet
ActionFn = Callable[[Any, Case, Mapping[str, str], str], str]


class Refused(Exception):
    """A refused request: status and the message the page shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _static_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class Console:
    """The console of one App: its routes, templates, actions and writer."""

    def __init__(self, app: App, writer: Writer | None = None) -> None:
        from kefu.sla.deadlines import calendar_of

        self.app = app
        self.cfg = app.settings.console
        self.writer: Writer = writer or DirectWriter(app)
        self.env = template_env(app)
        self.version = _static_version()
        self.calendar = calendar_of(app)
        self.tz = app.settings.tz
        found = app.calls.console_actions(app.context)
        self.plugin_actions: list[tuple[str, ConsoleAction]] = [
            (p, a) for p, a in found if isinstance(a, ConsoleAction)
        ]
        self.plugin_tables: list[tuple[str, ConsolePage]] = [(p, a) for p, a in found if isinstance(a, ConsolePage)]
        from kefu.console import case_actions

        self.core_actions = case_actions.CORE_ACTIONS

    # -- plumbing ------------------------------------------------------------------

    def now(self) -> datetime:
        """The daemon's clock."""
        return self.app.clock.now()

    def static(self, name: str) -> str:
        """The versioned URL of a static file (cached for a year: a new version is a new URL)."""
        return f"/static/{self.version}/{name}"

    def fmt(self, value: datetime | None) -> str:
        """A time as people here read it: ``12月2日 周三 14:05`` (with a holiday's name)."""
        return local_time(value, self.tz, self.calendar)

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Render ``console/<template>`` with what every page needs."""
        viewer: Viewer | None = getattr(request.state, "viewer", None)
        row: ConsoleSession | None = getattr(request.state, "session_row", None)
        base = {
            "viewer": viewer,
            "csrf": row.csrf if row is not None else "",
            "static": self.static,
            "fmt": self.fmt,
            "now": self.now(),
            "now_iso": self.now().isoformat(),
            "site": self.app.settings.kefu.site_name,
            "queues": _queues(),
            "plugins_with_pages": self._plugin_pages(viewer) if viewer else [],
            "flash_ok": request.query_params.get("ok", ""),
            "flash_err": request.query_params.get("err", ""),
            "path": request.url.path,
        }
        html = self.env.get_template(f"console/{template}").render({**base, **context})
        return HTMLResponse(html, status_code=status)

    def _plugin_pages(self, viewer: Viewer) -> list[str]:
        pages = {p for p, a in self.plugin_actions if a.on == "plugin"} | {p for p, _t in self.plugin_tables}
        return sorted(p for p in pages if viewer.may_use(p))

    def signed_in(self, request: Request) -> tuple[Viewer, ConsoleSession] | None:
        """The person behind the request's cookie, or None (the session touched: it was used now)."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        with self.app.sessions.begin() as session:
            row = auth.session_for(session, self.cfg, token, self.now())
            if row is None:
                return None
            session.expunge(row)
        viewer = viewer_of(self.app.settings.staff, row.staff_key, self.app.host.enabled)
        if viewer is None:
            return None
        request.state.viewer, request.state.session_row = viewer, row
        return viewer, row

    def expected_origin(self, request: Request) -> str:
        """The console's own origin: ``[console] public_origin``, else what the request was sent to."""
        if self.cfg.public_origin:
            return self.cfg.public_origin.rstrip("/")
        return f"{request.url.scheme}://{request.headers.get('host', '')}"

    def check_origin(self, request: Request) -> None:
        """Refuse a state change that does not come from the console's own pages."""
        expected = self.expected_origin(request)
        origin = request.headers.get("origin")
        if origin is not None:
            if origin != expected:
                raise Refused(403, "请求来源不符（Origin），已拒绝")
            return
        referer = request.headers.get("referer", "")
        if not (referer == expected or referer.startswith(expected + "/")):
            raise Refused(403, "请求来源不明（无 Origin / Referer），已拒绝")

    async def post_guard(self, request: Request) -> tuple[Viewer, ConsoleSession, FormData]:
        """Signed in, own Origin, the session's CSRF token: else :class:`Refused` (403)."""
        self.check_origin(request)
        who = await run_in_threadpool(self.signed_in, request)
        if who is None:
            raise Refused(401, "请先登录")
        form = await request.form(max_files=10, max_fields=2000)
        token = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
        if not token or not hmac.compare_digest(token, who[1].csrf):
            raise Refused(403, "表单已失效（CSRF 校验失败），请刷新页面后重试")
        return who[0], who[1], form

    def case_in_scope(self, session: Session, viewer: Viewer, number: str) -> Case:
        """The case ``number`` if ``viewer`` may see it: 404 unknown, 403 out of scope."""
        case = session.scalars(select(Case).where(Case.number == number)).one_or_none()
        if case is None:
            raise Refused(404, f"没有工单 {number}")
        if not viewer.may_see(case):
            raise Refused(403, f"无权查看工单 {number}（不在您的负责范围内）")
        return case

    def write(self, fn: Callable[[Session], Any]) -> Any:
        """Run a change through the writer (the daemon's main thread)."""
        return self.writer.run(fn)

    def routes(self) -> list[Route]:
        """Every route of the console."""
        return [
            Route("/", self.home),
            Route("/static/{version}/{name:path}", self.static_file),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/logout-all", self.logout_all, methods=["POST"]),
            Route("/account", self.account),
            Route("/account/sessions/{sid}/revoke", self.revoke_session, methods=["POST"]),
            Route("/queue/{name}", self.queue),
            Route("/counts", self.tab_counts),
            Route("/views", self.save_view, methods=["POST"]),
            Route("/views/{vid:int}/delete", self.delete_view, methods=["POST"]),
            Route("/case/{number}", self.case_page),
            Route("/case/{number}/file/{aid:int}", self.attachment),
            Route("/case/{number}/letter/{lid:int}.pdf", self.letter_pdf),
            Route("/case/{number}/do/{action}", self.case_action, methods=["POST"]),
            Route("/case/{number}/plugin/{plugin}/{action}", self.case_plugin_action, methods=["POST"]),
            Route("/plugin/{plugin}", self.plugin_page),
            Route("/plugin/{plugin}/{action}", self.plugin_action, methods=["POST"]),
            Route("/search", self.search),
            Route("/bulk", self.bulk, methods=["POST"]),
            Route("/inbound/triage", self.triage, methods=["POST"]),
            Route("/dashboard", self.dashboard),
            Route("/dashboard/chart/{metric}.svg", self.chart),
        ]

    # -- sign-in -------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        """The start page: the person's 我的 queue, or sign-in."""
        if self.signed_in(request) is None:
            return RedirectResponse("/login", 303)
        return RedirectResponse("/queue/mine", 303)

    def static_file(self, request: Request) -> Response:
        """A vendored file (htmx, the console's script and style), cached for a year when versioned."""
        name = request.path_params["name"]
        path = (STATIC / name).resolve()
        if STATIC.resolve() not in path.parents or not path.is_file():
            return PlainTextResponse("not found", 404)
        types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
        response = Response(path.read_bytes(), media_type=types.get(path.suffix, "application/octet-stream"))
        if request.path_params["version"] == self.version:
            response.headers["cache-control"] = "public, max-age=31536000, immutable"
        else:  # an old page asking for an old version: serve the current file, not cached
            response.headers["cache-control"] = "no-cache"
        return response

    def login_form(self, request: Request, error: str = "", status: int = 200) -> Response:
        """The sign-in page (its own CSRF token in a cookie and the form)."""
        token = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        response = self.page(
            request, "login.html", status, pre=token, error=error, next=request.query_params.get("next", "")
        )
        self._cookie(response, PRE_COOKIE, token, max_age=3600)
        return response

    async def login(self, request: Request) -> Response:
        """Check the password (with backoff); open a session and set its cookie."""
        try:
            self.check_origin(request)
        except Refused as exc:
            return self.login_form(request, exc.message, 403)
        form = await request.form()
        pre = request.cookies.get(PRE_COOKIE, "")
        if not pre or not hmac.compare_digest(str(form.get("csrf", "")), pre):
            return self.login_form(request, "表单已失效，请重新登录", 403)
        key = str(form.get("username", "")).strip()
        password = str(form.get("password", ""))
        known = viewer_of(self.app.settings.staff, key, self.app.host.enabled) is not None

        def attempt() -> auth.NewSession | str:
            # The failure counter must be written even though the sign-in is refused.
            with self.app.sessions.begin() as session:
                try:
                    return auth.sign_in(
                        session,
                        self.cfg,
                        key,
                        password,
                        self.now(),
                        known=known,
                        user_agent=request.headers.get("user-agent"),
                        address=request.client.host if request.client else None,
                    )
                except auth.SignInRefused as exc:
                    return str(exc)

        result = await run_in_threadpool(attempt)
        if isinstance(result, str):
            log.info("console sign-in refused for %r", key)
            return self.login_form(request, result, 401)
        log.info("console sign-in: %s (session %s)", key, result.row.id)
        target = str(form.get("next", "")) or "/queue/mine"
        if not target.startswith("/") or target.startswith("//"):
            target = "/queue/mine"
        response = RedirectResponse(target, 303)
        self._cookie(response, COOKIE, result.token, max_age=int(self.cfg.absolute_timeout.total_seconds()))
        response.delete_cookie(PRE_COOKIE, path="/")
        return response

    def _cookie(self, response: Response, name: str, value: str, *, max_age: int) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=self.cfg.secure
        )

    async def logout(self, request: Request) -> Response:
        """End this session."""
        _viewer, row, _form = await self.post_guard(request)

        def end() -> None:
            with self.app.sessions.begin() as session:
                live = session.get(ConsoleSession, row.token_hash)
                if live is not None:
                    auth.sign_out(session, live, self.now())

        await run_in_threadpool(end)
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def logout_all(self, request: Request) -> Response:
        """Sign this person out of every browser ("sign out everywhere")."""
        viewer, _row, _form = await self.post_guard(request)

        def end() -> int:
            with self.app.sessions.begin() as session:
                return auth.revoke_all(session, viewer.key, self.now())

        count = await run_in_threadpool(end)
        log.info("console: %s signed out everywhere (%d sessions)", viewer.key, count)
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def account(self, request: Request) -> Response:
        """The person's own sessions, each revocable, and "sign out everywhere"."""
        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        with self.app.sessions() as session:
            rows = auth.list_sessions(session, self.cfg, self.now(), who[0].key)
        return self.page(request, "account.html", sessions=rows, current=who[1].id)

    async def revoke_session(self, request: Request) -> Response:
        """Revoke one of the person's own sessions."""
        viewer, _row, _form = await self.post_guard(request)
        sid = request.path_params["sid"]

        def end() -> bool:
            with self.app.sessions.begin() as session:
                target = session.scalars(select(ConsoleSession).where(ConsoleSession.id == sid)).one_or_none()
                if target is None or target.staff_key != viewer.key:
                    return False
                auth.sign_out(session, target, self.now())
                return True

        ok = await run_in_threadpool(end)
        return _back("/account", ok="已注销该会话" if ok else "", err="" if ok else "没有这个会话")

    # -- queues ----------------------------------------------------------------------

    def queue(self, request: Request) -> Response:
        """One queue, filtered and paged, sorted by due time."""
        from kefu.console.queues import FILTERS, QUEUES, queue_page
        from kefu.db.models import SavedView

        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        viewer = who[0]
        name = request.path_params["name"]
        if name not in QUEUES:
            return self.page(request, "error.html", 404, message=f"没有队列 {name}")
        filters = {k: request.query_params.get(k, "") for k in FILTERS}
        page_no = _int(request.query_params.get("page"), 1)
        now = self.now()
        with self.app.sessions() as session:
            page = queue_page(session, viewer, self.cfg, name, now, filters=filters, page=page_no)
            views = list(
                session.scalars(select(SavedView).where(SavedView.staff_key == viewer.key).order_by(SavedView.name))
            )
            rows = [self._row(viewer, r, now) for r in page.rows] if page.kind == "cases" else []
            items = page.rows if page.kind == "items" else []
            messages = [self._message_row(viewer, m, c) for m, c in page.rows] if page.kind == "messages" else []
        query = {k: v for k, v in filters.items() if v}
        return self.page(
            request,
            "queue.html",
            queue=name,
            title=QUEUES[name],
            page=page,
            rows=rows,
            items=items,
            messages=messages,
            filters=filters,
            views=views,
            plugins=[p for p in self.app.host.enabled if viewer.may_use(p)],
            kinds=sorted(k for k in self.app.kinds if viewer.may_use(k.split(".", 1)[0])),
            states=LABELS,
            people=self.app.settings.staff.people,
            prev_url=f"?{urlencode({**query, 'page': page.page - 1})}" if page.page > 1 else "",
            next_url=f"?{urlencode({**query, 'page': page.page + 1})}" if page.has_next else "",
            reply_templates=_reply_templates(),
        )

    def tab_counts(self, request: Request) -> Response:
        """The tabs' numbers, fetched by the page after it is shown (htmx), so the queue comes first."""
        from kefu.console.queues import counts

        who = self.signed_in(request)
        if who is None:
            return PlainTextResponse("", 401)
        with self.app.sessions() as session:
            found = counts(session, who[0], self.cfg, self.now())
        html = self.env.get_template("console/_counts.html").render(counts=found, queues=_queues())
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    def _row(self, viewer: Viewer, row: Any, now: datetime) -> dict[str, Any]:
        case, customer, due = row.case, row.customer, row.due
        text, css = badge(due.due_at if due else None, now)
        kind = self.app.kinds.get(case.kind)
        return {
            "number": case.number,
            "kind": kind.title if kind else case.kind,
            "title": case.title,
            "state": state_label(case.state),
            "unit": case.unit or "",
            "owner": self._person(case.owner),
            "customer": self._customer(viewer, customer),
            "due_iso": due.due_at.isoformat() if due else "",
            "due_text": self.fmt(due.due_at) if due else "",
            "due_name": deadline_label(due.name) if due else "",
            "badge": text,
            "badge_class": css,
            "level": self._next_level(case, due),
            "urgent": case.urgent,
        }

    def _next_level(self, case: Case, due: Deadline | None) -> str:
        """Who the escalation reaches next (the chain's next level), for a row."""
        if due is None:
            return ""
        kind = self.app.kinds.get(case.kind)
        policy = kind.policy(due.name) if kind else None
        if policy is None or not policy.chain:
            return ""
        index = min(due.level, len(policy.chain) - 1)
        who = policy.chain[index].who
        person = self.app.settings.staff.people.get(who)
        # A person by name; a role, rota or the plugin's own target (chain:station) as written.
        return f"第{index + 1}级 {person.name if person else who.removeprefix('chain:').removeprefix('rota:')}"

    def _message_row(self, viewer: Viewer, message: OutboxMessage, case: Case) -> dict[str, Any]:
        return {
            "number": case.number,
            "channel": CHANNELS.get(message.channel, message.channel),
            "to": viewer.customer_text(message.recipient) if message.audience == "customer" else message.recipient,
            "state": OUTBOX_STATES.get(message.state, message.state),
            "error": (message.last_error or "")[:200],
            "at": self.fmt(message.created_at),
        }

    def _person(self, key: str | None) -> str:
        if not key:
            return ""
        person = self.app.settings.staff.people.get(key)
        return person.name if person else key

    def _customer(self, viewer: Viewer, customer: Customer | None) -> dict[str, str]:
        if customer is None:
            return {"name": "", "phone": "", "email": "", "address": ""}
        if viewer.see_customer:
            return {
                "name": customer.name or "",
                "phone": customer.phone or "",
                "email": customer.email or "",
                "address": customer.address or "",
            }
        return {
            "name": mask_name(customer.name),
            "phone": viewer.customer_text(customer.phone),
            "email": viewer.customer_text(customer.email),
            "address": customer.address or "",
        }

    async def save_view(self, request: Request) -> Response:
        """Save the current queue and filters under a name of the person's own."""
        from kefu.console.queues import FILTERS, QUEUES
        from kefu.db.models import SavedView

        try:
            viewer, _row, form = await self.post_guard(request)
        except Refused as exc:
            return self._refused(request, exc)
        queue = str(form.get("queue", ""))
        name = str(form.get("name", "")).strip()[:100]
        if queue not in QUEUES or not name:
            return _back(f"/queue/{queue if queue in QUEUES else 'mine'}", err="请填写视图名称")
        filters = {k: str(form.get(k, "")) for k in FILTERS if form.get(k)}

        def save() -> None:
            with self.app.sessions.begin() as session:
                old = session.scalars(
                    select(SavedView).where(SavedView.staff_key == viewer.key, SavedView.name == name)
                ).one_or_none()
                if old is not None:
                    old.queue, old.filters = queue, filters
                else:
                    session.add(
                        SavedView(staff_key=viewer.key, name=name, queue=queue, filters=filters, created_at=self.now())
                    )

        await run_in_threadpool(save)
        return _back(f"/queue/{queue}?{urlencode(filters)}", ok=f"已保存视图「{name}」")

    async def delete_view(self, request: Request) -> Response:
        """Delete one of the person's saved views."""
        from kefu.db.models import SavedView

        try:
            viewer, _row, _form = await self.post_guard(request)
        except Refused as exc:
            return self._refused(request, exc)
        vid = request.path_params["vid"]

        def delete() -> None:
            with self.app.sessions.begin() as session:
                view = session.get(SavedView, vid)
                if view is not None and view.staff_key == viewer.key:
                    session.delete(view)

        await run_in_threadpool(delete)
        return _back("/queue/mine", ok="已删除视图")

    # -- the case page ---------------------------------------------------------------

    def case_page(self, request: Request) -> Response:
        """One case: its timeline, deadlines, and every action the person may take."""
        from kefu.console.case_actions import available
        from kefu.console.timeline import timeline

        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        viewer = who[0]
        now = self.now()
        with self.app.sessions() as session:
            try:
                case = self.case_in_scope(session, viewer, request.path_params["number"])
            except Refused as exc:
                return self._refused(request, exc)
            customer = session.get(Customer, case.customer_id) if case.customer_id else None
            kind = self.app.kinds.get(case.kind)
            deadlines = []
            for d in session.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id)):
                policy = kind.policy(d.name) if kind else None
                text, css = badge(d.due_at, now) if d.state == "open" else ("", "none")
                deadlines.append(
                    {
                        "name": deadline_label(d.name),
                        "round": d.round,
                        "state": {"open": "进行中", "met": "已达成", "cancelled": "已取消"}.get(d.state, d.state),
                        "open": d.state == "open",
                        "due": self.fmt(d.due_at),
                        "due_iso": d.due_at.isoformat(),
                        "met": self.fmt(d.met_at) if d.met_at else "",
                        "late": d.met_at is not None and d.met_at > d.due_at,
                        "clock": CLOCKS.get(str(policy.clock), str(policy.clock)) if policy else "",
                        "skipped": skipped_days(self.calendar, d.started_at, d.due_at, self.tz)
                        if policy is not None and str(policy.clock) != "24x7"
                        else [],
                        "badge": text,
                        "badge_class": css,
                        "level": d.level,
                    }
                )
            letters = list(session.scalars(select(Letter).where(Letter.case_id == case.id).order_by(Letter.id)))
            info = {
                "number": case.number,
                "title": case.title,
                "kind": kind.title if kind else case.kind,
                "kind_name": case.kind,
                "plugin": case.plugin,
                "state": case.state,
                "state_label": state_label(case.state),
                "step": case.step or "",
                "steps": list(kind.steps) if kind else [],
                "owner": self._person(case.owner),
                "owner_key": case.owner or "",
                "unit": case.unit or "",
                "urgent": case.urgent,
                "opened": self.fmt(case.opened_at),
                "satisfaction": case.satisfaction,
                "open": case.state in OPEN_STATES,
                "done": case.state in DONE_STATES,
                "paused": case.state == "waiting_customer",
            }
            entries = timeline(session, case, viewer, self)
            actions = available(case, viewer)
            plugin_actions = [
                a
                for p, a in self.plugin_actions
                if p == case.plugin
                and a.on == "case"
                and viewer.may_use(p)
                and (not a.kinds or _own(case.kind) in a.kinds or case.kind in a.kinds)
                and (not a.roles or viewer.role in a.roles)
                and (not a.states or case.state in a.states)
            ]
            people = {
                k: p.name
                for k, p in self.app.settings.staff.people.items()
                if (acc := self.app.settings.staff.access.get(k)) is None
                or not acc.plugins
                or case.plugin in acc.plugins
            }
            return self.page(
                request,
                "case.html",
                case=info,
                customer=self._customer(viewer, customer),
                deadlines=deadlines,
                entries=entries,
                actions=actions,
                plugin_actions=plugin_actions,
                people=people,
                letters=[
                    {
                        "id": letter.id,
                        "title": letter.title or letter.template,
                        "to": letter.recipient_name,
                        "created": self.fmt(letter.created_at),
                        "ems": letter.ems_number or "",
                        "posted": self.fmt(letter.posted_at) if letter.posted_at else "",
                        "to_post": letter.to_post,
                    }
                    for letter in letters
                ],
                reply_templates=_reply_templates(),
                once=secrets.token_urlsafe(12),
            )

    def attachment(self, request: Request) -> Response:
        """A file of the case (a photo shown inline; anything else downloaded, never run)."""
        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        with self.app.sessions() as session:
            try:
                case = self.case_in_scope(session, who[0], request.path_params["number"])
            except Refused as exc:
                return self._refused(request, exc)
            att = session.get(Attachment, request.path_params["aid"])
            if att is None or att.case_id != case.id:
                return self.page(request, "error.html", 404, message="没有这个附件")
            inline = att.content_type in ("image/jpeg", "image/png", "image/gif", "image/webp")
            disposition = "inline" if inline else "attachment"
            response = Response(att.content, media_type=att.content_type if inline else "application/octet-stream")
            response.headers["content-disposition"] = f"{disposition}; filename*=UTF-8''{quote(att.filename)}"
            response.headers["content-security-policy"] = "sandbox"
            return response

    def letter_pdf(self, request: Request) -> Response:
        """A letter of the case as its PDF (the print preview)."""
        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        with self.app.sessions() as session:
            try:
                case = self.case_in_scope(session, who[0], request.path_params["number"])
            except Refused as exc:
                return self._refused(request, exc)
            letter = session.get(Letter, request.path_params["lid"])
            if letter is None or letter.case_id != case.id:
                return self.page(request, "error.html", 404, message="没有这封信件")
            response = Response(letter.pdf, media_type="application/pdf")
            response.headers["content-disposition"] = f'inline; filename="{case.number}-{letter.id}.pdf"'
            return response

    async def case_action(self, request: Request) -> Response:
        """One of the core's actions on a case (assign, step, pause, reply, note, resolve …)."""
        from kefu.console.case_actions import run_core_action

        number = request.path_params["number"]
        try:
            viewer, _row, form = await self.post_guard(request)
        except Refused as exc:
            return self._refused(request, exc)
        action = request.path_params["action"]
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        upload = form.get("file")
        file = (
            (upload.filename or "", upload.content_type or "", await upload.read())
            if isinstance(upload, UploadFile) and upload.filename
            else None
        )

        def act(session: Session) -> str:
            case = self.case_in_scope(session, viewer, number)
            return run_core_action(self.app, session, case, viewer, action, values, file)

        return await self._run_case(request, number, act)

    async def case_plugin_action(self, request: Request) -> Response:
        """A plugin's action on a case (``kefu_console_actions``, ``on="case"``)."""
        number = request.path_params["number"]
        try:
            viewer, _row, form = await self.post_guard(request)
        except Refused as exc:
            return self._refused(request, exc)
        plugin, name = request.path_params["plugin"], request.path_params["action"]
        action = self._plugin_action(plugin, name, "case")
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}

        def act(session: Session) -> str:
            case = self.case_in_scope(session, viewer, number)
            if action is None or case.plugin != plugin or not _allowed(action, viewer, case):
                raise Refused(403, "无权执行此操作")
            _check_fields(action, values)
            _check_confirmed(action, values)
            return action.run(self.app.context(plugin, session), case, values, viewer.key)

        return await self._run_case(request, number, act)

    async def _run_case(self, request: Request, number: str, act: Callable[[Session], str]) -> Response:
        try:
            message = await run_in_threadpool(self.write, act)
        except Refused as exc:
            return self._refused(request, exc)
        except Busy as exc:
            return _back(f"/case/{number}", err=str(exc))
        except ValueError as exc:  # CaseError, IllegalTransition, a plugin's refusal: nothing written
            return _back(f"/case/{number}", err=str(exc))
        return _back(f"/case/{number}", ok=message)

    def _plugin_action(self, plugin: str, name: str, on: str) -> ConsoleAction | None:
        return next((a for p, a in self.plugin_actions if p == plugin and a.name == name and a.on == on), None)

    def plugin_page(self, request: Request) -> Response:
        """A plugin's own console page: its actions that need no case (heating's outage start)."""
        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        viewer = who[0]
        plugin = request.path_params["plugin"]
        if plugin not in self.app.host.enabled or not viewer.may_use(plugin):
            return self.page(request, "error.html", 403, message="无权查看此页面")
        actions = [
            a
            for p, a in self.plugin_actions
            if p == plugin and a.on == "plugin" and (not a.roles or viewer.role in a.roles)
        ]
        tables = [
            self._table(viewer, plugin, t, request.query_params)
            for p, t in self.plugin_tables
            if p == plugin and (not t.roles or viewer.role in t.roles)
        ]
        return self.page(request, "plugin.html", plugin=plugin, actions=actions, tables=tables)

    def _table(self, viewer: Viewer, plugin: str, table: ConsolePage, params: Mapping[str, str]) -> dict[str, Any]:
        """A plugin's table, its rows of cases (or units) outside the person's scope left out."""
        query = (params.get(table.search.name) or "").strip()[:200] if table.search else ""
        out: dict[str, Any] = {"title": table.title, "search": table.search, "query": query}
        if table.search is not None and not query:
            return {**out, "columns": [], "rows": [], "case_column": None}  # a lookup lists nothing unasked
        with self.app.sessions() as session:
            ctx = self.app.context(plugin, session)
            args = ([viewer.key] if table.personal else []) + ([query] if table.search else [])
            columns, rows = table.rows(ctx, *args)
            col = table.case_column
            if col is not None and rows:
                numbers = [str(r[col]) for r in rows]
                visible = set(session.scalars(select(Case.number).where(Case.number.in_(numbers), viewer.scope())))
                rows = [r for r in rows if str(r[col]) in visible]
            if table.unit_column is not None:
                rows = [r for r in rows if viewer.may_act_in(str(r[table.unit_column]))]
        return {**out, "columns": columns, "rows": rows, "case_column": col}

    async def plugin_action(self, request: Request) -> Response:
        """Run a plugin's page action."""
        plugin, name = request.path_params["plugin"], request.path_params["action"]
        try:
            viewer, _row, form = await self.post_guard(request)
        except Refused as exc:
            return self._refused(request, exc)
        action = self._plugin_action(plugin, name, "plugin")
        if action is None or not viewer.may_use(plugin) or (action.roles and viewer.role not in action.roles):
            return self._refused(request, Refused(403, "无权执行此操作"))
        values = {k: v for k, v in form.multi_items() if isinstance(v, str)}

        def act(session: Session) -> str:
            _check_fields(action, values)
            ctx = self.app.context(plugin, session)
            if action.unit_of is not None and not viewer.may_act_in(action.unit_of(ctx, values)):
                raise Refused(403, "无权执行此操作（不在您的负责范围内）")
            _check_confirmed(action, values)  # after the scope: another shop's person learns nothing more
            return action.run(ctx, None, values, viewer.key)

        try:
            message = await run_in_threadpool(self.write, act)
        except Refused as exc:
            return self._refused(request, exc)
        except (ValueError, Busy) as exc:
            return _back(f"/plugin/{plugin}", err=str(exc))
        return _back(f"/plugin/{plugin}", ok=message)

    # -- search, bulk, dashboard ---------------------------------------------------------

    def search(self, request: Request) -> Response:
        """Cases by number, phone (any format), name, address or text."""
        from kefu.console.search import search_cases

        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        viewer = who[0]
        q = request.query_params.get("q", "").strip()
        now = self.now()
        with self.app.sessions() as session:
            found = search_cases(session, viewer, q, self.app.settings.kefu.default_country) if q else []
            rows = [self._row(viewer, r, now) for r in found]
        if len(rows) == 1 and request.query_params.get("go") == "1":
            return RedirectResponse(f"/case/{rows[0]['number']}", 303)
        return self.page(request, "search.html", q=q, rows=rows)

    async def bulk(self, request: Request) -> Response:
        """Assign, change state or reply from a template for many cases, after a confirmation with the counts."""
        from kefu.console.case_actions import bulk_plan, run_bulk

        try:
            viewer, _row, form = await self.post_guard(request)
        except Refused as exc:
            return self._refused(request, exc)
        numbers = [str(n) for n in form.getlist("numbers") if n][:500]
        op = str(form.get("op", ""))
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        back = str(form.get("back", "/queue/mine"))
        if not back.startswith("/queue/"):
            back = "/queue/mine"
        if viewer.role == "duty":
            return _back(back, err="值班人员不能批量操作")
        if not numbers or op not in ("assign", "resolve", "close", "reply"):
            return _back(back, err="请选择工单和批量操作")
        if form.get("confirm") != "1":
            # The confirmation form carries one token: posted twice, its replies are queued once.
            values["once"] = secrets.token_urlsafe(12)

            def plan() -> dict[str, Any]:
                with self.app.sessions() as session:
                    return bulk_plan(session, viewer, numbers, op, values)

            summary = await run_in_threadpool(plan)
            return self.page(request, "bulk.html", summary=summary, numbers=numbers, op=op, values=values, back=back)

        def act(session: Session) -> dict[str, Any]:
            return run_bulk(self.app, session, viewer, numbers, op, values)

        try:
            result = await run_in_threadpool(self.write, act)
        except Busy as exc:
            return _back(back, err=str(exc))
        text = f"已处理 {result['done']} 件，排队消息 {result['queued']} 条"
        if result["refused"]:
            text += f"；{len(result['refused'])} 件未处理：" + "；".join(result["refused"][:5])
        return _back(back, ok=text)

    async def triage(self, request: Request) -> Response:
        """Process quarantined or unclaimed items again, or set them aside with a reason (the 隔离 queue)."""
        from kefu.intake.triage import TriageError, dismiss_items, retry_items

        back = "/queue/quarantine"
        try:
            viewer, _row, form = await self.post_guard(request)
        except Refused as exc:
            return self._refused(request, exc)
        if viewer.units and not viewer.is_head:  # as the queue: triage is for those who see every unit
            return self._refused(request, Refused(403, "只有负责人和管理员处理隔离的来件"))
        try:
            ids = [int(str(i)) for i in form.getlist("ids") if str(i).strip()][:500]
        except ValueError:
            return _back(back, err="来件编号无效")
        op, reason = str(form.get("op", "")), str(form.get("reason", "")).strip()
        if not ids or op not in ("retry", "dismiss"):
            return _back(back, err="请选择来件和处理方式")

        def act(session: Session) -> int:
            now = self.now()
            if op == "retry":
                return len(retry_items(session, ids, actor=viewer.key, now=now))
            return len(dismiss_items(session, ids, actor=viewer.key, reason=reason, now=now))

        try:
            done = await run_in_threadpool(self.write, act)
        except (TriageError, Busy) as exc:
            return _back(back, err=str(exc))
        if op == "retry":
            return _back(back, ok=f"{done} 件来件已重新排队，下一轮收件时处理")
        return _back(back, ok=f"{done} 件来件已搁置")

    def dashboard(self, request: Request) -> Response:
        """The KPIs ``kefu report`` prints, per plugin, unit and person, by month; health for heads."""
        from kefu.console.dashboard import dashboard_data

        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        data = dashboard_data(self, who[0], request.query_params.get("period"))
        return self.page(request, "dashboard.html", **data)

    def chart(self, request: Request) -> Response:
        """One KPI as a server-side SVG bar chart (the dashboard's image)."""
        from kefu.console.dashboard import chart_svg, dashboard_data

        who = self.signed_in(request)
        if who is None:
            return _to_login(request)
        data = dashboard_data(self, who[0], request.query_params.get("period"))
        svg = chart_svg(data["rows"], request.path_params["metric"], request.query_params.get("by", "unit"))
        return Response(svg, media_type="image/svg+xml", headers={"cache-control": "private, max-age=60"})

    # -- errors ------------------------------------------------------------------------------

    def _refused(self, request: Request, exc: Refused) -> Response:
        if exc.status == 401:
            return _to_login(request)
        return self.page(request, "error.html", exc.status, message=exc.message)


def _own(kind: str) -> str:
    return kind.split(".", 1)[1] if "." in kind else kind


def _allowed(action: ConsoleAction, viewer: Viewer, case: Case) -> bool:
    return (
        viewer.may_see(case)
        and (not action.kinds or _own(case.kind) in action.kinds or case.kind in action.kinds)
        and (not action.roles or viewer.role in action.roles)
        and (not action.states or case.state in action.states)
    )


def _check_confirmed(action: ConsoleAction, values: Mapping[str, str]) -> None:
    """Refuse (ValueError, before ``run``: nothing written) a post of a ``confirm`` action without its tick."""
    # The tick is ``required`` in the form, but a post need not come from the form (an old page, a script).
    if action.confirm and values.get("confirmed") != "1":
        raise ValueError(f"请先勾选确认：{action.confirm}")


def _check_fields(action: ConsoleAction, values: Mapping[str, str]) -> None:
    """Refuse (ValueError, before ``run``: nothing written) a form missing a required field or a choice."""
    missing = [f.label for f in action.fields if f.required and not (values.get(f.name) or "").strip()]
    if missing:
        raise ValueError("请填写：" + "、".join(missing))
    for f in action.fields:
        if f.type == "select" and values.get(f.name) and values[f.name] not in {v for v, _ in f.choices}:
            raise ValueError(f"{f.label}：无效的选项")


def _queues() -> dict[str, str]:
    from kefu.console.queues import QUEUES

    return QUEUES


def _reply_templates() -> dict[str, str]:
    from kefu.outbound.replies import REPLY_TEMPLATES

    return REPLY_TEMPLATES


def _int(text: str | None, default: int) -> int:
    try:
        return max(int(text or default), 1)
    except ValueError:
        return default


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': target})}", 303)


def _back(path: str, *, ok: str = "", err: str = "") -> Response:
    sep = "&" if "?" in path else "?"
    params = {k: v for k, v in (("ok", ok[:300]), ("err", err[:500])) if v}
    return RedirectResponse(path + (sep + urlencode(params) if params else ""), 303)


async def _security_headers(app: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Not framed, no sniffing, only our own scripts (the page works on a closed network)."""

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            names = {k.lower() for k, _ in headers}
            extra = {
                b"x-frame-options": b"DENY",
                b"x-content-type-options": b"nosniff",
                b"referrer-policy": b"same-origin",
            }
            if b"content-security-policy" not in names:
                extra[b"content-security-policy"] = (
                    b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                    b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
                )
            if b"cache-control" not in names:
                extra[b"cache-control"] = b"no-store"
            headers += [(k, v) for k, v in extra.items() if k not in names]
            message = {**message, "headers": headers}
        await send(message)

    await app(scope, receive, sending)


class _Headers:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await _security_headers(self.app, scope, receive, send)


def build_console(app: App, writer: Writer | None = None) -> Any:
    """The console's ASGI app for ``app`` (changes through ``writer``; at once without one)."""
    console = Console(app, writer)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return console._refused(request, exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return PlainTextResponse(str(exc.detail), exc.status_code)

    starlette = Starlette(
        routes=console.routes(),
        exception_handlers={Refused: refused, HTTPException: http_error},
    )
    starlette.state.console = console
    return _Headers(starlette)
