"""Sending an alert handler's request (alert/delivery.py's Delivery) to where it goes: HTTP(S), a TCP
address, an SNS topic, an SMTP server, or the log (Lambda has no files: a `.log()` handler's line goes to
CloudWatch)."""

from __future__ import annotations

import http.client
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage

from aws_lambda_powertools import Logger

from chalicelib.adapters import clients
from chalicelib.alert.delivery import Delivery
from chalicelib.alert.dispatch import DeliveryFailed
from chalicelib.kit.gotemplate import go_quote

logger = Logger(child=True)
_TIMEOUT_SECONDS = 10.0
_MAX_ANSWER_BYTES = 64 * 1024


class OutboundSender:
    """alert.dispatch.Sender."""

    def send(self, delivery: Delivery) -> None:
        if delivery.transport == "http":
            self._http(delivery)
        elif delivery.transport == "tcp":
            self._tcp(delivery)
        elif delivery.transport == "sns":
            self._sns(delivery)
        elif delivery.transport == "smtp":
            self._smtp(delivery)
        elif delivery.transport == "log":
            logger.info(
                "alert",
                extra={"handler": delivery.kind, "path": delivery.target, "alert": delivery.body.decode()},
            )
        else:
            raise DeliveryFailed(f"the {delivery.transport} transport is not available here")

    def _http(self, delivery: Delivery) -> None:
        request = urllib.request.Request(
            delivery.target, data=delivery.body, headers=delivery.headers, method=delivery.method
        )
        timeout = delivery.params.get("timeout") or _TIMEOUT_SECONDS
        context = ssl._create_unverified_context() if delivery.params.get("skip-ssl-verification") else None
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
                status, body = answer.status, answer.read(_MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read(_MAX_ANSWER_BYTES)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            # worded as Go's url.Error, which Kapacitor's messages carry: Post "<url>": <reason>
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            action = f"{delivery.method.title()} {go_quote(delivery.target)}"
            raise DeliveryFailed(f"{delivery.kind}: {action}: {reason}") from exc
        problem = delivery.failure(status, body)
        if problem is not None:
            raise DeliveryFailed(f"{delivery.kind}: {problem}")

    def _tcp(self, delivery: Delivery) -> None:
        host, _, port = delivery.target.rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=_TIMEOUT_SECONDS) as connection:
                connection.sendall(delivery.body)
        except (OSError, ValueError) as exc:
            raise DeliveryFailed(f"tcp: {exc}") from exc

    def _sns(self, delivery: Delivery) -> None:
        params = {k: v for k, v in delivery.params.items() if k in ("TopicArn", "Message", "Subject")}
        try:
            clients.client("sns").publish(**params)
        except Exception as exc:  # botocore's errors: the message is retried
            raise DeliveryFailed(f"sns: {exc}") from exc

    def _smtp(self, delivery: Delivery) -> None:
        """One mail, as Kapacitor's mailer (gomail) sends it: TLS from the start on port 465, else STARTTLS
        when the server offers it; login when a username is set."""
        p = delivery.params
        message = EmailMessage()
        message["From"] = p["from"]
        message["To"] = ", ".join(p["to"])
        message["Subject"] = p["subject"]
        message.set_content(delivery.body.decode("utf-8", "replace"), subtype="html", cte="quoted-printable")
        context = ssl._create_unverified_context() if p.get("no-verify") else ssl.create_default_context()
        timeout = p.get("timeout") or _TIMEOUT_SECONDS
        host, port = p["host"], int(p["port"])
        try:
            if port == 465:
                connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            else:
                connection = smtplib.SMTP(host, port, timeout=timeout)
            with connection:
                connection.ehlo()
                if port != 465 and connection.has_extn("starttls"):
                    connection.starttls(context=context)
                    connection.ehlo()
                if p.get("username") and connection.has_extn("auth"):
                    connection.login(p["username"], p.get("password") or "")
                connection.send_message(message, from_addr=p["from"], to_addrs=list(p["to"]))
        except (smtplib.SMTPException, OSError, ValueError, UnicodeError) as exc:
            raise DeliveryFailed(f"smtp: {exc}") from exc
