"""Sending notifications: e-mail over SMTP and webhooks (HTTP POST of JSON).

SMTP settings live in the ``[smtp]`` table of the config file (``negah.toml``)::

    [smtp]
    host = "smtp.example.com"
    port = 587
    user = "negah@example.com"
    password_env = "NEGAH_SMTP_PASSWORD"   # the password is read from this variable
    from = "negah@example.com"
    starttls = true
    timeout = 10
    # cafile = "/etc/negah/smtp-ca.pem"     # trust this CA (a private or self-signed server)
    # verify = false                        # do not check the server's certificate (not advised)

The password never sits in the file: ``password_env`` names the environment variable
that holds it (read through :mod:`negah.config`). With ``starttls`` or ``ssl`` the
server's certificate and host name are checked against the system's CAs (or ``cafile``)
before the password is sent. Both senders raise
:class:`DeliveryError` on any failure (refused, timed out, rejected), so a caller can
retry or keep the message for later.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from negah.errors import NegahError


class DeliveryError(NegahError):
    """A notification could not be delivered."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password_env: str | None = None
    sender: str = "negah@localhost"
    starttls: bool = False
    ssl: bool = False
    timeout: float = 10.0
    cafile: str | None = None
    verify: bool = True

    @classmethod
    def from_mapping(cls, m: dict[str, Any] | None) -> "SmtpSettings":
        m = dict(m or {})
        unknown = set(m) - {
            "host",
            "port",
            "user",
            "password_env",
            "from",
            "sender",
            "starttls",
            "ssl",
            "timeout",
            "cafile",
            "verify",
        }
        if unknown:
            from negah.errors import InputError

            raise InputError(
                f"[smtp]: unknown setting(s) {', '.join(sorted(unknown))}; allowed: host, port, user, "
                "password_env, from, starttls, ssl, timeout, cafile, verify"
            )
        return cls(
            host=str(m.get("host", "localhost")),
            port=int(m.get("port", 25)),
            user=m.get("user") or None,
            password_env=m.get("password_env") or None,
            sender=str(m.get("from", m.get("sender", "negah@localhost"))),
            starttls=bool(m.get("starttls", False)),
            ssl=bool(m.get("ssl", False)),
            timeout=float(m.get("timeout", 10.0)),
            cafile=m.get("cafile") or None,
            verify=bool(m.get("verify", True)),
        )

    def tls_context(self):
        """The TLS context for STARTTLS / SMTPS: certificate and host name checked unless ``verify`` is off."""
        import ssl

        if not self.verify:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        return ssl.create_default_context(cafile=self.cafile)


def _message(s: SmtpSettings, rcpts: list[str], subject: str, body: str, html: str | None):
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = s.sender
    msg["To"] = ", ".join(rcpts)
    msg["Subject"] = subject
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def _connect(s: SmtpSettings):
    """An open SMTP session (STARTTLS and login done); the caller closes it."""
    import smtplib

    from negah import config

    smtp = (
        smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=s.tls_context())
        if s.ssl
        else smtplib.SMTP(s.host, s.port, timeout=s.timeout)
    )
    try:
        if s.starttls:
            smtp.starttls(context=s.tls_context())
        if s.user:
            pw = config.env(s.password_env) if s.password_env else None
            if pw is None:
                raise DeliveryError(
                    f"e-mail: user {s.user!r} set but environment variable "
                    f"{s.password_env or '(password_env)'} holds no password"
                )
            smtp.login(s.user, pw)
    except BaseException:
        smtp.close()
        raise
    return smtp


def send_email(
    settings: SmtpSettings | dict[str, Any],
    to: str | Iterable[str],
    subject: str,
    body: str,
    *,
    html: str | None = None,
) -> None:
    """Send one e-mail; raise :class:`DeliveryError` when it cannot be delivered."""
    import smtplib
    import socket

    s = settings if isinstance(settings, SmtpSettings) else SmtpSettings.from_mapping(settings)
    rcpts = [to] if isinstance(to, str) else list(to)
    if not rcpts:
        raise DeliveryError("e-mail: no recipient")
    msg = _message(s, rcpts, subject, body, html)
    try:
        with _connect(s) as smtp:
            refused = smtp.send_message(msg, to_addrs=rcpts)
            if refused:
                raise DeliveryError(f"e-mail to {', '.join(refused)} refused by {s.host}:{s.port}")
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError, socket.timeout) as e:
        raise DeliveryError(f"e-mail via {s.host}:{s.port} failed: {type(e).__name__}: {e}") from None


