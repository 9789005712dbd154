"""Alerts end to end: a local HTTP server for webhooks, aiosmtpd for e-mail, including
servers that are down or slow — nothing is lost (outbox), and the next run delivers."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from negah.actions.alerts import check, load_config
from negah.actions.notify import DeliveryError, SmtpSettings, post_webhook, send_email


class Hook:
    def __init__(self, delay: float = 0.0, status: int = 200):
        self.received: list[dict] = []
        self.delay, self.status = delay, status
        hook = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(hook.delay)
                hook.received.append(json.loads(body))
                self.send_response(hook.status)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.fixture()
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    class Keep(Sink):
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
            return "250 OK"

    h = Keep()
    c = Controller(h, hostname="127.0.0.1", port=free_port())
    c.start()
    yield c, h
    c.stop()


def store_with_churn(tmp_path: Path) -> Path:
    """Two complete years: 10 customers in 2022, 5 of them back in 2023 → churn 0.5 in 2023."""
    d = tmp_path / "data"
    d.mkdir()
    rows = [(f"c{i}", "2022-03-01", 10) for i in range(10)] + [(f"c{i}", "2023-05-01", 10) for i in range(5)]
    rows += [("c0", "2023-12-31", 1)]
    pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"]).to_csv(d / "orders.csv", index=False)
    return d


def write_config(tmp_path: Path, *, url: str, smtp_port: int, timeout: float = 1.0) -> Path:
    p = tmp_path / "negah.toml"
    p.write_text(f"""
[alerts]
retries = 1
backoff = 0.05
timeout = {timeout}

[[alerts.rule]]
name = "yearly churn above 10%"
metric = "churn_rate"
period = "year"
above = 0.10
notify = ["print", "ops", "team"]

[alerts.channel.ops]
type = "webhook"
url = "{url}"

[alerts.channel.team]
type = "email"
to = ["retention@example.com"]

[smtp]
host = "127.0.0.1"
port = {smtp_port}
from = "negah@example.com"
""")
    return p


def test_webhook_and_email_delivered_once(tmp_path, smtp_server):
    ctl, handler = smtp_server
    hook = Hook()
    try:
        data = store_with_churn(tmp_path)
        cfg = write_config(tmp_path, url=hook.url, smtp_port=ctl.port)
        printed: list[str] = []
        res = check(str(data), cfg, echo=printed.append)
        assert res.ok
        fired = [a for a in res.alerts if a["fired"]]
        assert len(fired) == 1 and fired[0]["period"] == "2023" and fired[0]["value"] == 0.5
        assert len(hook.received) == 1 and hook.received[0]["metric"] == "churn_rate"
        assert len(handler.messages) == 1 and handler.messages[0][0] == ["retention@example.com"]
        assert "churn_rate" in printed[0]
        # cron: the same alert is not sent again
        res2 = check(str(data), cfg, echo=printed.append)
        assert res2.ok and len(hook.received) == 1 and len(handler.messages) == 1
    finally:
        hook.close()


def test_down_and_slow_servers_lose_nothing(tmp_path, smtp_server):
    ctl, handler = smtp_server
    data = store_with_churn(tmp_path)
    slow = Hook(delay=2.0)
    down_smtp = free_port()
    try:
        cfg = write_config(tmp_path, url=slow.url, smtp_port=down_smtp, timeout=0.5)
        res = check(str(data), cfg, echo=lambda m: None)
        assert not res.ok
        pend = {p["channel"]: p for p in res.pending}
        assert set(pend) == {"ops", "team"}
        assert pend["ops"]["attempts"] == 2 and "timed out" in pend["ops"]["error"].lower()
        assert "127.0.0.1" in pend["team"]["error"]
        outbox = [json.loads(x) for x in (tmp_path / "negah-outbox.jsonl").read_text().splitlines()]
        assert {o["channel"] for o in outbox} == {"ops", "team"}
    finally:
        slow.close()
    # servers back: the next run delivers the outbox and empties it
    good = Hook()
    try:
        cfg = write_config(tmp_path, url=good.url, smtp_port=ctl.port)
        res = check(str(data), cfg, echo=lambda m: None)
        assert res.ok, res.pending
        assert len(good.received) == 1 and len(handler.messages) == 1
        assert (tmp_path / "negah-outbox.jsonl").read_text() == ""
    finally:
        good.close()


def test_cli_check_exit_code(tmp_path):
    from typer.testing import CliRunner

    from negah.cli.main import app

    data = store_with_churn(tmp_path)
    cfg = write_config(tmp_path, url=f"http://127.0.0.1:{free_port()}/x", smtp_port=free_port(), timeout=0.3)
    r = CliRunner().invoke(app, ["check", "--data", str(data), "--config", str(cfg), "--format", "json"])
    assert r.exit_code == 3, r.output
    d = json.loads(r.stdout)
    assert d["ok"] is False and len(d["pending"]) == 2


def test_senders_raise_delivery_error(tmp_path):
    with pytest.raises(DeliveryError, match="webhook"):
        post_webhook(f"http://127.0.0.1:{free_port()}/", {"a": 1}, timeout=0.5)
    with pytest.raises(DeliveryError, match="e-mail via"):
        send_email(SmtpSettings(port=free_port(), host="127.0.0.1", timeout=0.5), "a@b.c", "s", "b")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[alerts.rule]]\nname = "x"\nmetric = "churn_rate"\nabove = 0.1\nnotify = ["nowhere"]\n')
    from negah.errors import InputError

    with pytest.raises(InputError, match="notify 'nowhere'"):
        load_config(bad)


# ------------------------------------------------------------------------------------
# SMTP with STARTTLS and AUTH: a local aiosmtpd server with a self-signed certificate
# ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    import shutil
    import subprocess

    openssl = shutil.which("openssl")
    assert openssl, "the openssl command is needed to make the test certificate (Debian: apt install openssl)"
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture()
def secure_smtp(tls_cert):
    """A server that requires STARTTLS before anything else and AUTH (user negah, password s3cret)."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = tls_cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))

    class Keep:
        def __init__(self):
            self.messages, self.logins = [], []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace"), session.auth_data))
            return "250 OK"

    handler = Keep()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"negah" and auth_data.password == b"s3cret"
        handler.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    c = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=ctx,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
    )
    c.start()
    yield c, handler
    c.stop()


