"""Sending SMS through the official Twilio client (a Messaging Service or a From number).

Twilio answers a request it will never accept with HTTP 400 and a numeric code
(21211 invalid number, 21610 unsubscribed, 21614 not a mobile): permanent. 429
(rate limited) and 5xx, and a lost connection, are transient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twilio.base.exceptions import TwilioException, TwilioRestException

from kefu.phones import DEFAULT_COUNTRY, PhoneError, is_e164, to_e164
from kefu.senders.base import Outgoing, PermanentFailure, SendResult, TransientFailure
from kefu.senders.twilio_client import make_client

if TYPE_CHECKING:
    from kefu.twilio_config import TwilioSection

# Twilio error codes that prove something about the number itself.
INVALID_NUMBER = {21211, 21214, 21217, 21401, 21407, 21408, 21612, 21614, 30005, 30006}
UNSUBSCRIBED = {21610, 30004}


def flag_for(code: int | None) -> str | None:
    """The customer field a Twilio error code proves (``phone_invalid``, ``sms_opt_out``), if any."""
    if code in INVALID_NUMBER:
        return "phone_invalid"
    if code in UNSUBSCRIBED:
        return "sms_opt_out"
    return None


class TwilioSmsSender:
    """Creates one Twilio Message per outbox row; the row records the SID."""

    def __init__(self, section: TwilioSection, country: str = DEFAULT_COUNTRY) -> None:
        if not section.messaging_service_sid and not section.from_number:
            raise ValueError("[twilio] needs messaging_service_sid or from_number to send SMS")
        self.section = section
        self.country = country
        self.client = make_client(section)

    def send(self, message: Outgoing) -> SendResult:
        """Create the message (To in E.164, as Twilio requires); the provider id is its SID (SM…)."""
        try:
            # A number already in E.164 goes as it is: whether it is in service is Twilio's answer.
            to = message.recipient if is_e164(message.recipient) else to_e164(message.recipient, self.country)
        except PhoneError as exc:
            raise PermanentFailure(
                "the recipient is not a possible phone number; Twilio needs E.164", None, flag="phone_invalid"
            ) from exc
        params: dict[str, Any] = {"to": to, "body": message.body}
        if self.section.messaging_service_sid:
            params["messaging_service_sid"] = self.section.messaging_service_sid
        else:
            params["from_"] = self.section.from_number
        if self.section.status_callback:
            params["status_callback"] = self.section.status_callback
        try:
            created = self.client.messages.create(**params)
        except TwilioRestException as exc:
            text = f"Twilio refused the SMS: HTTP {exc.status}, code {exc.code}: {exc.msg}"
            if exc.status == 429 or exc.status >= 500:
                raise TransientFailure(text, exc.code or exc.status) from exc
            raise PermanentFailure(text, exc.code, flag=flag_for(exc.code)) from exc
        except (TwilioException, OSError) as exc:
            raise TransientFailure(f"Twilio unreachable: {type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # requests' ConnectionError/Timeout are not OSError subclasses everywhere
            raise TransientFailure(f"Twilio request failed: {type(exc).__name__}: {exc}") from exc
        return SendResult(provider_id=str(created.sid))

    def close(self) -> None:
        """Nothing to release (the client pools its HTTP connections)."""