def send_emails(
    settings: SmtpSettings | dict[str, Any],
    messages: Iterable[tuple[str, str, str]],
    on_result: Callable[[int, str, str | None], None] | None = None,
    stop: Callable[[], bool] | None = None,
    max_connect_failures: int = 3,
) -> tuple[int, int]:
    """Send many e-mails ``(to, subject, body)`` over one SMTP session.

    ``on_result(index, to, error or None)`` is called for each message as it is sent or
    fails, and ``stop()`` is asked between messages. A message the server refuses fails
    alone and the others go on; a broken connection is opened again; after
    ``max_connect_failures`` failed connections in a row the server is taken as
    unreachable and the remaining messages fail at once with that reason. Returns
    (sent, failed)."""
    import smtplib

    s = settings if isinstance(settings, SmtpSettings) else SmtpSettings.from_mapping(settings)
    sent = failed = 0
    smtp = None
    down: str | None = None  # the reason the server is taken as unreachable
    broken = 0  # failed connections in a row
    try:
        for i, (to, subject, body) in enumerate(messages):
            if stop is not None and stop():
                break
            err: str | None = down
            while down is None:
                err = None
                try:
                    if smtp is None:
                        smtp = _connect(s)
                    refused = smtp.send_message(_message(s, [to], subject, body, None), to_addrs=[to])
                    broken = 0
                    if refused:
                        err = f"e-mail to {to} refused by {s.host}:{s.port}"
                    break
                except DeliveryError as e:  # no password: nothing else will work either
                    err = down = str(e)
                except smtplib.SMTPRecipientsRefused as e:
                    broken = 0
                    code, reason = e.recipients.get(to, (None, b""))
                    err = f"e-mail to {to} refused by {s.host}:{s.port}: {code} {reason.decode('utf-8', 'replace')}"
                    break
                except smtplib.SMTPAuthenticationError as e:  # a wrong password: so would every retry be
                    err = down = f"e-mail via {s.host}:{s.port} failed: login refused: {e.smtp_code} (not sent)"
                except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError) as e:
                    if isinstance(e, smtplib.SMTPException) and not isinstance(
                        e, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)
                    ):
                        # the server answered: this message failed (or, while connecting, all would)
                        err = f"e-mail to {to} via {s.host}:{s.port} failed: {type(e).__name__}: {e}"
                        if smtp is None:
                            err = down = f"e-mail via {s.host}:{s.port} failed: {type(e).__name__}: {e} (not sent)"
                        break
                    if smtp is not None:
                        try:
                            smtp.close()
                        except Exception:  # noqa: BLE001 - already broken
                            pass
                        smtp = None
                    broken += 1
                    err = f"e-mail via {s.host}:{s.port} failed: {type(e).__name__}: {e}"
                    if broken >= max_connect_failures:
                        down = f"{err} ({broken} connections failed in a row; not sent)"

            if err is None:
                sent += 1
            else:
                failed += 1
            if on_result is not None:
                on_result(i, to, err)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except Exception:  # noqa: BLE001 - closing
                smtp.close()
    return sent, failed


def post_webhook(
    url: str, payload: dict[str, Any], *, timeout: float = 10.0, headers: dict[str, str] | None = None
) -> int:
    """POST ``payload`` as JSON to ``url``; return the HTTP status or raise :class:`DeliveryError`."""
    import socket
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"webhook url {url!r}: expected http:// or https://")
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    h = {"Content-Type": "application/json", "User-Agent": "negah"}
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"webhook {url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError, socket.timeout) as e:
        reason = getattr(e, "reason", e)
        raise DeliveryError(f"webhook {url}: {type(reason).__name__}: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"webhook {url}: HTTP {status}")
    return status


def with_retries(
    fn: Callable[[], Any], *, retries: int = 2, backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep
) -> tuple[bool, str | None, int]:
    """Call ``fn`` up to ``1 + retries`` times with exponential backoff.

    Returns (delivered, last error message, attempts)."""
    err = None
    for attempt in range(retries + 1):
        try:
            fn()
            return True, None, attempt + 1
        except DeliveryError as e:
            err = str(e)
            if attempt < retries:
                sleep(backoff * (2**attempt))
    return False, err, retries + 1
