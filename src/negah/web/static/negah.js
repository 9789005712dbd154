/* negah dashboard: draws a page's JSON (kpis, charts, tables, notes) with the vendored uPlot.
   English by default; Persian pages get Persian digits with the Persian decimal (٫) and
   thousands (٬) separators, the Persian percent sign, month and season names, and numbers
   isolated left-to-right inside the right-to-left text. */
(function () {
  "use strict";
  var L = (window.NEGAH && window.NEGAH.lang) || "en";
  var S = (window.NEGAH && window.NEGAH.strings) || {};
  var FA = "۰۱۲۳۴۵۶۷۸۹";
  var JMONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"];
  var GMONTHS = ["ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن", "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر"];
  var SEASONS = ["بهار", "تابستان", "پاییز", "زمستان"];
  var CAL = "gregorian";  // the calendar of the page being shown (from its params)
  function t(k) { return S[k] || k; }
  function ui(prefix, k) { return S[prefix + "." + k] || t(k); }
  function fill(s, o) { return s.replace(/\{(\w+)\}/g, function (_, k) { return o[k]; }); }
  function plain(s) { return L === "fa" ? String(s).replace(/[0-9]/g, function (d) { return FA[+d]; }) : String(s); }
  function digits(s) {
    s = String(s);
    if (L !== "fa") return s;
    return plain(s).replace(/\./g, "٫").replace(/,/g, "٬").replace(/-/g, "−").replace(/%/g, "٪");
  }
  function num(v, opts) { return new Intl.NumberFormat("en-US", opts).format(v); }
  function period(p, compact) {
    var s = String(p), m;
    if (L !== "fa") return s;
    var jal = CAL === "jalali";
    if ((m = /^(\d{4})-(\d{2})$/.exec(s))) return compact ? plain(m[1] + "/" + m[2]) : plain((jal ? JMONTHS : GMONTHS)[+m[2] - 1] + " " + m[1]);
    if ((m = /^(\d{4})-Q([1-4])$/.exec(s))) return plain(jal ? SEASONS[+m[2] - 1] + " " + m[1] : "سه‌ماههٔ " + m[2] + " " + m[1]);
    if ((m = /^(\d{4})-W(\d{2})$/.exec(s))) return plain((compact ? "" : "هفتهٔ ") + (+m[2]) + " " + m[1]);
    if ((m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s))) return compact ? plain(m[1] + "/" + m[2] + "/" + m[3]) : plain("هفتهٔ " + (+m[3]) + " " + JMONTHS[+m[2] - 1] + " " + m[1]);
    return plain(s);
  }
  function label(v) { return t(String(v)); }
  function reasons(v) {
    var list = Array.isArray(v) ? v : String(v).split(/;\s*/);
    return list.filter(function (x) { return x; }).map(function (r) {
      var i = r.indexOf(":");
      if (i > 0) return ui("reason", r.slice(0, i)) + " (" + label(r.slice(i + 1)) + ")";
      return ui("reason", r);
    }).join(L === "fa" ? "، " : ", ");
  }
  function fmt(v, kind) {
    if (v === null || v === undefined || v === "") return "—";
    if (kind === "text" || kind === "customer") return plain(v);
    if (kind === "label") return plain(label(v));
    if (kind === "segment") return ui("seg", v);
    if (kind === "reasons") return reasons(v);
    if (kind === "period") return period(v);
    if (kind === "date") return date(v);
    if (kind === "hour") return plain(("0" + v).slice(-2) + ":00");
    if (typeof v !== "number") { var n = Number(v); if (isNaN(n)) return plain(v); v = n; }
    var s;
    if (kind === "pct") s = num(v * 100, {minimumFractionDigits: 1, maximumFractionDigits: 1}) + "%";
    else if (kind === "int") s = num(v, {maximumFractionDigits: 0});
    else if (kind === "pts") s = num(v, {minimumFractionDigits: 1, maximumFractionDigits: 1});
    else if (kind === "money") s = num(v, {maximumFractionDigits: Math.abs(v) >= 100 ? 0 : 2, minimumFractionDigits: Math.abs(v) >= 100 ? 0 : 2});
    else s = num(v, {maximumFractionDigits: 2});
    return digits(s);
  }
  var NUMERIC = {pct: 1, int: 1, pts: 1, money: 1, num: 1, hour: 1};
  function axisFmt(v, kind, step) {  // tick labels: only the decimals the tick step needs
    if (v === null || v === undefined) return "";
    var scale = kind === "pct" ? 100 : 1, s = step * scale, dec = s >= 1 || !s ? 0 : s >= 0.1 ? 1 : 2;
    var txt = num(v * scale, {minimumFractionDigits: dec, maximumFractionDigits: dec});
    if (txt === "-0") txt = "0";
    return digits(txt + (kind === "pct" ? "%" : ""));
  }
  function date(v) {
    if (!v) return "—";
    var s = String(v);
    if (L !== "fa") return s.slice(0, 10);
    var d = new Date(s.slice(0, 10) + "T12:00:00Z");
    if (isNaN(d)) return plain(s);
    return new Intl.DateTimeFormat("fa-IR-u-ca-persian", {year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC"}).format(d);
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in (attrs || {})) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function numEl(tag, attrs, text) { var e = el(tag, attrs, text); e.setAttribute("dir", "ltr"); return e; }
  function query() {
    var q = new URLSearchParams(location.search), out = new URLSearchParams();
    ["period", "calendar", "segment", "start", "end", "industry"].forEach(function (k) { if (q.get(k)) out.set(k, q.get(k)); });
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
    (list || []).forEach(function (n) { box.appendChild(el("div", {"class": "note"}, t(n))); });
  }
  function kpis(list) {
    var box = document.getElementById("kpis"); if (!box) return;
    box.innerHTML = "";
    (list || []).forEach(function (k) {
      var d = el("div", {"class": "kpi" + (k.alert ? " alert-" + k.alert : ""), "data-key": k.key,
                        "data-value": k.value === null ? "" : String(k.value), "data-format": k.format});
      d.appendChild(el("span", {"class": "label"}, t(k.key)));
      d.appendChild(numEl("span", {"class": "value"}, fmt(k.value, k.format)));
      if (k.period) d.appendChild(el("span", {"class": "period"}, k.period.indexOf("..") > 0 ? k.period.split("..").map(function (x) { return period(x); }).join(" – ") : period(k.period)));
      if (k.band) {  // "20.0% – 30.0%"; in Persian "۲۰٫۰٪ تا ۳۰٫۰٪", the low end first in reading order
        var b = el("span", {"class": "band"}, t("benchmark") + ": ");
        if (k.band.low === null || k.band.low === undefined) {  // an upper bound only: "under 10.0%"
          b.appendChild(document.createTextNode(L === "fa" ? "زیر " : "under "));
        } else {
          b.appendChild(numEl("bdi", {}, fmt(k.band.low, "pct")));
          b.appendChild(document.createTextNode(L === "fa" ? " تا " : " – "));
        }
        b.appendChild(numEl("bdi", {}, fmt(k.band.high, "pct")));
        d.appendChild(b);
      }
      if (k.alert) d.appendChild(el("span", {"class": "band alert-state"}, t("alert") + ": " + t("alert_" + k.alert)));
      box.appendChild(d);
    });
  }
  var COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2"];
  var drawn = [];  // [spec, wrap] of the charts on the page, redrawn on resize
  function hasData(spec) {
    return spec.series.some(function (s) { return s.values.some(function (v) { return v !== null && v !== undefined; }); });
  }
  function xLabel(spec, v) {
    var f = spec.x_format || "period";
    if (f === "period") return period(v, true);
    if (f === "segment") return ui("seg", v);
    if (f === "label") return plain(label(v));
    return digits(v);
  }
  function chart(spec, box) {
    var wrap = el("div", {"class": "chart-box" + (spec.type === "heatmap" ? " wide" : ""), "data-chart": spec.id});
    wrap.appendChild(el("h3", {}, ui("chart", spec.title)));
    box.appendChild(wrap);
    if (spec.type === "heatmap") { wrap.appendChild(heatmap(spec)); return; }
    if (!spec.x.length || !hasData(spec)) { wrap.appendChild(el("p", {"class": "empty"}, t("empty.chart"))); return; }
    var legend = el("div", {"class": "legend"});
    spec.series.forEach(function (s, i) {
      var item = el("span", {"class": "item"});
      var sw = el("span", {"class": "swatch"}); sw.style.background = COLORS[i % COLORS.length];
      item.appendChild(sw); item.appendChild(el("span", {}, t(s.key)));
      legend.appendChild(item);
    });
    wrap.appendChild(legend);
    var plot = el("div", {"class": "plot", "dir": "ltr"});
    wrap.appendChild(plot);
    var readout = el("div", {"class": "readout"}, t("hover_hint"));
    wrap.appendChild(readout);
    drawn.push([spec, plot, readout]);
    draw(spec, plot, readout);
  }
  function draw(spec, plot, readout) {
    plot.innerHTML = "";
    if (typeof uPlot === "undefined") return;
    var xs = spec.x.map(function (_, i) { return i; });
    var f0 = spec.series.length ? spec.series[0].format : "num";
    var bars = spec.type === "bar" && spec.series.length === 1;
    var width = Math.max(260, (plot.parentNode.clientWidth || 520) - 20);
    var longest = spec.x.reduce(function (m, x) { return Math.max(m, xLabel(spec, x).length); }, 1);
    var slot = width / Math.max(1, spec.x.length);
    var rotate = (spec.x_format === "segment" || spec.x_format === "label") && longest * 7 > slot;
    var font = (L === "fa" ? "12px Vazirmatn, Tahoma, sans-serif" : "12px system-ui, sans-serif");
    var yAxis = {values: function (u, vals) {
                   var step = vals.length > 1 ? Math.abs(vals[1] - vals[0]) : 1;
                   return vals.map(function (v) { return axisFmt(v, f0, step); });
                 },
                 size: function (u, vals) { var w = 0; (vals || []).forEach(function (v) { w = Math.max(w, String(v).length); }); return Math.max(44, w * 8 + 18); },
                 font: font};
    if (f0 === "int") yAxis.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];
    var opts = {
      width: width, height: window.innerWidth < 640 ? 200 : 240,
      legend: {show: false},
      cursor: {points: {size: 6}},
      scales: {x: {time: false, range: function () { return bars ? [-0.6, spec.x.length - 0.4] : [0, Math.max(1, spec.x.length - 1)]; }},
               y: {range: function (u, min, max) {
                 if (bars || f0 === "int") return [Math.min(0, min), max > 0 ? max * 1.1 : 1];
                 var pad = (max - min) * 0.1 || Math.abs(max) * 0.1 || 1;
                 return [min - pad, max + pad];
               }}},
      axes: [{values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) && spec.x[v] !== undefined ? xLabel(spec, spec.x[v]) : ""; }); },
              incrs: [1, 2, 3, 4, 6, 12, 24, 36, 48, 60, 120, 240],
              space: rotate ? 14 : Math.max(40, longest * 7 + 12), rotate: rotate ? -40 : 0, size: rotate ? 30 + longest * 5 : 36,
              font: font},
             yAxis],
      series: [{}].concat(spec.series.map(function (s, i) {
        var o = {label: t(s.key), stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false};
        if (bars) { o.fill = COLORS[i % COLORS.length] + "aa"; o.paths = uPlot.paths.bars({size: [0.7, 60]}); o.points = {show: false}; }
        else o.points = {show: spec.x.length <= 40, size: 5};
        return o;
      })),
      hooks: {setCursor: [function (u) {
        var i = u.cursor.idx;
        if (i === null || i === undefined) { readout.textContent = t("hover_hint"); return; }
        readout.textContent = xLabel(spec, spec.x[i]) + " · " + spec.series.map(function (s) { return t(s.key) + ": " + fmt(s.values[i], s.format); }).join(" · ");
      }]}
    };
    var data = [xs].concat(spec.series.map(function (s) { return s.values; }));
    new uPlot(opts, data, plot);
  }
  function heatmap(spec) {
    var scroll = el("div", {"class": "table-wrap"});
    var tb = el("table", {"class": "heatmap"}), tr = el("tr");
    tr.appendChild(el("th", {}, t("cohort")));
    var head = el("th", {"colspan": String(spec.x.length), "class": "axis"}, t("periods_since"));
    tr.appendChild(head);
    tb.appendChild(tr);
    tr = el("tr"); tr.appendChild(el("th"));
    spec.x.forEach(function (x) { tr.appendChild(numEl("th", {}, plain(x))); });
    tb.appendChild(tr);
    spec.y.forEach(function (y, i) {
      var r = el("tr"); r.appendChild(el("th", {"class": "nowrap"}, period(y)));
      spec.z[i].forEach(function (v) {
        var c = numEl("td", {}, v === null ? "" : fmt(v, spec.format || "pct"));
        if (v !== null) { var a = Math.max(0, Math.min(1, v)); c.style.background = "rgba(37,99,235," + a.toFixed(2) + ")"; if (a > 0.5) c.style.color = "#fff"; }
        r.appendChild(c);
      });
      tb.appendChild(r);
    });
    scroll.appendChild(tb);
    return scroll;
  }
  function autoFormat(row, col) {
    if (col.format !== "auto") return col.format;
    var v = row[col.key];
    if (typeof v === "number") return Number.isInteger(v) ? "int" : "num";
    if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}/.test(v)) return "date";
    return "text";
  }
  var PAGE_ROWS = 25;
  function table(spec, box, opts) {
    opts = opts || {};
    var sec = el("section", {"class": "table-block", "data-block": spec.id});
    if (!opts.noTitle) sec.appendChild(el("h2", {}, ui("table", spec.id)));
    box.appendChild(sec);
    if (!spec.rows.length) { sec.appendChild(el("p", {"class": "empty", "data-empty": spec.id}, S["empty." + spec.id] || t("empty.table"))); return; }
    var orig = spec;
    // a column empty in every row is left out; one with the same label in every row is said once above
    var cols = spec.columns.filter(function (c) {
      var vals = spec.rows.map(function (r) { return r[c.key]; });
      if (vals.every(function (v) { return v === null || v === undefined || v === ""; })) return false;
      if (c.format === "label" && spec.rows.length > 3 && vals.every(function (v) { return v === vals[0]; })) {
        sec.appendChild(el("p", {"class": "caption", "data-constant": c.key}, ui("col", c.key) + ": " + fmt(vals[0], "label")));
        return false;
      }
      return true;
    });
    spec = {id: spec.id, columns: cols, rows: spec.rows};
    var wrap = el("div", {"class": "table-wrap"});
    var tb = el("table", {"data-table": spec.id}), tr = el("tr");
    spec.columns.forEach(function (c) { tr.appendChild(el("th", {"data-col": c.key}, ui("col", c.key))); });
    tb.appendChild(tr);
    var limit = opts.all ? spec.rows.length : PAGE_ROWS;
    spec.rows.slice(0, limit).forEach(function (row) {
      var r = el("tr");
      spec.columns.forEach(function (c) {
        var f = autoFormat(row, c), v = row[c.key];
        var td = NUMERIC[f] ? numEl("td", {"class": "num"}) : el("td");
        if (f === "customer" && v !== null && v !== undefined) {
          td.appendChild(el("a", {href: "/customers/" + encodeURIComponent(v)}, plain(v)));
        } else td.textContent = (v !== null && typeof v === "object" && !Array.isArray(v)) ? JSON.stringify(v) : fmt(v, f);
        if (v !== null && v !== undefined) td.setAttribute("data-value", String(v));
        r.appendChild(td);
      });
      tb.appendChild(r);
    });
    wrap.appendChild(tb);
    sec.appendChild(wrap);
    if (spec.rows.length > limit) {
      var more = el("button", {"type": "button", "class": "more"}, plain(fill(t("show_all"), {n: spec.rows.length})));
      var count = el("span", {"class": "count"}, plain(fill(t("rows_shown"), {shown: limit, n: spec.rows.length})));
      more.addEventListener("click", function () { var box2 = sec.parentNode; var next = sec.nextSibling; box2.removeChild(sec); var tmp = document.createElement("div"); table(orig, tmp, {all: true, noTitle: opts.noTitle}); box2.insertBefore(tmp.firstChild, next); });
      sec.appendChild(count); sec.appendChild(more);
    }
  }
  var current = null;
  function render(p) {
    current = p;
    CAL = (p.params && p.params.calendar) || CAL;
    notes(p.notes); kpis(p.kpis);
    drawn = [];
    var cb = document.getElementById("charts"); if (cb) { cb.innerHTML = ""; (p.charts || []).forEach(function (c) { chart(c, cb); }); }
    var tb = document.getElementById("tables"); if (tb) { tb.innerHTML = ""; (p.tables || []).forEach(function (s) { table(s, tb); }); }
    document.body.setAttribute("data-ready", "1");
  }
  var resizeTimer = null, lastWidth = window.innerWidth;
  window.addEventListener("resize", function () {
    if (window.innerWidth === lastWidth) return;
    lastWidth = window.innerWidth;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { drawn.forEach(function (d) { draw(d[0], d[1], d[2]); }); }, 150);
  });
  function fail(e) { notes([t("error") + ": " + e.message]); document.body.setAttribute("data-ready", "error"); }
  function page(api) {
    var q = query(), form = document.getElementById("filters");
    CAL = q.get("calendar") || "gregorian";
    if (form) {
      q.forEach(function (v, k) { if (form.elements[k]) form.elements[k].value = v; });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var n = new URLSearchParams();
        ["period", "calendar", "segment", "industry"].forEach(function (k) { if (form.elements[k] && form.elements[k].value) n.set(k, form.elements[k].value); });
        location.search = n.toString();
      });
    }
    getJSON(api + "?" + q.toString()).then(render).catch(fail);
  }
  var DETAIL = {amount: "money", quantity: "int", score: "int", reason: "label", channel: "label", status: "label",
                direction: "label", outcome: "label", kind: "label"};
  function loadCustomer(api) {
    CAL = L === "fa" ? "jalali" : "gregorian";
    return getJSON(api).then(function (c) {
      notes(c.notes);
      var ks = [{key: "store_orders", value: c.summary.orders, format: "int"}, {key: "revenue_total", value: c.summary.revenue, format: "money"}];
      if (c.risk !== null && c.risk !== undefined) ks.push({key: "risk", value: typeof c.risk === "object" ? c.risk.risk : c.risk, format: "pct"});
      if (c.clv !== null && c.clv !== undefined) ks.push({key: "clv", value: typeof c.clv === "object" ? c.clv.clv : c.clv, format: "money"});
      kpis(ks);
      var rows = c.timeline.map(function (e) {
        return {date: e.date, kind: ui("kind", e.kind), detail: Object.keys(e.detail).map(function (k) {
          return (S["detail." + k] || ui("col", k)) + ": " + fmt(e.detail[k], DETAIL[k] || "text");
        }).join(" · ")};
      });
      var tb = document.getElementById("tables"); tb.innerHTML = "";
      table({id: "timeline", columns: [{key: "date", format: "date"}, {key: "kind", format: "text"}, {key: "detail", format: "text"}], rows: rows}, tb, {noTitle: true});
      var why = (c.reasons || []).map(function (r) { return {reason: r.reason}; });
      table({id: "reason", columns: [{key: "reason", format: "reasons"}], rows: why}, tb);
      document.body.setAttribute("data-ready", "1");
    }).catch(fail);
  }
  function customer(api) {
    loadCustomer(api);
    getJSON("/api/complaint-reasons").then(function (r) {
      var sel = document.getElementById("reason-select");
      r.reasons.forEach(function (x) { sel.appendChild(el("option", {value: x}, label(x))); });
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
  window.Negah = {page: page, customer: customer, fmt: fmt, digits: digits, period: period};
})();
