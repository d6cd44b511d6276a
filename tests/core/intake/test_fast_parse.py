"""The hand-split fast path of parse_mail gives exactly what the stdlib parser path gives.

Every mail below is parsed twice, once as usual and once with the fast path switched
off, and everything intake reads must match: the parsed fields, the attachments, the
noise verdict, the bounce report, and the compat32 ``Message`` tree itself. Shapes the
fast path must take are checked to take it, so the comparison is not stdlib against stdlib.
"""

from __future__ import annotations

import base64
import os
from email.message import Message
from typing import Any

import pytest

from kefu.intake import mailparse, mimesplit
from kefu.intake.mailparse import ParsedMail, ParseError, parse_mail
from kefu.intake.noise import detect_noise, read_bounce
from kefu.testing.mail import build_bounce, build_mail, encoded_word

GBK_ONLY = "朱镕基喆堃"
PHOTO = bytes(range(256)) * 9 + os.urandom(100)


def _lf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


def _multipart(head: str, parts: list[str], *, boundary: str = "b0und", preamble: str = "",
               epilogue: str = "", kind: str = "multipart/mixed", close: bool = True) -> bytes:
    """A multipart mail written by hand, for shapes build_mail does not make."""
    out = (f"{head}\r\nContent-Type: {kind}; boundary=\"{boundary}\"\r\n\r\n{preamble}")
    for part in parts:
        out += f"--{boundary}\r\n{part}\r\n"
    if close:
        out += f"--{boundary}--\r\n{epilogue}"
    return out.encode("utf-8", "surrogateescape")


HEAD = ("From: =?utf-8?B?5byg5YWI55Sf?= <zhang@example.com>\r\nTo: kefu@example.com\r\n"
        "Subject: =?utf-8?B?5pqW5rCU?=\r\nMessage-ID: <m1@x>\r\nMIME-Version: 1.0")
