"""``kefu run``, ``check-config``, ``db``, ``plugins`` and ``status``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import click
from sqlalchemy import func, select

from kefu.cli.appctx import emit, fail, json_option, obtain_app
from kefu.config import ConfigError

if TYPE_CHECKING:
    from kefu.daemon import Daemon


@click.command()
@click.option("--once", is_flag=True, help="one full pass (intake, sweep, due jobs, dispatch), then exit")
@click.pass_context
def run(ctx: click.Context, once: bool) -> None:
    """Run the daemon in the foreground (what systemd starts)."""
    from sqlalchemy.exc import OperationalError

    from kefu.daemon import run_once, serve
    from kefu.db.revisions import MigrationError

    config = ctx.obj.get("config")
    try:
        if once:
            click.echo(json.dumps(run_once(config, clock=ctx.obj.get("clock"))))
            return
        raise SystemExit(serve(config, on_ready=_print_banner))
    except (ConfigError, MigrationError) as exc:
        fail(str(exc))
    except OperationalError as exc:
        # Nothing ran yet: say which database and what it answered, not a traceback.
        url = _safe_url(exc)
        fail(f"cannot use the database {url}: {exc.orig}; check [database] url in the config and that the server runs")


def _print_banner(daemon: Daemon) -> None:
    """On a terminal only: where mail goes in, where messages land, the URLs, what to try."""
    import sys

    from kefu.run_banner import banner, should_show

    if daemon.app is None or not should_show(sys.stderr):
        return
    http = daemon.http
    routes = list(getattr(http.router, "routes", {})) if http is not None else []
    base = f"http://{daemon.app.settings.http.host}:{http.port}" if http is not None else None
    click.echo(banner(daemon.app, routes, base), err=True)


@click.command("check-config")
@json_option
@click.pass_context
def check_config(ctx: click.Context, as_json: bool) -> None:
    """Validate the config file and print what would run; exit 1 on any error."""
    from kefu.app import build_app
    from kefu.config_summary import summarize

    try:
        app = build_app(ctx.obj.get("config"))
    except ConfigError as exc:
        fail(str(exc))
        return
    try:
        summary = summarize(app)
    finally:
        app.dispose()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1, default=str))
    else:
        click.echo(f"{app.config_path}: OK")
        for key, value in summary.items():
            if key in ("problems", "warnings"):
                continue  # printed below, one line each
            click.echo(f"  {key}: {value}")
        for warning in summary["warnings"]:
            click.echo(f"warning: {warning}", err=True)
    if summary["problems"]:
        for problem in summary["problems"]:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1)


@click.command()
@json_option
@click.pass_context
def plugins(ctx: click.Context, as_json: bool) -> None:
    """List installed plugins, their versions and whether the config enables them."""
    from kefu.config import config_path, read_toml
    from kefu.plugin_host import discover

    enabled: list[str] = []
    try:
        raw = read_toml(config_path(ctx.obj.get("config")))
        enabled = list(raw.get("plugins", {}).get("enabled", []))
    except ConfigError:
        pass
    rows = [
        {"name": info.name, "version": info.version, "distribution": info.distribution, "enabled": info.name in enabled}
        for info in sorted(discover().values(), key=lambda i: i.name)
    ]
    emit(rows, as_json)


@click.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """What to check first: each loop's and channel's last success, outbox age, open work."""
    from kefu.clock import as_utc
    from kefu.db.models import Case, Deadline, Heartbeat, JobRun, OutboxMessage
    from kefu.health import health_report

    app = obtain_app(ctx)
    report = health_report(app)
    with app.sessions() as s:
        beats = {b.name: b for b in s.scalars(select(Heartbeat))}
        report["loops"] = [
            {
                "loop": name,
                "last_success": as_utc(beats[name].at) if name in beats else None,
                "detail": beats[name].detail if name in beats else "has never run",
            }
            for name in ("intake", "sweep", "cron", "dispatch")
        ]
        report["failed_job_runs"] = s.scalar(select(func.count()).select_from(JobRun).where(JobRun.state == "failed"))
        report["open_cases"] = s.scalar(select(func.count()).select_from(Case).where(Case.state != "closed"))
        report["open_deadlines"] = s.scalar(select(func.count()).select_from(Deadline).where(Deadline.state == "open"))
        report["outbox_waiting"] = s.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state.in_(["queued", "sending"]))
        )
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=1, default=_iso))
        raise SystemExit(0 if report["ok"] else 1)
    tz = app.settings.tz
    now = datetime.fromisoformat(report["now"]).astimezone(tz).isoformat(timespec="seconds")
    click.echo(f"overall: {'OK' if report['ok'] else 'PROBLEM'}  (now {now}, {app.settings.kefu.timezone})")
    for check in report["checks"]:
        click.echo(f"  [{'ok' if check['ok'] else '!!'}] {check['name']}: {check['detail']}")
    for loop in report["loops"]:
        when = loop["last_success"].astimezone(tz).isoformat(timespec="seconds") if loop["last_success"] else "never"
        click.echo(f"  loop {loop['loop']}: last success {when} ({loop['detail']})")
    click.echo(
        f"  open cases: {report['open_cases']}  open deadlines: {report['open_deadlines']}  "
        f"outbox waiting: {report['outbox_waiting']}  failed cron firings: {report['failed_job_runs']}"
    )
    if not report["ok"]:
        raise SystemExit(1)


@click.command()
@click.option("--no-tests", is_flag=True, help="leave out what only the test suite needs")
@json_option
@click.pass_context
def doctor(ctx: click.Context, no_tests: bool, as_json: bool) -> None:
    """List every system dependency, font, directory and peer: OK, missing, and how to fix it.

    Exit 0 when nothing the daemon needs is missing, 1 otherwise. What only the tests
    need (Dovecot, PostgreSQL's test database, chromium) shows as "optional".
    """
    from kefu.app import build_app
    from kefu.doctor import as_rows, diagnose

    app, error = None, None
    try:
        app = build_app(ctx.obj.get("config"))
    except ConfigError as exc:
        error = str(exc)
    try:
        findings = diagnose(app, error, tests=not no_tests)
    finally:
        if app is not None:
            app.dispose()
    problems = [f for f in findings if f.status == "missing"]
    if as_json:
        click.echo(json.dumps(as_rows(findings), ensure_ascii=False, indent=1))
    else:
        area = None
        for f in findings:
            if f.area != area:
                area = f.area
                click.echo(f"{area}:")
            fix = f"  → {f.fix}" if f.fix and f.status != "OK" else ""
            click.echo(f"  [{f.status}] {f.name}: {f.detail}{fix}")
        click.echo(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
            + ("; fix the lines marked [missing]" if problems else "")
        )
    if problems:
        raise SystemExit(1)


def _safe_url(exc: Exception) -> str:
    """The URL of the engine that failed, password hidden (best effort)."""
    from kefu.app import build_app

    try:
        app = build_app(click.get_current_context().obj.get("config"))
    except Exception:
        return "(from the config)"
    try:
        return app.engine.url.render_as_string(hide_password=True)
    finally:
        app.dispose()


def _iso(value: object) -> str:
    # JSON readers want ISO 8601 times ("2026-11-02T01:00:00+00:00"), not str()'s space.
    return value.isoformat() if isinstance(value, datetime) else str(value)


COMMANDS: list[click.Command] = [run, check_config, plugins, status, doctor]
