"""Sending email over SMTP: SSL, STARTTLS or plain (loopback), with auth and connection reuse.

Replies are classified the way RFC 5321 means them: 5xx is permanent (not
retried, recorded on the customer and the case), 4xx and lost connections are
transient (retried with backoff).

The MAIL FROM round trip is lent to the caller (``meanwhile``): the dispatcher
records the previous message as sent while the server answers, instead of
before this message starts. Nothing is committed to the server until the end of
DATA, so a crash inside that wait still leaves at most one message sent and not
recorded.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from collections.abc import Callable
from typing import ClassVar

from kefu.clock import Clock
from kefu.secrets import get_secret
from kefu.senders.base import Outgoing, PermanentFailure, SendResult, TransientFailure
from kefu.senders.config import SmtpSender as SmtpConfig
from kefu.senders.mime import email_bytes

_SPECIALS = frozenset(' \t\r\n<>()[]\\,;:"')  # what quoteaddr would have to quote
_QUEUE_ID = re.compile(r"(?:queued as|id=|queue id:?)\s*<?([A-Za-z0-9._@-]+)>?", re.IGNORECASE)


class SmtpEmailSender:
    """One SMTP connection, opened on first use and reused for up to ``max_messages_per_connection``."""

    lends_wait: ClassVar[bool] = True  # send() takes ``meanwhile`` (see base.Sender)

    def __init__(self, cfg: SmtpConfig, from_name: str, clock: Clock) -> None:
        self.cfg, self.from_name, self.clock = cfg, from_name, clock
        self.conn: smtplib.SMTP | None = None
        self.sent_on_conn = 0
        self.mail_from = "FROM:" + smtplib.quoteaddr(cfg.from_address)

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        try:
            conn: smtplib.SMTP
            if cfg.security == "ssl":
                conn = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=self._tls())
            else:
                conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
            conn.ehlo()
            if cfg.security == "starttls":
                conn.starttls(context=self._tls())
                conn.ehlo()
            if cfg.user:
                conn.login(cfg.user, get_secret(cfg.password_secret) if cfg.password_secret else "")
        except smtplib.SMTPAuthenticationError as exc:
            # Wrong credentials will not fix themselves, but the message is not at fault:
            # retry (with backoff) so it goes out once someone corrects the secret.
            raise TransientFailure(
                f"SMTP login to {cfg.host}:{cfg.port} refused: {exc.smtp_code} "
                f"{_text(exc.smtp_error)} (check [outbound.smtp] user and its secret)",
                exc.smtp_code,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TransientFailure(
                f"cannot connect to SMTP {cfg.host}:{cfg.port} ({cfg.security}): {type(exc).__name__}: {exc}"
            ) from exc
        self.sent_on_conn = 0
        return conn

    def _tls(self) -> ssl.SSLContext:
        # Loading the system's CA certificates takes tens of milliseconds: only when TLS is used.
        context = ssl.create_default_context()
        if not self.cfg.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def send(self, message: Outgoing, meanwhile: Callable[[], object] | None = None) -> SendResult:
        """Send one message; the provider id is the server's queue id when it names one.

        ``meanwhile`` is called once while the server answers MAIL FROM (before
        anything of this message can be delivered). When it raises, the message is
        abandoned (the connection is dropped, so nothing of it is delivered) and
        the exception propagates. It is not called when no connection can be made
        or the command cannot be written.
        """
        try:
            payload = email_bytes(
                message, from_address=self.cfg.from_address, from_name=self.from_name, now=self.clock.now()
            )
        except ValueError as exc:
            raise PermanentFailure(str(exc), flag="email_undeliverable") from exc
        if (
            self.conn is None
            or not self.cfg.reuse_connection
            or self.sent_on_conn >= self.cfg.max_messages_per_connection
        ):
            self.close()
            self.conn = self._connect()
        conn = self.conn
        try:
            # The commands smtplib's mail()/rcpt() send, without parsing the constant sender
            # (and a plain address) with email.utils on every message.
            conn.putcmd("mail", self.mail_from)
            if meanwhile is not None:
                try:
                    meanwhile()
                except BaseException:
                    self._drop()  # MAIL FROM's answer is unread: this connection cannot carry on
                    raise
            self._expect(conn.getreply(), "MAIL FROM", rset=conn)
            self._expect(conn.docmd("rcpt", _rcpt_to(message.recipient)), "RCPT TO", rset=conn, recipient=True)
            code, reply = conn.data(payload)
            self._expect((code, reply), "DATA")
        except (TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPDataError, OSError) as exc:
            failed: int | None = getattr(exc, "smtp_code", None)
            self._drop()
            if isinstance(failed, int) and 500 <= failed < 600:
                raise PermanentFailure(
                    f"SMTP DATA refused: {failed} {_text(getattr(exc, 'smtp_error', b''))}", failed
                ) from exc
            raise TransientFailure(f"SMTP connection failed: {type(exc).__name__}: {exc}", failed) from exc
        self.sent_on_conn += 1
        if not self.cfg.reuse_connection:
            self.close()
        found = _QUEUE_ID.search(_text(reply))
        return SendResult(provider_id=found.group(1) if found else (message.message_id or _text(reply)))

    def _expect(
        self, answer: tuple[int, bytes], step: str, *, rset: smtplib.SMTP | None = None, recipient: bool = False
    ) -> None:
        code, reply = answer
        if 200 <= code < 300:
            return
        if rset is not None:
            try:
                rset.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
        text = f"SMTP {step} refused: {code} {_text(reply)}"
        if 500 <= code < 600:
            raise PermanentFailure(text, code, flag="email_undeliverable" if recipient else None)
        raise TransientFailure(text, code)

    def _drop(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def close(self) -> None:
        """QUIT the connection if one is open."""
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()


def _rcpt_to(recipient: str) -> str:
    if recipient.isascii() and _SPECIALS.isdisjoint(recipient):
        return f"TO:<{recipient}>"  # what quoteaddr makes of a plain address
    return "TO:" + smtplib.quoteaddr(recipient)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
