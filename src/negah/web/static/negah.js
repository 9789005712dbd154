/* negah dashboard: draws a page's JSON (kpis, charts, tables, notes) with the vendored uPlot. */
(function () {
  "use strict";
  var L = (window.NEGAH && window.NEGAH.lang) || "en";
  var S = (window.NEGAH && window.NEGAH.strings) || {};
  var FA = "۰۱۲۳۴۵۶۷۸۹";
  function t(k) { return S[k] || k; }
  function digits(s) {
    s = String(s);
    if (L !== "fa") return s;
    return s.replace(/[0-9]/g, function (d) { return FA[+d]; }).replace(/\./g, "٫").replace(/,/g, "٬").replace(/-/g, "−");
  }
  function num(v, opts) { return new Intl.NumberFormat("en-US", opts).format(v); }
  function fmt(v, kind) {
    if (v === null || v === undefined || v === "") return "—";
    if (kind === "text" || kind === "label" || kind === "customer") return digits(kind === "label" ? t(v) : v);
    if (kind === "date") return date(v);
    if (typeof v !== "number") { var n = Number(v); if (isNaN(n)) return digits(v); v = n; }
    var s;
    if (kind === "pct") s = num(v * 100, {minimumFractionDigits: 1, maximumFractionDigits: 1}) + "%";
    else if (kind === "int") s = num(v, {maximumFractionDigits: 0});
    else if (kind === "pts") s = num(v, {minimumFractionDigits: 1, maximumFractionDigits: 1});
    else if (kind === "money") s = num(v, {maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2});
    else s = num(v, {maximumFractionDigits: 2});
    return digits(s);
  }
  function date(v) {
    if (!v) return "—";
    var s = String(v);
    if (L !== "fa") return s.slice(0, 10);
    var d = new Date(s.slice(0, 10) + "T12:00:00Z");
    if (isNaN(d)) return digits(s);
    return new Intl.DateTimeFormat("fa-IR-u-ca-persian", {year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC"}).format(d);
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in (attrs || {})) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function query() {
    var q = new URLSearchParams(location.search), out = new URLSearchParams();
    ["period", "calendar", "segment", "start", "end"].forEach(function (k) { if (q.get(k)) out.set(k, q.get(k)); });
    if (!out.get("calendar") && L === "fa") out.set("calendar", "jalali");
    return out;
  }
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("401"); }
      return r.json().then(function (b) { if (!r.ok) throw new Error((b.error && b.error.message) || r.status); return b; });
    });
  }
  function notes(list) {
    var box = document.getElementById("notes"); if (!box) return;
    box.innerHTML = "";
    (list || []).forEach(function (n) { box.appendChild(el("div", {"class": "note"}, n)); });
  }
  function kpis(list) {
    var box = document.getElementById("kpis"); if (!box) return;
    box.innerHTML = "";
    (list || []).forEach(function (k) {
      var d = el("div", {"class": "kpi" + (k.alert ? " alert-" + k.alert : ""), "data-key": k.key,
                        "data-value": k.value === null ? "" : String(k.value), "data-format": k.format});
      d.appendChild(el("span", {"class": "label"}, t(k.key)));
      d.appendChild(el("span", {"class": "value"}, fmt(k.value, k.format)));
      if (k.period) d.appendChild(el("span", {"class": "period"}, digits(k.period)));
      if (k.band) d.appendChild(el("span", {"class": "band"}, t("benchmark") + ": " + fmt(k.band.low, "pct") + "–" + fmt(k.band.high, "pct")));
      if (k.alert) d.appendChild(el("span", {"class": "band alert-state"}, t("alert") + ": " + t("alert_" + k.alert)));
      box.appendChild(d);
    });
  }
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2"];
  function chart(spec, box) {
    var wrap = el("div", {"class": "chart-box", "data-chart": spec.id});
    wrap.appendChild(el("h3", {}, t(spec.title)));
    box.appendChild(wrap);
    if (spec.type === "heatmap") { wrap.appendChild(heatmap(spec)); return; }
    if (typeof uPlot === "undefined") return;
    var xs = spec.x.map(function (_, i) { return i; });
    var f0 = spec.series.length ? spec.series[0].format : "num";
    var single = spec.series.length === 1 && spec.type === "bar";
    var opts = {
      width: Math.max(480, Math.min(560, wrap.clientWidth - 16 || 520)), height: 240,
      scales: {x: {time: false}},
      axes: [{values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) && spec.x[v] !== undefined ? digits(spec.x[v]) : ""; }); }},
             {values: function (u, vals) { return vals.map(function (v) { return fmt(v, f0); }); }, size: 70}],
      series: [{label: t("period"), value: function (u, v) { return v === null ? "" : digits(spec.x[v] || ""); }}].concat(spec.series.map(function (s, i) {
        var o = {label: t(s.key), stroke: COLORS[i % COLORS.length], width: 2,
                 value: function (u, v) { return fmt(v, s.format); }};
        if (single) { o.fill = COLORS[i % COLORS.length] + "aa"; o.paths = uPlot.paths.bars({size: [0.7, 60]}); }
        else if (spec.type === "bar") { o.points = {show: true, size: 6}; }
        return o;
      }))
    };
    var data = [xs].concat(spec.series.map(function (s) { return s.values; }));
    new uPlot(opts, data, wrap);
  }
  function heatmap(spec) {
    var tb = el("table", {"class": "heatmap"}), tr = el("tr");
    tr.appendChild(el("th", {}, t("cohort")));
    spec.x.forEach(function (x) { tr.appendChild(el("th", {}, digits(x))); });
    tb.appendChild(tr);
    spec.y.forEach(function (y, i) {
      var r = el("tr"); r.appendChild(el("th", {}, digits(y)));
      spec.z[i].forEach(function (v) {
        var c = el("td", {}, v === null ? "" : fmt(v, spec.format || "pct"));
        if (v !== null) { var a = Math.max(0, Math.min(1, v)); c.style.background = "rgba(37,99,235," + a.toFixed(2) + ")"; if (a > 0.5) c.style.color = "#fff"; }
        r.appendChild(c);
      });
      tb.appendChild(r);
    });
    return tb;
  }
  function autoFormat(row, col) {
    if (col.format !== "auto") return col.format;
    if (col.key === "value" && row.metric) return ({active_customers: "int", new_customers: "int", churned_customers: "int", nps: "pts", arpu: "money", clv: "money", time_between_purchases_days: "num"})[row.metric] || "pct";
    var v = row[col.key];
    if (typeof v === "number") return Number.isInteger(v) ? "int" : "num";
    if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v)) return "date";
    return "text";
  }
  function table(spec, box) {
    var h = el("h2", {}, t(spec.id)); box.appendChild(h);
    var tb = el("table", {"data-table": spec.id}), tr = el("tr");
    spec.columns.forEach(function (c) { tr.appendChild(el("th", {}, t(c.key))); });
    tb.appendChild(tr);
    spec.rows.forEach(function (row) {
      var r = el("tr");
      spec.columns.forEach(function (c) {
        var f = autoFormat(row, c), v = row[c.key];
        var td = el("td", {"class": (f === "text" || f === "label" || f === "date" || f === "customer") ? "" : "num"});
        if (c.format === "customer" && v !== null && v !== undefined) {
          var a = el("a", {href: "/customers/" + encodeURIComponent(v)}, digits(v)); td.appendChild(a);
        } else td.textContent = (v !== null && typeof v === "object") ? JSON.stringify(v) : fmt(v, f);
        if (v !== null && v !== undefined) td.setAttribute("data-value", String(v));
        r.appendChild(td);
      });
      tb.appendChild(r);
    });
    box.appendChild(tb);
  }
  function render(p) {
    notes(p.notes); kpis(p.kpis);
    var cb = document.getElementById("charts"); if (cb) { cb.innerHTML = ""; (p.charts || []).forEach(function (c) { chart(c, cb); }); }
    var tb = document.getElementById("tables"); if (tb) { tb.innerHTML = ""; (p.tables || []).forEach(function (s) { table(s, tb); }); }
    document.body.setAttribute("data-ready", "1");
  }
  function fail(e) { notes([t("error") + ": " + e.message]); document.body.setAttribute("data-ready", "error"); }
  function page(api) {
    var q = query(), form = document.getElementById("filters");
    if (form) {
      q.forEach(function (v, k) { if (form.elements[k]) form.elements[k].value = v; });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var n = new URLSearchParams();
        ["period", "calendar", "segment"].forEach(function (k) { if (form.elements[k].value) n.set(k, form.elements[k].value); });
        location.search = n.toString();
      });
    }
    getJSON(api + "?" + q.toString()).then(render).catch(fail);
  }
  function loadCustomer(api) {
    return getJSON(api).then(function (c) {
      notes(c.notes);
      var ks = [{key: "store_orders", value: c.summary.orders, format: "int"}, {key: "revenue_total", value: c.summary.revenue, format: "money"}];
      if (c.risk !== null && c.risk !== undefined) ks.push({key: "risk", value: typeof c.risk === "object" ? c.risk.risk : c.risk, format: "pct"});
      if (c.clv !== null && c.clv !== undefined) ks.push({key: "clv", value: typeof c.clv === "object" ? c.clv.clv : c.clv, format: "money"});
      kpis(ks);
      var rows = c.timeline.map(function (e) { return {date: e.date, kind: e.kind, detail: Object.keys(e.detail).map(function (k) { return t(k) + ": " + digits(e.detail[k]); }).join(" · ")}; });
      var tb = document.getElementById("tables"); tb.innerHTML = "";
      table({id: "timeline", columns: [{key: "date", format: "date"}, {key: "kind", format: "label"}, {key: "detail", format: "text"}], rows: rows}, tb);
      if (c.reasons && c.reasons.length) table({id: "reason", columns: Object.keys(c.reasons[0]).map(function (k) { return {key: k, format: "auto"}; }), rows: c.reasons}, tb);
      document.body.setAttribute("data-ready", "1");
    }).catch(fail);
  }
  function customer(api) {
    loadCustomer(api);
    getJSON("/api/complaint-reasons").then(function (r) {
      var sel = document.getElementById("reason-select");
      r.reasons.forEach(function (x) { sel.appendChild(el("option", {value: x}, t(x))); });
    });
    var form = document.getElementById("complaint-form");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {reason: form.elements.reason.value};
      if (form.elements.product_id.value) body.product_id = form.elements.product_id.value;
      if (form.elements.text.value) body.text = form.elements.text.value;
      fetch(api + "/complaints", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-Negah-Request": "1"}, body: JSON.stringify(body)})
        .then(function (r) { return r.json().then(function (b) {
          document.getElementById("complaint-status").textContent = r.ok ? t("saved") : (b.error ? b.error.message : r.status);
          if (r.ok) loadCustomer(api).then(function () { document.getElementById("complaint-status").textContent = t("saved"); });
        }); });
    });
  }
  window.Negah = {page: page, customer: customer, fmt: fmt, digits: digits};
})();
