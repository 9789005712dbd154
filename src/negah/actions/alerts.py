"""Alerts: rules in a TOML config, evaluated on complete periods, delivered by print,
webhook or e-mail, with bounded retries and an outbox for what could not be delivered.

Config (``negah.toml``; ``--config``)::

    [alerts]
    outbox = "negah-outbox.jsonl"     # relative to the config file
    state = "negah-alerts-state.json" # which alerts were already sent (no repeats from cron)
    retries = 2                       # extra attempts per delivery, backoff doubling
    backoff = 0.5                     # seconds before the first retry
    timeout = 10                      # seconds per webhook / SMTP attempt

    [[alerts.rule]]
    name = "yearly churn above 10%"
    metric = "churn_rate"             # any metric name of `negah metrics`
    period = "year"                   # week | month | quarter | year (calendar = "jalali" too)
    above = 0.10                      # fire when value > above
    notify = ["print", "ops"]         # "print" or names of [alerts.channel.*]

    [[alerts.rule]]
    name = "NPS down more than 10 points"
    metric = "nps"
    period = "month"
    drop = 10                         # fire when value(P⁻) − value(P) > drop
    notify = ["team"]

    [[alerts.rule]]
    name = "complaint spike"
    kind = "complaint_spike"          # reason × product spikes (negah reasons), FDR-controlled
    period = "month"
    fdr = 0.05

    [alerts.channel.ops]
    type = "webhook"
    url = "https://hooks.example.com/negah"

    [alerts.channel.team]
    type = "email"
    to = ["retention@example.com"]

    [smtp]                            # see negah.actions.notify
    host = "localhost"

Rule conditions: ``above``, ``below`` (value), ``rise``, ``drop`` (change against the
previous period, in the metric's own unit: points for nps, fractions for rates). Only the
latest *complete* period is evaluated (and its predecessor for changes): a period the
data covers only in part never fires.

Delivery: every (alert, channel) pair is tried ``1 + retries`` times with exponential
backoff; what still fails is appended to the outbox (JSONL) and retried first by the next
run. An alert already delivered to a channel for the same period is not sent again (the
state file), so ``negah check`` is safe to run from cron. :func:`check` reports what
fired, what was delivered and what is pending; the CLI exits 3 when anything is pending.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from negah.actions.notify import SmtpSettings, post_webhook, send_email, with_retries
from negah.errors import InputError

RULE_KEYS = {
    "name",
    "metric",
    "period",
    "calendar",
    "above",
    "below",
    "rise",
    "drop",
    "notify",
    "kind",
    "fdr",
    "baseline_periods",
    "min_baseline",
    "segment",
}


@dataclass
class AlertConfig:
    rules: list[dict[str, Any]]
    channels: dict[str, dict[str, Any]]
    smtp: SmtpSettings
    outbox: Path
    state: Path
    retries: int = 2
    backoff: float = 0.5
    timeout: float = 10.0


def load_config(path: str | Path) -> AlertConfig:
    """Read and validate the alert config at ``path``."""
    import tomllib

    p = Path(path)
    if not p.exists():
        raise InputError(f"config {p}: no such file (write one; see docs/actions.md, 'Alerts')")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"config {p}: not valid TOML: {e}") from None
    return parse_config(data, base=p.parent, source=str(p))


def parse_config(data: dict[str, Any], *, base: Path = Path("."), source: str = "config") -> AlertConfig:
    a = data.get("alerts", {})
    rules = a.get("rule", [])
    if isinstance(rules, dict):
        rules = [rules]
    channels = a.get("channel", {})
    for i, r in enumerate(rules):
        where = f"{source} [[alerts.rule]] #{i + 1} ({r.get('name', 'unnamed')})"
        bad = set(r) - RULE_KEYS
        if bad:
            raise InputError(
                f"{where}: unknown key(s) {', '.join(sorted(bad))}; allowed: {', '.join(sorted(RULE_KEYS))}"
            )
        kind = r.get("kind", "metric")
        if kind not in ("metric", "complaint_spike"):
            raise InputError(f"{where}: kind {kind!r}: expected metric or complaint_spike")
        if kind == "metric":
            if "metric" not in r:
                raise InputError(f'{where}: needs metric = "churn_rate" (or another metric name)')
            if not any(k in r for k in ("above", "below", "rise", "drop")):
                raise InputError(f"{where}: needs a condition: above, below, rise or drop")
        r.setdefault("name", r.get("metric", kind))
        r.setdefault("period", "month")
        r.setdefault("calendar", "gregorian")
        notify = r.setdefault("notify", ["print"])
        if isinstance(notify, str):
            r["notify"] = notify = [notify]
        for n in notify:
            if n != "print" and n not in channels:
                raise InputError(
                    f"{where}: notify {n!r} is not 'print' nor a channel in [alerts.channel.*] "
                    f"({', '.join(sorted(channels)) or 'none defined'})"
                )
    for name, ch in channels.items():
        t = ch.get("type")
        if t == "webhook" and not ch.get("url"):
            raise InputError(f"{source} [alerts.channel.{name}]: a webhook needs url")
        if t == "email" and not ch.get("to"):
            raise InputError(f'{source} [alerts.channel.{name}]: an email channel needs to = ["..."]')
        if t not in ("webhook", "email", "print"):
            raise InputError(f"{source} [alerts.channel.{name}]: type {t!r}: expected webhook, email or print")
    smtp = SmtpSettings.from_mapping(data.get("smtp"))
    if smtp.cafile and not Path(smtp.cafile).is_absolute():  # relative to the config file, like the outbox
        smtp = replace(smtp, cafile=str(base / smtp.cafile))
    return AlertConfig(
        rules=rules,
        channels=channels,
        smtp=smtp,
        outbox=base / a.get("outbox", "negah-outbox.jsonl"),
        state=base / a.get("state", "negah-alerts-state.json"),
        retries=int(a.get("retries", 2)),
        backoff=float(a.get("backoff", 0.5)),
        timeout=float(a.get("timeout", 10.0)),
    )


# ------------------------------------------------------------------------------------
# evaluation
# ------------------------------------------------------------------------------------


def _num(v: Any) -> float | None:
    import math

    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def evaluate(source: Any, cfg: AlertConfig) -> list[dict[str, Any]]:
    """Every rule evaluated on the latest complete period; returns one record per rule
    with ``fired`` and, when fired, ``message``."""
    from negah.actions._data import opened

    out = []
    with opened(source) as store:
        cache: dict[tuple, Any] = {}
        for r in cfg.rules:
            if r.get("kind", "metric") == "complaint_spike":
                out.extend(_eval_spikes(store, r))
            else:
                out.append(_eval_metric(store, r, cache))
    return out


def _eval_metric(store: Any, r: dict[str, Any], cache: dict) -> dict[str, Any]:
    import negah

    key = (r["period"], r["calendar"])
    if key not in cache:
        cache[key] = negah.metrics(store, period=r["period"], calendar=r["calendar"])
    df = cache[key]
    m = df[df["metric"] == r["metric"]]
    rec: dict[str, Any] = {
        "rule": r["name"],
        "kind": "metric",
        "metric": r["metric"],
        "period": None,
        "value": None,
        "previous": None,
        "fired": False,
        "notify": r["notify"],
    }
    if m.empty:
        rec["message"] = f"metric {r['metric']!r} not available for this data"
        rec["error"] = rec["message"]
        return rec
    comp = m[m["complete"].astype(bool)] if "complete" in m.columns else m
    if comp.empty:
        rec["message"] = "no complete period yet"
        return rec
    last = comp.iloc[-1]
    value = _num(last["value"])
    prev_rows = m.iloc[: list(m.index).index(last.name)]
    prev = _num(prev_rows.iloc[-1]["value"]) if len(prev_rows) else None
    rec.update({"period": str(last["period"]), "value": value, "previous": prev})
    why = []
    if value is not None:
        if "above" in r and value > float(r["above"]):
            why.append(f"{value:.4g} > {r['above']}")
        if "below" in r and value < float(r["below"]):
            why.append(f"{value:.4g} < {r['below']}")
        if prev is not None:
            ch = value - prev
            if "rise" in r and ch > float(r["rise"]):
                why.append(f"rose {ch:.4g} (> {r['rise']}) from {prev:.4g}")
            if "drop" in r and -ch > float(r["drop"]):
                why.append(f"fell {-ch:.4g} (> {r['drop']}) from {prev:.4g}")
    if why:
        rec["fired"] = True
        rec["message"] = f"{r['name']}: {r['metric']} in {rec['period']} = {value:.4g}; " + "; ".join(why)
    return rec


def _eval_spikes(store: Any, r: dict[str, Any]) -> list[dict[str, Any]]:
    from negah.actions._data import to_records
    from negah.actions.reasons import spikes

    if not store.has("complaints"):
        return [
            {
                "rule": r["name"],
                "kind": "complaint_spike",
                "fired": False,
                "period": None,
                "notify": r["notify"],
                "message": "no complaints table",
            }
        ]
    sp = spikes(
        store,
        period=r["period"],
        calendar=r["calendar"],
        fdr=float(r.get("fdr", 0.05)),
        baseline_periods=int(r.get("baseline_periods", 6)),
        min_baseline=int(r.get("min_baseline", 3)),
    )
    from negah.actions._data import complete_periods, first_date, last_date

    # the rule speaks of the latest complete period of the data, not of the latest period
    # that ever had a spike (a spike of months ago is old news, already alerted then)
    done = [p for p, full in complete_periods(first_date(store), last_date(store), r["period"], r["calendar"]) if full]
    latest = done[-1].label if done else None
    sp = sp[sp["complete"].astype(bool) & (sp["period"] == latest)] if len(sp) else sp
    if len(sp) == 0:
        return [{"rule": r["name"], "kind": "complaint_spike", "fired": False, "period": latest, "notify": r["notify"]}]
    out = []
    for s in to_records(sp):
        out.append(
            {
                "rule": r["name"],
                "kind": "complaint_spike",
                "fired": True,
                "period": s["period"],
                "notify": r["notify"],
                "spike": s,
                "key": f"{s['reason']}|{s['product_id']}",
                "message": (
                    f"{r['name']}: {s['count']} complaints '{s['reason']}' about product "
                    f"{s['product_id']} in {s['period']} (baseline {s['baseline']:.2f}, "
                    f"p={s['p_value']:.2g})"
                ),
            }
        )
    return out


# ------------------------------------------------------------------------------------
# delivery
# ------------------------------------------------------------------------------------


def _alert_id(a: dict[str, Any]) -> str:
    return f"{a['rule']}|{a.get('period')}|{a.get('key', '')}"


def _payload(a: dict[str, Any]) -> dict[str, Any]:
    from negah.actions._data import json_value

    keep = {k: v for k, v in a.items() if k not in ("notify",)}
    keep["source"] = "negah"
    return json_value(keep)


def deliver(
    alert: dict[str, Any],
    channel: str,
    cfg: AlertConfig,
    *,
    echo: Callable[[str], None] = print,
    sleep: Callable[[float], None] | None = None,
) -> tuple[bool, str | None, int]:
    """Deliver one alert to one channel with retries. Returns (delivered, error, attempts)."""
    import time

    sl = sleep or time.sleep
    if channel == "print":
        echo(alert.get("message", json.dumps(_payload(alert))))
        return True, None, 1
    ch = cfg.channels[channel]
    t = ch.get("type")
    payload = _payload(alert)
    if t == "print":
        echo(alert.get("message", ""))
        return True, None, 1
    if t == "webhook":
        fn = lambda: post_webhook(
            ch["url"],
            payload,
            timeout=float(ch.get("timeout", cfg.timeout)),  # noqa: E731
            headers=ch.get("headers"),
        )
    else:
        to = ch["to"]
        subject = f"[negah] {alert.get('rule')} ({alert.get('period')})"
        body = alert.get("message", "") + "\n\n" + json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True)
        smtp = cfg.smtp
        if "timeout" in ch or cfg.timeout != smtp.timeout:
            from dataclasses import replace

            smtp = replace(smtp, timeout=float(ch.get("timeout", cfg.timeout)))
        fn = lambda: send_email(smtp, to, subject, body)  # noqa: E731
    return with_retries(fn, retries=cfg.retries, backoff=cfg.backoff, sleep=sl)


def _read_jsonl(p: Path) -> list[dict[str, Any]]:
    if not p.exists():
        return []
    out = []
    for line in p.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def _write_jsonl(p: Path, rows: list[dict[str, Any]]) -> None:
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(p)


@dataclass
class CheckResult:
    alerts: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.pending

    def to_dict(self) -> dict[str, Any]:
        from negah.actions._data import json_value

        return {
            "ok": self.ok,
            "alerts": json_value(self.alerts),
            "deliveries": json_value(self.deliveries),
            "pending": json_value(self.pending),
        }


def check(
    source: Any,
    config: str | Path | AlertConfig,
    *,
    repeat: bool = False,
    echo: Callable[[str], None] = print,
    sleep: Callable[[float], None] | None = None,
    now: _dt.datetime | None = None,
) -> CheckResult:
    """Evaluate the rules, deliver what fired, and retry the outbox.

    Parameters
    ----------
    repeat
        Send alerts again even when the state file says they were delivered.
    echo
        Where ``print`` actions write (the CLI passes stderr's or stdout's printer).
    """
    cfg = config if isinstance(config, AlertConfig) else load_config(config)
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).isoformat(timespec="seconds")
    state: dict[str, Any] = {}
    if cfg.state.exists():
        try:
            state = json.loads(cfg.state.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            state = {}
    sent: set[str] = set(state.get("sent", []))
    res = CheckResult()
    # 1. the outbox from earlier runs first
    pending: list[dict[str, Any]] = []
    for item in _read_jsonl(cfg.outbox):
        if item.get("channel") not in cfg.channels and item.get("channel") != "print":
            item["error"] = f"channel {item.get('channel')!r} no longer in the config"
            pending.append(item)
            continue
        ok, err, n = deliver(item["alert"], item["channel"], cfg, echo=echo, sleep=sleep)
        res.deliveries.append(
            {
                "alert": item["id"],
                "channel": item["channel"],
                "delivered": ok,
                "attempts": n,
                "error": err,
                "from_outbox": True,
            }
        )
        if ok:
            sent.add(item["id"] + "|" + item["channel"])
        else:
            item.update({"attempts": item.get("attempts", 0) + n, "error": err, "last_try": stamp})
            pending.append(item)
    # 2. this run's alerts
    res.alerts = evaluate(source, cfg)
    queued = {(p["id"], p["channel"]) for p in pending}
    for a in res.alerts:
        if not a.get("fired"):
            continue
        aid = _alert_id(a)
        for ch in a["notify"]:
            key = aid + "|" + ch
            if (key in sent and not repeat) or (aid, ch) in queued:
                res.deliveries.append(
                    {
                        "alert": aid,
                        "channel": ch,
                        "delivered": None,
                        "attempts": 0,
                        "error": None,
                        "skipped": "already sent" if key in sent else "in outbox",
                    }
                )
                continue
            ok, err, n = deliver(a, ch, cfg, echo=echo, sleep=sleep)
            res.deliveries.append({"alert": aid, "channel": ch, "delivered": ok, "attempts": n, "error": err})
            if ok:
                sent.add(key)
            else:
                pending.append(
                    {
                        "id": aid,
                        "channel": ch,
                        "alert": _payload(a) | {"notify": a["notify"]},
                        "attempts": n,
                        "error": err,
                        "first_try": stamp,
                        "last_try": stamp,
                    }
                )
    res.pending = pending
    _write_jsonl(cfg.outbox, pending) if (pending or cfg.outbox.exists()) else None
    cfg.state.write_text(
        json.dumps({"sent": sorted(sent), "updated": stamp}, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return res