def test_email_over_starttls_with_auth(secure_smtp, tls_cert, monkeypatch):
    ctl, handler = secure_smtp
    cert, _ = tls_cert
    monkeypatch.setenv("NEGAH_TEST_SMTP_PASSWORD", "s3cret")
    base = dict(
        host="127.0.0.1",
        port=ctl.port,
        user="negah",
        password_env="NEGAH_TEST_SMTP_PASSWORD",
        sender="negah@example.com",
        timeout=5.0,
    )
    send_email(SmtpSettings(starttls=True, cafile=str(cert), **base), "ops@example.com", "churn up", "yearly churn 0.5")
    assert len(handler.messages) == 1
    rcpt, content, auth = handler.messages[0]
    assert rcpt == ["ops@example.com"] and "yearly churn 0.5" in content and "Subject: churn up" in content
    assert handler.logins[-1][1] is True
    # the server's certificate is checked: a self-signed one is refused without its CA file
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        send_email(SmtpSettings(starttls=True, **base), "ops@example.com", "s", "b")
    # without STARTTLS the server refuses to go on (and the password is never sent in clear)
    with pytest.raises(DeliveryError, match="STARTTLS|AUTH"):
        send_email(SmtpSettings(starttls=False, **base), "ops@example.com", "s", "b")
    assert len(handler.messages) == 1 and len(handler.logins) == 1