TEXT_PART = ("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             + base64.b64encode("暖气漏水".encode()).decode())
HTML_PART = ("Content-Type: text/html; charset=gbk\r\nContent-Transfer-Encoding: quoted-printable\r\n"
             "\r\n<p>=C5=AF=C6=F8</p>")
FILE_PART = ("Content-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n"
             "Content-Disposition: attachment; filename=\"a.pdf\"\r\n\r\n"
             + base64.encodebytes(PHOTO[:300]).decode().replace("\n", "\r\n"))

# Shapes the fast path must handle itself.
FAST: dict[str, bytes] = {
    "bench utf-8 base64": build_mail(subject="暖气漏水", text="3号楼2单元暖气漏水，请尽快来人。"),
    "bench gb2312 subject gbk qp": build_mail(subject="暖气不热", subject_charset="gb2312", charset="gbk",
                                              encoding="quoted-printable", text="家里暖气不热，朱镕基路12号。"),
    "bench gb18030 8bit": build_mail(subject="咨询收费", charset="gb18030", encoding="8bit",
                                     text="请问今年采暖费多少钱？"),
    "bench big5 base64": build_mail(subject="暖氣滴漏", sender_name="陳先生", charset="big5", text="暖氣管滴漏"),
    "bench html only": build_mail(subject="投诉", text=None, html="<p>楼道<b>跑水</b>了</p><p>谢谢</p>"),
    "bench auto-reply": build_mail(subject="自动回复", text="我在休假", headers={"Auto-Submitted": "auto-replied"}),
    "bench photo": build_mail(subject="照片", text="漏水照片见附件",
                              attachments=[("漏水.jpg", "image/jpeg", PHOTO)]),
    "gbk-only characters under a gb2312 label": build_mail(subject=f"投诉{GBK_ONLY}", charset="gb2312",
                                                           text=f"{GBK_ONLY}家漏水"),
    "gb2312 subject, gbk body": build_mail(subject="暖气不热", subject_charset="gb2312", charset="gbk",
                                           text=f"住户{GBK_ONLY}反映暖气不热"),
    "word split inside a character": build_mail(subject="楼上卫生间漏水到我家", subject_charset="gb2312",
                                                split_subject=True),
    "raw 8-bit gbk subject": build_mail(subject="暖气不热", subject_charset="gbk", raw_8bit_subject=True),
    "html with style and script": build_mail(
        text=None, html="<html><head><style>p{}</style></head><body><p>暖气&nbsp;漏水</p>"
        "<div>地址：<b>3号楼</b></div><script>x()</script></body></html>"),
    "text and html alternative": build_mail(text="纯文本", html="<p>超文本</p>"),
    "rfc2047 file name": build_mail(attachments=[("漏水照片.jpg", "image/jpeg", PHOTO)]),
    "rfc2231 file name": build_mail(attachments=[("漏水照片.jpg", "image/jpeg", PHOTO)],
                                    filename_style="rfc2231"),
    "two attachments and html": build_mail(text="见附件", html="<p>见附件</p>", attachments=[
        ("a.png", "image/png", PHOTO[:50]), ("合同.pdf", "application/pdf", PHOTO[:700])]),
    "references": build_mail(in_reply_to="<b@x>", references=["<a@x>", "<b@x>", "<c@x>"]),
    "ascii names and list headers": build_mail(
        sender_name="Zhang   San", to="Kefu Desk <kefu@example.com>, other@example.com",
        headers={"Cc": "Li Si <li@example.com>,, wang@example.com", "List-Id": "<heat.example.com>",
                 "Precedence": "bulk"}),
    "x-autoreply": build_mail(headers={"X-Autoreply": "yes"}),
    "list-unsubscribe": build_mail(headers={"List-Unsubscribe": "<mailto:u@x>"}),
    "plain bounce from mailer-daemon": build_mail(sender="MAILER-DAEMON@example.com", sender_name="",
                                                  text="<lost@example.com>: user unknown"),
    "8-bit bytes in an unread header": build_mail(headers={"X-Mailer": "Foxmail"}).replace(
        b"Foxmail", "福克斯".encode("gbk")),
    "mixed-charset encoded words": build_mail(subject="x").replace(
        b"Subject: x", f"Subject: {encoded_word('暖气', 'gbk')} {encoded_word('漏水')}\r\n"
                       f" {encoded_word('了', 'big5')}".encode()),
    "encoded words with text around": build_mail(subject="x").replace(
        b"Subject: x", f"Subject: Re: {encoded_word('暖气')} (2)".encode()),
    "q-encoded subject": build_mail(subject="x").replace(
        b"Subject: x", b"Subject: =?utf-8?Q?=E6=9A=96=E6=B0=94_ok?="),
    "folded headers": build_mail(subject="x").replace(
        b"Subject: x", b"Subject: a long\r\n\tsubject\r\n  folded").replace(
        b"To: kefu@example.com", b"To: a@x.com,\r\n b@x.com"),
    "empty subject and odd spacing": build_mail(subject="x").replace(b"Subject: x", b"Subject:\t \r\n x"),
    "no content-type": build_mail(subject="x").replace(b'Content-Type: text/plain; charset="utf-8"\r\n', b""),
    "invalid content-type": build_mail(content_type=None).replace(b"text/plain;", b"text;"),
    "unknown charset": build_mail(encoding="8bit").replace(b'charset="utf-8"', b"charset=x-weird"),
    "empty charset": build_mail().replace(b'charset="utf-8"', b"charset="),
    "unquoted boundary, spaces around params": _multipart(HEAD, [TEXT_PART, HTML_PART]).replace(
        b'boundary="b0und"', b"  boundary = b0und ; x=1"),
    "preamble and epilogue": _multipart(HEAD, [TEXT_PART, FILE_PART], preamble="This is MIME.\r\n\r\n",
                                        epilogue="bye\r\n"),
    "nested alternative in mixed": _multipart(HEAD, [
        "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
        f"--inner\r\n{TEXT_PART}\r\n--inner\r\n{HTML_PART}\r\n--inner--\r\nin-epilogue\r\n", FILE_PART]),
    "nested with empty inner epilogue": _multipart(HEAD, [
        "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
        f"--inner\r\n{TEXT_PART}\r\n--inner--", FILE_PART]),
    "part without headers": _multipart(HEAD, ["\r\nplain body, default type", FILE_PART]),
    "empty part body": _multipart(HEAD, ["Content-Type: text/plain\r\n\r\n", TEXT_PART]),
    "inline image without name": _multipart(HEAD, [TEXT_PART, "Content-Type: image/png\r\n"
                                                   "Content-Transfer-Encoding: base64\r\n\r\n"
                                                   + base64.b64encode(PHOTO[:40]).decode()]),
    "text attachment by disposition": _multipart(HEAD, [TEXT_PART, "Content-Type: text/plain\r\n"
                                                        "Content-Disposition: attachment\r\n\r\nnotes"]),
    "file name from content-type name": _multipart(HEAD, [TEXT_PART, "Content-Type: image/gif; "
                                                          "name=\"<x>.gif\"\r\n\r\nGIF89a"]),
    "base64 without padding or with junk": _multipart(HEAD, [
        TEXT_PART.replace("5pqW5rCU5ryP5rC0", "5pqW5rCU5ryP5r"),
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC*AwQF",
        "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nA"]),
    "qp soft breaks": _multipart(HEAD, ["Content-Type: text/plain; charset=utf-8\r\n"
                                        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                                        "=E6=9A=96=\r\n=E6=B0=94 line  \r\nsecond =3D x =\r\n"]),
    "uppercase cte and trailing space": build_mail().replace(b"base64", b"BASE64 ", 1),
    "8bit utf-8 in an lf mail": _lf(build_mail(encoding="8bit", text="暖气\n漏水")),
    "lone CR in a body": build_mail(encoding="8bit", text="a\rb"),
    "CR CR LF (build_mail's multi-line qp)": build_mail(encoding="quoted-printable", text="长" * 60 + "\n二"),
    "bare LF and CR inside parts": _multipart(HEAD, ["Content-Type: text/plain\r\n\r\na\nb\rc\n\r--b0und-ish",
                                                     FILE_PART]),
    "boundary look-alikes in the body": _multipart(HEAD, [
        "Content-Type: text/plain\r\n\r\n--b0undary is not it\r\n x--b0und\r\n--b0und x", TEXT_PART]),
    "whitespace after boundaries": _multipart(HEAD, [TEXT_PART]).replace(b"--b0und\r\n", b"--b0und \t\r\n"),
    "closing boundary without newline": _multipart(HEAD, [TEXT_PART]).rstrip(b"\r\n"),
    "sender only": build_mail().replace(b"From:", b"Sender:"),
    "from without address": build_mail().replace(b"<zhang@example.com>", b"").replace(
        "张先生".encode(), b"nobody"),
    "group and comments in to": build_mail(to="undisclosed-recipients:;",
                                           headers={"Cc": "li@example.com (Li Si), \"Wang, W\" <w@x.com>"}),
    "quoted display name": build_mail(sender_name="x").replace(b"From: x", b'From: "Zhang, San"'),
    "dotted name, no space before bracket": build_mail(sender_name="x").replace(
        b"From: x <", b"From: Mr. Zhang<"),
    "bare address": build_mail(sender_name=""),
    "unicode spaces in names and addresses": build_mail(
        sender_name="张\u3000三", headers={"Cc": f"{encoded_word('李四')} <{encoded_word('　li')}@example.com>, "
                                                f"{encoded_word('　wang@example.com')}"}),
    "rfc2231 charset and escaped quotes": build_mail().replace(
        b'charset="utf-8"', b"charset*=us-ascii''utf-8; note=\"a\\\"b\"", 1),
    "quoted semicolon in a parameter": _multipart(HEAD, [TEXT_PART]).replace(
        b'boundary="b0und"', b'x="a;b"; boundary="b0und"'),
    # Headers intake reads that once raised on 8-bit bytes or a word cut short.
    "8-bit auto-submitted": build_mail(headers={"Auto-Submitted": "auto-replied"}).replace(
        b"auto-replied", "auto-replied（休假）".encode("gbk")),
    "8-bit precedence": build_mail(headers={"Precedence": "x"}).replace(b"Precedence: x", "Precedence: 群发".encode("gbk")),
    "8-bit x-autoreply": build_mail(headers={"X-Autoreply": "x"}).replace(b"X-Autoreply: x", "X-Autoreply: 是".encode("gbk")),
    "base64 words cut short": build_mail(subject="x").replace(
        b"Subject: x", b"Subject: =?utf-8?B?5pqW5rCU5?= =?utf-8?B?A?=").replace(
        b"To: kefu@example.com", b"To: =?utf-8?B?5byg5?= <kefu@example.com>"),
    "unknown marked section in html": build_mail(text=None, html="<p>暖气</p><![foo]><p>漏水</p>"),
    "charset label no codec takes": build_mail().replace(b'charset="utf-8"', b"charset*=utf\x00-8''utf-8", 1),
    "unreadable rfc2231 file name": build_mail(attachments=[("a.pdf", "application/pdf", PHOTO[:10])]).replace(
        b'filename="a.pdf"', b"filename*0*=utf-8''%E6; filename*=a.pdf"),
}
FAST.update({f"{name}, LF": _lf(raw) for name, raw in list(FAST.items()) if b"\r\n" in raw})

# Shapes the fast path leaves to the stdlib parser (still compared).
SLOW: dict[str, bytes] = {
    "delivery report": build_bounce(recipient="lost@example.com", original_message_id="<ours@kefu>"),
    "forwarded message/rfc822": _multipart(HEAD, [TEXT_PART, "Content-Type: message/rfc822\r\n\r\n"
                                                  "From: a@b\r\nSubject: inner\r\n\r\ninner body"]),
    "digest": _multipart(HEAD, ["\r\nFrom: a@b\r\n\r\nx"], kind="multipart/digest"),
    "missing closing boundary": _multipart(HEAD, [TEXT_PART, FILE_PART], close=False),
    "repeated boundary": _multipart(HEAD, [TEXT_PART]).replace(b"--b0und\r\n", b"--b0und\r\n--b0und\r\n", 1),
    "no boundary parameter": _multipart(HEAD, [TEXT_PART]).replace(b'; boundary="b0und"', b""),
    "first boundary is the closing one": _multipart(HEAD, []) + b"--b0und\r\nlate\r\n",
    "mixed line ends": build_mail().replace(b"\r\nTo:", b"\nTo:"),
    "bare LF before a boundary": _multipart(HEAD, [TEXT_PART + "END", TEXT_PART]).replace(
        b"END\r\n--b0und", b"END\n--b0und"),
    "bare LF after a boundary": _multipart(HEAD, [TEXT_PART]).replace(b"--b0und\r\n", b"--b0und\n", 1),
    "bare CR in a part's headers": _multipart(HEAD, [TEXT_PART.replace("base64\r\n", "base64\r")]),
    "LF mail with a CR before a boundary": _lf(_multipart(HEAD, [TEXT_PART + "\r", TEXT_PART])),
    "uuencode": build_mail().replace(b"Content-Transfer-Encoding: base64",
                                     b"Content-Transfer-Encoding: x-uuencode"),
    "unix From line": b"From zhang@example.com Mon Nov  2 09:00:00 2026\r\n" + build_mail(),
    "header without a blank line": build_mail().replace(b"MIME-Version: 1.0\r\n",
                                                        b"MIME-Version: 1.0\r\nno colon here\r\n"),
    "space before a header colon": build_mail().replace(b"MIME-Version:", b"MIME-Version :"),
    "first line a continuation": b" folded\r\n" + build_mail(),
    "headers only": b"From: a@example.com\r\nSubject: hi\r\n",
    "multipart with a base64 cte": _multipart(HEAD, [TEXT_PART]).replace(
        b"MIME-Version: 1.0", b"MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64"),
    # compat32 hands 8-bit values out as a Header, whose parameters the Message reads as U+FFFD.
    "8-bit content-disposition": build_mail(attachments=[("a.jpg", "image/jpeg", b"x")]).replace(
        b'filename="a.jpg"', 'filename="照片.jpg"'.encode("gbk")),
    "8-bit content-type name": _multipart(HEAD, [TEXT_PART, 'Content-Type: image/gif; name="图.gif"\r\n\r\nGIF89a'
                                                 .encode("gbk").decode("ascii", "surrogateescape")]),
    "8-bit dsn fields": build_bounce(recipient="lost@example.com", original_message_id="<ours@kefu>").replace(
        b"Action: failed", b"Action: failed \xff").replace(b"user unknown", "用户不存在".encode("gbk")),
}

# Mails that raise, on either path alike: a ParseError, which says why.
ERRORS: dict[str, bytes] = {
    "no sender": b"Subject: hi\r\n\r\nno sender at all\r\n",
    "blank line first": b"\r\nFrom: a@example.com\r\n\r\nbody\r\n",
    "boundary charset label no codec takes": _multipart(HEAD, [TEXT_PART]).replace(
        b'boundary="b0und"', b"boundary*=a\x00b''b0und"),
    "boundary continuations mixed up": _multipart(HEAD, [TEXT_PART]).replace(
        b'boundary="b0und"', b"boundary*0*=us-ascii''b0; boundary*=und"),
}


def _stdlib(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> ParsedMail:
    with monkeypatch.context() as patch:
        patch.setattr(mailparse, "split_mail", lambda raw: None)
        return parse_mail(raw)


def _seen(parsed: ParsedMail) -> dict[str, Any]:
    assert parsed.message is not None
    noise = detect_noise(parsed.message, parsed.sender)
    bounce = read_bounce(parsed.message) if noise is not None and noise.kind == "bounce" else None
    return {
        "sender": parsed.sender, "sender_name": parsed.sender_name, "subject": parsed.subject,
        "text": parsed.text, "message_id": parsed.message_id, "references": parsed.references,
        "to": parsed.to, "attachments": [(a.filename, a.content_type, a.content) for a in parsed.attachments],
        "noise": noise, "bounce": bounce,
    }


def _tree(msg: Message) -> Any:
    """Everything the compat32 parser puts in a Message, nested parts included."""
    payload = vars(msg)["_payload"]  # as stored: get_payload() would decode 8-bit text
    return {
        "headers": list(msg.raw_items()), "unixfrom": msg.get_unixfrom(),
        "default_type": msg.get_default_type(), "preamble": msg.preamble, "epilogue": msg.epilogue,
        "payload": [_tree(p) for p in payload] if isinstance(payload, list) else payload,
    }


@pytest.mark.parametrize("name", sorted(FAST))
def test_fast_path_takes_the_common_shapes(name: str) -> None:
    assert mimesplit.split_mail(FAST[name]) is not None


@pytest.mark.parametrize("name", sorted(SLOW))
def test_unusual_shapes_go_to_the_stdlib_parser(name: str) -> None:
    assert mimesplit.split_mail(SLOW[name]) is None


def _outcome(parse: Any, raw: bytes) -> Any:
    try:
        parsed = parse(raw)
    except Exception as exc:  # a failure must be the same failure
        return type(exc), str(exc)
    assert parsed.message is not None
    return _seen(parsed), _tree(parsed.message)


@pytest.mark.parametrize("name", sorted(FAST) + sorted(SLOW) + sorted(ERRORS))
def test_both_paths_give_the_same(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = {**FAST, **SLOW, **ERRORS}[name]
    fast = _outcome(parse_mail, raw)
    assert fast == _outcome(lambda raw: _stdlib(raw, monkeypatch), raw)
    assert fast[0] is ParseError if name in ERRORS else not isinstance(fast[0], type)


def test_fast_path_reads_what_the_tests_expect() -> None:
    # A spot check of the comparison's baseline, so that both paths cannot be wrong together.
    parsed = parse_mail(FAST["nested alternative in mixed"])
    assert (parsed.sender, parsed.sender_name, parsed.subject) == ("zhang@example.com", "张先生", "暖气")
    assert parsed.text == "暖气漏水"
    assert [(a.filename, a.content) for a in parsed.attachments] == [("a.pdf", PHOTO[:300])]
