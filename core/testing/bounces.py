"""Test mail: non-RFC-3464 bounces in the shapes Chinese and Exchange mail servers send them.

Made for these tests after the public descriptions of each provider's notices (the wording,
the layout, where the failed address and the original message go); addresses, ids and
times are ours. Every notice also carries ids and header lines that look like addresses
(Message-ID, References, In-Reply-To) which must never be read as the failed recipient.
"""

from __future__ import annotations

import base64
import uuid

from kefu.testing.mail import encoded_word

OUR_FROM = "kefu@heat.example.com"


def _b64(text: str, charset: str) -> str:
    return base64.encodebytes(text.encode(charset)).decode("ascii").replace("\n", "\r\n")


def _original(recipient: str, message_id: str) -> str:
    return (
        f"From: {OUR_FROM}\r\nTo: {recipient}\r\nSubject: {encoded_word('您的来信已受理')}\r\n"
        f"Message-ID: {message_id}\r\nIn-Reply-To: <client-1@mail.example.net>\r\n"
        f"References: <client-1@mail.example.net>\r\nDate: Mon, 02 Nov 2026 09:00:00 +0800\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n您的来信已受理。\r\n"
    )


def qq(recipient: str, message_id: str) -> bytes:
    """QQ Mail / Foxmail: an HTML-only 退信 with the recipient in a table; no original attached."""
    html = (
        "<html><body><p>很抱歉您的邮件没有发送成功，以下是该邮件的相关信息：</p>"
        "<table><tr><td>主　　题：</td><td>您的来信已受理</td></tr>"
        "<tr><td>时　　间：</td><td>2026年11月2日 09:00</td></tr>"
        f"<tr><td>收 件 人：</td><td>{recipient}</td></tr></table>"
        "<p>退信原因：收件人邮箱不存在（550 Mailbox not found）</p>"
        "<p>建议解决方案：请检查收件人地址是否正确。</p></body></html>"
    )
    return (
        f"From: {encoded_word('系统退信')} <MAILER-DAEMON@qq.com>\r\nTo: {OUR_FROM}\r\n"
        f"Subject: {encoded_word('退信：您的来信已受理')}\r\nMessage-ID: <{uuid.uuid4().hex}@qq.com>\r\n"
        "Date: Mon, 02 Nov 2026 09:01:00 +0800\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + _b64(html, "utf-8")
    ).encode("utf-8")


def netease(recipient: str, message_id: str) -> bytes:
    """NetEase 163/126: a GBK 系统退信 naming the original, the original attached as message/rfc822."""
    boundary = f"----=_Part_{uuid.uuid4().hex}"
    text = (
        "抱歉，您的邮件被退回来了……\r\n\r\n原邮件信息：\r\n时　间：2026-11-02 09:00:01\r\n"
        f"主　题：您的来信已受理\r\n收件人：{recipient}\r\n\r\n退信原因：\r\n"
        f"    用户不存在 (550 User not found: {recipient})\r\n"
    )
    return (
        f"From: Postmaster@163.com\r\nTo: {OUR_FROM}\r\nSubject: {encoded_word('系统退信', 'gbk')}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@163.com>\r\nDate: Mon, 02 Nov 2026 09:01:00 +0800\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(text, "gbk")
        + f"\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        + _original(recipient, message_id)
        + f"\r\n--{boundary}--\r\n"
    ).encode("utf-8")


def coremail(recipient: str, message_id: str) -> bytes:
    """Coremail (many company and university servers): 系统退信 with the original's headers quoted in
    the text, a Message-ID line among them."""
    text = (
        f"您发送的邮件无法发送到 {recipient}\r\n错误信息：550 Mailbox not found or access denied\r\n\r\n"
        "-------- 原始邮件头 --------\r\n" + _original(recipient, message_id).split("\r\n\r\n", 1)[0] + "\r\n"
    )
    return (
        f'From: "System Administrator" <postmaster@mail.corp.example.cn>\r\nTo: {OUR_FROM}\r\n'
        f"Subject: {encoded_word('系统退信/Systems bounce')}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail.corp.example.cn>\r\nDate: Mon, 02 Nov 2026 09:01:00 +0800\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(text, "utf-8")
    ).encode("utf-8")


def aliyun(recipient: str, message_id: str) -> bytes:
    """Aliyun (阿里邮箱): 退信通知 with the recipient in a sentence and the original's headers as a part;
    sent from an ordinary-looking address, so only the subject and the notice tell it is one."""
    boundary = f"--=_ali_{uuid.uuid4().hex}"
    text = (
        f"您好，您发送给 {recipient} 的邮件未能成功送达。\r\n退信原因：对方邮箱已满 (552 Quota exceeded)\r\n"
        "请稍后重试或联系收件人。\r\n"
    )
    return (
        f"From: {encoded_word('阿里邮箱')} <noreply-bounce@service.aliyun.com>\r\nTo: {OUR_FROM}\r\n"
        f"Subject: {encoded_word('退信通知')}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@service.aliyun.com>\r\nDate: Mon, 02 Nov 2026 09:01:00 +0800\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(text, "utf-8")
        + f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        + _original(recipient, message_id).split("\r\n\r\n", 1)[0]
        + "\r\n"
        + f"\r\n--{boundary}--\r\n"
    ).encode("utf-8")


def exchange_cn(recipient: str, message_id: str) -> bytes:
    """Exchange / Microsoft 365 in Chinese: 无法送达 from the MicrosoftExchange… address, the original attached."""
    boundary = f"_ndr_{uuid.uuid4().hex}"
    html = (
        f"<html><body><p><b>你的邮件无法送达 {recipient}</b></p><p>找不到此收件人的电子邮件地址。</p>"
        "<p>服务器的诊断信息：</p><p>Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; "
        "Recipient not found by SMTP address lookup'</p></body></html>"
    )
    return (
        "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.cn>\r\n"
        f"To: {OUR_FROM}\r\nSubject: {encoded_word('无法送达: 您的来信已受理')}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@contoso.cn>\r\nX-MS-Exchange-Message-Is-Ndr:\r\n"
        "Date: Mon, 02 Nov 2026 09:01:00 +0800\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + _b64(html, "utf-8")
        + f"\r\n--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        + _original(recipient, message_id)
        + f"\r\n--{boundary}--\r\n"
    ).encode("utf-8")


def exchange_en(recipient: str, message_id: str) -> bytes:
    """An on-premises Exchange NDR in English with the original headers quoted as text."""
    text = (
        f"Delivery has failed to these recipients or groups:\r\n\r\n{recipient}\r\n"
        "The email address you entered couldn't be found.\r\n\r\n"
        "Diagnostic information for administrators:\r\n\r\n"
        "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipientNotFound'\r\n\r\n"
        "Original message headers:\r\n\r\n" + _original(recipient, message_id).split("\r\n\r\n", 1)[0] + "\r\n"
    )
    return (
        f"From: postmaster@contoso.com\r\nTo: {OUR_FROM}\r\nSubject: Undeliverable: Your case\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@contoso.com>\r\nDate: Mon, 02 Nov 2026 09:01:00 +0800\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + text
    ).encode("utf-8")


PROVIDERS = {
    "qq": qq,
    "netease": netease,
    "coremail": coremail,
    "aliyun": aliyun,
    "exchange_cn": exchange_cn,
    "exchange_en": exchange_en,
}