def test_wrong_password_is_a_failure_and_nothing_is_lost(tmp_path, secure_smtp, tls_cert, monkeypatch):
    ctl, handler = secure_smtp
    cert, _ = tls_cert
    data = store_with_churn(tmp_path)
    cfg = tmp_path / "negah.toml"
    cfg.write_text(f"""
[alerts]
retries = 1
backoff = 0.05

[[alerts.rule]]
name = "yearly churn above 10%"
metric = "churn_rate"
period = "year"
above = 0.10
notify = ["team"]

[alerts.channel.team]
type = "email"
to = ["retention@example.com"]

[smtp]
host = "127.0.0.1"
port = {ctl.port}
from = "negah@example.com"
user = "negah"
password_env = "NEGAH_TEST_SMTP_PASSWORD"
starttls = true
cafile = "{cert.name}"
timeout = 5
""")
    (tmp_path / cert.name).write_bytes(cert.read_bytes())  # a relative cafile is next to the config
    monkeypatch.setenv("NEGAH_TEST_SMTP_PASSWORD", "wrong")
    res = check(str(data), cfg, echo=lambda m: None)
    assert not res.ok and len(res.pending) == 1
    p = res.pending[0]
    assert p["channel"] == "team" and p["attempts"] == 2 and "535" in p["error"]
    outbox = [json.loads(x) for x in (tmp_path / "negah-outbox.jsonl").read_text().splitlines()]
    assert [o["channel"] for o in outbox] == ["team"] and handler.messages == []
    # each of the two attempts tried PLAIN, then LOGIN (smtplib's order), and was refused
    assert handler.logins == [("PLAIN", False), ("LOGIN", False)] * 2
    # the right password: the next run delivers the alert from the outbox, once
    monkeypatch.setenv("NEGAH_TEST_SMTP_PASSWORD", "s3cret")
    res = check(str(data), cfg, echo=lambda m: None)
    assert res.ok, res.pending
    assert len(handler.messages) == 1 and "churn_rate" in handler.messages[0][1]
    assert (tmp_path / "negah-outbox.jsonl").read_text() == ""
    assert check(str(data), cfg, echo=lambda m: None).ok and len(handler.messages) == 1


def test_bulk_email_with_a_wrong_password_logs_in_once(secure_smtp, tls_cert, monkeypatch):
    """send_emails: a refused login fails every message with the reason after ONE attempt
    (retrying it per recipient could lock the account)."""
    from negah.actions.notify import send_emails

    ctl, handler = secure_smtp
    cert, _ = tls_cert
    monkeypatch.setenv("NEGAH_TEST_SMTP_PASSWORD", "wrong")
    settings = SmtpSettings(
        host="127.0.0.1",
        port=ctl.port,
        user="negah",
        password_env="NEGAH_TEST_SMTP_PASSWORD",
        sender="negah@example.com",
        timeout=5.0,
        starttls=True,
        cafile=str(cert),
    )
    results: list = []
    sent, failed = send_emails(
        settings,
        [(f"c{i}@example.com", "s", "b") for i in range(5)],
        on_result=lambda i, to, err: results.append((to, err)),
    )
    assert (sent, failed) == (0, 5) and len(results) == 5
    assert all(err and "login refused: 535" in err for _, err in results)
    assert len(handler.logins) <= 2 and handler.messages == []  # one connection (smtplib tries PLAIN, then LOGIN)


@pytest.mark.parametrize("spike_month, fires", [("2023-12", True), ("2023-06", False)])
def test_complaint_spike_alert_speaks_of_the_latest_complete_period(tmp_path, spike_month, fires):
    """A spike fires only in the latest complete period: one of months ago is old news.
    The CSV output is one row per rule result on stdout, the deliveries' echo on stderr."""
    from typer.testing import CliRunner

    from negah.cli.main import app

    d = tmp_path / "d"
    d.mkdir()
    rows = ["customer_id,order_date,amount"] + [f"c{i},2023-{m:02d}-15,10" for i in range(20) for m in range(1, 13)]
    rows.append("c0,2023-12-31,10")
    (d / "orders.csv").write_text("\n".join(rows) + "\n")
    comp = ["customer_id,complaint_date,reason,product_id"]
    for m in range(1, 13):
        n = 30 if f"2023-{m:02d}" == spike_month else 1
        comp += [f"c{k % 20},2023-{m:02d}-{1 + k % 27:02d},damaged,P1" for k in range(n)]
    (d / "complaints.csv").write_text("\n".join(comp) + "\n")
    cfg = tmp_path / "negah.toml"
    cfg.write_text(
        '[alerts]\n\n[[alerts.rule]]\nname = "spike"\nkind = "complaint_spike"\nperiod = "month"\nnotify = ["print"]\n'
    )
    r = CliRunner().invoke(app, ["check", "--data", str(d), "--config", str(cfg), "--format", "csv"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0].startswith("rule,kind,") and len(lines) == 2
    row = dict(zip(lines[0].split(","), lines[1].split(",")))
    assert row["period"] == "2023-12" and row["fired"] == ("true" if fires else "false")
    assert ("complaints 'damaged' about product P1 in 2023-12" in r.stderr) == fires
