/* app.js — the monitoring page: views of the node's JSON API (/v1/monitor/..., see
 * docs/PROTOCOL.md §18) drawn as cards, tables and ECharts charts. No framework: each view
 * is a function that fetches, then writes HTML into #view. The token lives in
 * sessionStorage (or comes once as ?token=...); the language in localStorage (or ?lang=). */
"use strict";

const S = {
  token: sessionStorage.getItem("wn_token") || "",
  lang: localStorage.getItem("wn_lang") || "zh",
  charts: [],
  who: null,
};

(function fromUrl() {
  const p = new URLSearchParams(location.search);
  if (p.get("token")) { S.token = p.get("token"); sessionStorage.setItem("wn_token", S.token); }
  if (p.get("lang") === "en" || p.get("lang") === "zh") { S.lang = p.get("lang"); localStorage.setItem("wn_lang", S.lang); }
  if (p.has("token")) { p.delete("token"); history.replaceState(null, "", location.pathname + (p.toString() ? "?" + p : "") + location.hash); }
})();

const $ = (sel) => document.querySelector(sel);
const T = (k) => (I18N[S.lang] && I18N[S.lang][k]) || I18N.en[k] || k;
const esc = (s) => String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g,
  (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const short = (hex) => hex ? hex.slice(0, 8) + "…" + hex.slice(-4) : "—";
const kindName = (a) => T("k_" + a.kind) + (a.quantity ? " · " + T(a.quantity) : "");

class HttpError extends Error {
  constructor(status, body) { super(body && body.detail || String(status)); this.status = status; this.code = body && body.error; }
}
/* What an error says to people: the node's English detail on the English page, a Chinese
 * sentence by error code on the Chinese one (the detail stays in the title). */
function errText(e) {
  if (S.lang !== "zh") return e.message;
  const k = { 403: "forbidden_detail", 401: "unauthorized_detail", 404: "not_found_detail", 400: "bad_request_detail" }[e.status];
  return k ? T(k) : T("error") + " " + (e.status || "");
}

async function api(path, opts) {
  const headers = Object.assign({}, (opts && opts.headers) || {});
  if (S.token) headers.Authorization = "Bearer " + S.token;
  const r = await fetch(path, Object.assign({}, opts || {}, { headers }));
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (r.status === 401) { showLogin(body && body.detail); throw new HttpError(401, body); }
  if (!r.ok) throw new HttpError(r.status, body);
  return body;
}

function post(path, obj) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(obj) });
}

/* ---- frame: language, login, navigation ---- */

function applyLang() {
  Fmt.lang = S.lang;
  document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = T(el.dataset.i18n); });
  document.title = T("title") + " · WaterNotary";
  $("#lang").textContent = S.lang === "zh" ? "English" : "中文";
}

function showLogin(msg) {
  $("#login").hidden = false;
  $("#view").innerHTML = "";
  $("#login-error").textContent = msg ? T("login_bad") + " (" + msg + ")" : "";
}

function clearCharts() { S.charts.forEach((c) => c.dispose()); S.charts = []; }

function chart(el, option) {
  if (typeof echarts === "undefined") { el.textContent = "ECharts not installed (scripts/install-deps.sh)"; return null; }
  const c = echarts.init(el);
  /* time axes: data are shifted by the node's zone and drawn as UTC, so ticks and tooltips
   * read the node's local time whatever the browser's zone; day ticks read as dates */
  c.setOption(Object.assign({ animation: false, useUTC: true, tooltip: { trigger: "axis" }, grid: { left: 60, right: 30, top: 40, bottom: 50 } }, option));
  S.charts.push(c);
  return c;
}
window.addEventListener("resize", () => S.charts.forEach((c) => c.resize()));

const TIME_AXIS = () => ({ type: "time", axisLabel: { hideOverlap: true, formatter: { year: "{yyyy}", month: "{yyyy}-{MM}",
  day: "{yyyy}-{MM}-{dd}", hour: "{HH}:{mm}", minute: "{HH}:{mm}", second: "{HH}:{mm}:{ss}", millisecond: "{HH}:{mm}:{ss}" } } });
const local = (t) => t + Fmt.zoneMs; /* a time as the chart draws it */

function card(id, label, value, warn) {
  return `<div class="card${warn ? " warn" : ""}"><div class="label">${esc(label)}</div><div class="value" id="${id}">${esc(value)}</div></div>`;
}

/* Names (GET /v1/monitor/... "label", "enterprise_name": the bureau's labels), each with
 * its id one click away: the name links to the view, the id is in the title and beside it. */
function entName(o) {
  const id = o.enterprise;
  if (!id) return "—";
  const name = o.enterprise_name;
  return `<a href="#/enterprise/${encodeURIComponent(id)}" class="ent-name" title="${esc(T("enterprise_id"))} ${esc(id)}">` +
    `${esc(name || id)}</a>${name ? ` <small class="mono id">${esc(id)}</small>` : ""}`;
}
function meterText(o) {
  const l = o.label;
  return l ? [l.number, l.location].filter(Boolean).join(" · ") || l.purpose || short(o.meter) : short(o.meter);
}
function meterName(o) {
  if (!o.meter) return "—";
  return `<a href="#/meter/${o.meter}" class="meter-name" title="${esc(T("meter_id"))} ${o.meter}">${esc(meterText(o))}</a>` +
    (o.label ? ` <small class="mono id">${short(o.meter)}</small>` : "");
}

/* Export buttons: the same table from GET /v1/monitor/export as CSV or .xlsx, fetched with
 * the token and saved under a name that says what it is. */
function exportButtons(id, query, name) {
  const q = (fmt) => `/v1/monitor/export?${new URLSearchParams(Object.assign({}, query, { format: fmt }))}`;
  return `<span class="export" id="${id}"><a class="button export-link" id="${id}-csv" href="${esc(q("csv"))}" data-name="${esc(name)}.csv">${T("export_csv")}</a>` +
    `<a class="button export-link" id="${id}-xlsx" href="${esc(q("xlsx"))}" data-name="${esc(name)}.xlsx">${T("export_xlsx")}</a></span>`;
}
function bindExports() { document.querySelectorAll("a.export-link").forEach(bindExportOne); }
function bindExportOne(a) {
  a.addEventListener("click", async (ev) => {
    ev.preventDefault();
    const r = await fetch(a.getAttribute("href"), { headers: S.token ? { Authorization: "Bearer " + S.token } : {} });
    if (!r.ok) { let b = null; try { b = await r.json(); } catch (e) { b = null; } alert(errText(new HttpError(r.status, b))); return; }
    const blob = await r.blob();
    const l = document.createElement("a");
    l.href = URL.createObjectURL(blob);
    l.download = a.dataset.name;
    document.body.appendChild(l);
    l.click();
    l.remove();
  });
}

/* Evidence: ledger entries fetched with the token (a plain link would be 401). */
function evidenceLinks(list) {
  return list.map((i) => `<a href="/v1/entries/${i}" class="mono evidence" data-index="${i}" title="${esc(T("open_entry"))}">${i}</a>`).join(", ");
}
function bindEvidence() {
  document.querySelectorAll("a.evidence").forEach((a) => a.addEventListener("click", async (ev) => {
    ev.preventDefault();
    const w = window.open("", "_blank");
    try {
      const r = await api("/v1/entries/" + a.dataset.index);
      const text = JSON.stringify(r, null, 2);
      if (w) { w.document.title = T("open_entry") + " " + a.dataset.index; w.document.body.innerHTML = `<pre>${esc(text)}</pre>`; }
    } catch (e) { if (w) w.document.body.textContent = errText(e); }
  }));
}

function alertRow(a, withAck) {
  const ev = evidenceLinks(a.evidence);
  const who = a.ack ? `${esc(a.ack.by)} · ${Fmt.time(a.ack.time)}${a.ack.note ? `<br><small class="ack-note">${esc(T("note"))}: ${esc(a.ack.note)}</small>` : ""}`
    : (withAck && canAck() ? `<button class="ack" data-id="${a.id}">${esc(T("acknowledge"))}</button>` : "—");
  const meter = meterName(a);
  return `<tr class="alert" data-kind="${a.kind}" data-id="${a.id}"><td>${Fmt.time(a.time)}</td>` +
    `<td><span class="kind k-${a.kind}">${esc(kindName(a))}</span></td><td>${entName(a)}</td><td>${meter}</td>` +
    `<td>${a.cleared ? T("cleared") : a.ongoing ? T("ongoing") : T("ended")}</td>` +
    `<td>${esc(alertDetail(a))}${a.revised ? `<br><small title="${esc(a.revised.note)}">${esc(T("revised"))}</small>` : ""}` +
    `${a.folded ? `<br><small>${esc(T("folded"))} ${a.folded}</small>` : ""}</td>` +
    `<td>${ev}</td><td>${who}</td></tr>`;
}

function alertDetail(a) {
  const d = a.detail || {};
  switch (a.kind) {
    case "silent": return Fmt.ms(d.silent_for_ms) + " > " + Fmt.ms(d.silent_after_ms);
    case "sequence_gap": return `${T("seq")} ${d.expected_seq} → ${d.received_seq}`;
    case "equivocation": return `${T("seq")} ${d.seq}`;
    case "imbalance": return `${d.day}: ${Fmt.m3(d.parent_m3)} − ${Fmt.m3(d.children_m3)} = ${Fmt.m3(d.imbalance_m3)} (${Fmt.pct(d.imbalance_pct)})`;
    case "night_flow": return `${d.day}: ${Fmt.num(d.min_m3h)} m³/h > ${Fmt.num(a.limit)} m³/h (${T("median")} ${Fmt.num(d.reference_m3h)} m³/h, ${d.reference_nights} ${T(d.day_kind === "rest" ? "rest_nights" : "working_nights")})`;
    case "over_plan": return `${d.year}: ${Fmt.m3(d.used_m3)} / ${Fmt.m3(d.plan_m3)} (+${Fmt.pct(d.over_pct)})`;
    case "quality": return `${Fmt.num(a.value, 2)} (${T("threshold")} ${Fmt.num(a.limit, 2)})`;
    default: return a.count > 1 ? `${T("count")} ${a.count}` : "";
  }
}

function alertTable(alerts, withAck) {
  if (!alerts.length) return `<p>${esc(T("none"))}</p>`;
  return `<table id="alerts-table"><thead><tr><th>${T("time")}</th><th>${T("kind")}</th><th>${T("enterprise")}</th>` +
    `<th>${T("meter")}</th><th>${T("status")}</th><th>${T("detail")}</th><th>${T("evidence")}</th><th>${T("acked_by")}</th></tr></thead>` +
    `<tbody>${alerts.map((a) => alertRow(a, withAck)).join("")}</tbody></table>`;
}

function canAck() { return S.who && S.who.role !== "enterprise"; }

function bindAcks(reload) {
  document.querySelectorAll("button.ack").forEach((b) => b.addEventListener("click", async () => {
    const by = prompt(T("ack_who"));
    if (!by) return;
    const note = prompt(T("ack_note")) || "";
    try { await post("/v1/monitor/ack", { alert: b.dataset.id, by, note }); reload(); } catch (e) { alert(e.message); }
  }));
}

/* ---- views ---- */

async function viewOverview() {
  const [o, al] = await Promise.all([api("/v1/monitor/overview"), api("/v1/monitor/alerts?status=open&limit=20")]);
  const cp = o.checkpoint ? `${Fmt.num(o.checkpoint.size, 0)} (${T("checkpoint_behind")} ${Fmt.num(o.checkpoint.behind, 0)})` : T("none");
  /* 「未锚定」 only when the node does not anchor */
  const anchor = !o.anchor ? T("not_anchored") : o.anchor.anchored_size
    ? `${T("anchored_at")} ${Fmt.num(o.anchor.anchored_size, 0)}${o.anchor.time ? " · " + Fmt.time(o.anchor.time) : ""}` : T("anchoring_pending");
  $("#view").innerHTML = `<h2>${T("overview")}</h2><div class="cards">` +
    card("ov-enterprises", T("enterprises"), Fmt.num(o.enterprises, 0)) +
    card("ov-meters", T("meters"), Fmt.num(o.meters.total, 0)) +
    card("ov-online", T("online"), Fmt.num(o.meters.online, 0)) +
    card("ov-offline", T("offline"), Fmt.num(o.meters.offline, 0), o.meters.offline > 0) +
    card("ov-readings-today", T("readings_today"), Fmt.num(o.readings_today, 0)) +
    card("ov-open-alerts", T("open_alerts"), Fmt.num(o.alerts.open, 0), o.alerts.open > 0) +
    card("ov-ledger", T("ledger_size"), Fmt.num(o.ledger.size, 0)) +
    card("ov-checkpoint", T("checkpoint"), cp) +
    card("ov-anchor", T("anchor"), anchor) +
    `</div><div class="panel"><h3>${T("recent_alerts")}</h3>${alertTable(al.alerts, true)}</div>` +
    `<div class="panel"><div id="kinds-chart" class="chart" style="height:260px"></div></div>`;
  $("#view").dataset.counts = JSON.stringify({ enterprises: o.enterprises, meters: o.meters.total,
    online: o.meters.online, offline: o.meters.offline, readings_today: o.readings_today, open_alerts: o.alerts.open });
  const kinds = Object.keys(o.alerts.open_by_kind).filter((k) => o.alerts.open_by_kind[k] > 0);
  chart($("#kinds-chart"), { tooltip: {}, xAxis: { type: "category", data: kinds.map((k) => T("k_" + k)) },
    yAxis: { type: "value", minInterval: 1 }, series: [{ type: "bar", data: kinds.map((k) => o.alerts.open_by_kind[k]), itemStyle: { color: "#c0392b" } }] });
  bindAcks(route);
  bindEvidence();
}

async function viewEnterprises() {
  const r = await api("/v1/monitor/enterprises");
  if (r.enterprises.length === 1 && S.who && S.who.role === "enterprise") { location.hash = "#/enterprise/" + encodeURIComponent(r.enterprises[0].enterprise); return; }
  $("#view").innerHTML = `<h2>${T("enterprise_list")}</h2><div class="row">${exportButtons("export-enterprises", { view: "enterprises" }, "enterprises")}</div>` +
    `<div class="panel"><table><thead><tr><th>${T("enterprise")}</th>` +
    `<th class="num">${T("meters")}</th><th class="num">${T("online")}</th><th class="num">${T("offline")}</th>` +
    `<th class="num">${T("open_alerts")}</th><th>${T("last_seen")}</th></tr></thead><tbody>` +
    r.enterprises.map((e) => `<tr><td>${entName(e)}${e.enterprise_label && e.enterprise_label.county ? ` <small>${esc(e.enterprise_label.county)}${e.enterprise_label.park ? " · " + esc(e.enterprise_label.park) : ""}</small>` : ""}</td>` +
      `<td class="num">${e.meters}</td><td class="num online">${e.online}</td><td class="num ${e.offline ? "offline" : ""}">${e.offline}</td>` +
      `<td class="num">${e.open_alerts}</td><td>${Fmt.time(e.last_time)}</td></tr>`).join("") + `</tbody></table></div>`;
  bindExports();
}

function sourceSeries(rows) {
  const sources = ["surface", "groundwater", "tap", "reclaimed", "rainwater", "mine_water"];
  return sources.filter((s) => rows.some((r) => r.intake[s] > 0)).map((s) => ({ name: T("s_" + s), type: "bar",
    stack: "intake", data: rows.map((r) => r.intake[s]) }));
}

async function viewEnterprise(id, params) {
  const q = new URLSearchParams({ id });
  if (params.get("from")) q.set("from", params.get("from"));
  if (params.get("to")) q.set("to", params.get("to"));
  const [e, al] = await Promise.all([api("/v1/monitor/enterprise?" + q), api("/v1/monitor/alerts?status=open&limit=50&enterprise=" + encodeURIComponent(id))]);
  const t = e.totals, plan = e.plan;
  const planHtml = plan ? `<div class="cards">${card("plan-m3", T("plan_m3") + " " + plan.year, Fmt.m3(plan.plan_m3))}` +
    card("plan-used", T("used"), Fmt.m3(plan.used_m3)) + card("plan-use", T("use_pct"), Fmt.pct(plan.use_pct), plan.use_pct > 100) +
    card("plan-over", T("over_pct"), Fmt.pct(plan.over_pct), plan.over_pct > 0) + `</div>`
    : `<p>${T("no_plan")} (${T("used")} ${e.year}: ${Fmt.m3(e.used_m3)})</p>`;
  const canPlan = !S.who || S.who.role !== "enterprise";
  const el = e.enterprise_label || {};
  const labelForm = canPlan ? `<form class="row label-form" id="ent-label"><strong>${T("label")}</strong>` +
    `<label>${T("name")} <input name="name" size="24" maxlength="96" value="${esc(el.name || "")}"></label>` +
    `<label>${T("county")} <input name="county" size="10" maxlength="96" value="${esc(el.county || "")}"></label>` +
    `<label>${T("park")} <input name="park" size="14" maxlength="96" value="${esc(el.park || "")}"></label>` +
    `<label>${T("label_by")} <input name="by" size="8" maxlength="64" required></label><button>${T("set_label")}</button></form>` +
    `<p class="hint">${T("label_note")}</p>` : "";
  const today = Fmt.day(Date.now());
  const partial = new Set(e.days.length ? [e.days[0].day, today] : [today]);
  $("#view").innerHTML = `<h2 id="ent-title">${esc(e.enterprise_name || e.enterprise)} <small class="mono id" id="ent-id">${esc(e.enterprise)}</small>` +
    `${el.county || el.park ? ` <small>${esc([el.county, el.park].filter(Boolean).join(" · "))}</small>` : ""}</h2>` + labelForm +
    `<form class="row" id="win"><label>${T("from")} <input type="date" name="from" value="${e.from}"></label>` +
    `<label>${T("to_incl")} <input type="date" name="to" value="${Fmt.day(Fmt.dayStart(e.to) - 86400000)}"></label><button>${T("apply")}</button></form>` +
    `<div class="cards">${card("ent-intake", T("intake"), Fmt.m3(t.intake_total))}${card("ent-recycled", T("recycled"), Fmt.m3(t.recycled))}` +
    `${card("ent-reuse", T("reuse_rate"), Fmt.pct(t.reuse_rate))}${card("ent-nonconv", T("nonconv_share"), Fmt.pct(t.nonconventional_share))}` +
    `${card("ent-discharge", T("discharge"), Fmt.m3(t.discharge))}</div>` +
    `<div class="row">${exportButtons("export-ent", { view: "enterprise", id, from: e.from, to: e.to }, `${id}-${e.from}-${e.to}`)}` +
    `<form class="row" id="report-form"><strong>${T("report")}</strong><input type="month" name="month" value="${today.slice(0, 7)}">` +
    `<button name="fmt" value="csv">CSV</button><button name="fmt" value="xlsx">Excel</button></form></div>` +
    `<div class="panel"><h3>${T("daily")} · ${T("trend")}</h3><div id="daily-chart" class="chart"></div></div>` +
    `<div class="panel"><h3>${T("monthly")}</h3><div id="monthly-chart" class="chart"></div>${monthTable(e.months)}</div>` +
    `<div class="panel"><h3>${T("plan")}</h3>${planHtml}${canPlan ? `<form class="row" id="plan-form"><label>${T("plan_year")} <input name="year" size="5" value="${plan ? plan.year : e.year}"></label>` +
      `<label>${T("plan_m3")} (m³) <input name="plan_m3" size="10"></label><button>${T("set_plan")}</button></form>` : ""}</div>` +
    `<div class="panel"><h3>${T("plan_by_month")}</h3><div id="plan-chart" class="chart" style="height:260px"></div></div>` +
    `<div class="panel"><h3>${T("value_added")}</h3>${vaTable(e.value_added || [])}${canPlan ? `<form class="row" id="va-form">` +
      `<label>${T("plan_year")} <input name="year" size="5" value="${plan ? plan.year : e.year}"></label>` +
      `<label>${T("va_amount")} <input name="value_added_10k_cny" size="10"></label>` +
      `<label>${T("label_by")} <input name="by" size="8" maxlength="64" required></label><button>${T("save")}</button></form>` : ""}</div>` +
    `<div class="panel"><h3>${T("production")}</h3>${prodTable(e.production)}<form class="row" id="prod-form">` +
    `<label>${T("month")} <input name="month" size="8" placeholder="2026-01"></label><label>${T("product")} <select name="product" id="products"></select></label>` +
    `<label>${T("quantity")} <input name="quantity" size="10"></label><button>${T("add_production")}</button></form></div>` +
    `<div class="panel"><h3>${T("meters")}</h3>${meterTable(e.meters)}</div>` +
    `<div class="panel"><h3>${T("alerts")}</h3>${alertTable(al.alerts, true)}</div>`;
  const days = e.days;
  const marks = days.filter((d) => partial.has(d.day)).map((d) => [{ name: T("partial_day"), xAxis: d.day }, { xAxis: d.day }]);
  const dseries = sourceSeries(days);
  if (dseries.length && marks.length) dseries[0].markArea = { silent: true, itemStyle: { color: "rgba(185,119,14,0.12)" }, label: { fontSize: 11 }, data: marks };
  chart($("#daily-chart"), { legend: { top: 0 }, xAxis: { type: "category", data: days.map((d) => d.day),
      axisLabel: { formatter: (v) => partial.has(v) ? v + "*" : v } },
    yAxis: [{ type: "value", name: "m³" }, { type: "value", name: "%", min: 0, max: 100 }],
    dataZoom: [{ type: "inside" }, { type: "slider", height: 18, bottom: 5 }],
    series: dseries.concat([{ name: T("recycled"), type: "line", data: days.map((d) => d.recycled) },
      { name: T("discharge"), type: "line", data: days.map((d) => d.discharge) },
      { name: T("reuse_rate"), type: "line", yAxisIndex: 1, data: days.map((d) => d.reuse_rate) }]) });
  chart($("#monthly-chart"), { legend: { top: 0 }, xAxis: { type: "category", data: e.months.map((m) => m.month) },
    yAxis: { type: "value", name: "m³" }, series: sourceSeries(e.months).concat([{ name: T("recycled"), type: "bar", data: e.months.map((m) => m.recycled) }]) });
  $("#win").addEventListener("submit", (ev) => { ev.preventDefault(); const f = new FormData(ev.target);
    location.hash = `#/enterprise/${encodeURIComponent(id)}?from=${f.get("from")}&to=${Fmt.day(Fmt.dayStart(f.get("to")) + 86400000)}`; }); /* inclusive end */
  $("#report-form").addEventListener("submit", async (ev) => { ev.preventDefault();
    const month = new FormData(ev.target).get("month"), fmt = ev.submitter ? ev.submitter.value : "xlsx";
    const a = document.createElement("a");
    a.className = "export-link";
    a.href = `/v1/monitor/export?${new URLSearchParams({ view: "report", enterprise: id, month, format: fmt })}`;
    a.dataset.name = `用水统计月报-${id}-${month}.${fmt}`;
    document.body.appendChild(a); bindExportOne(a); a.click(); a.remove(); });
  bindExports();
  const pm = e.plan_months || [];
  chart($("#plan-chart"), { legend: { top: 0 }, xAxis: { type: "category", data: pm.map((x) => x.month) },
    yAxis: { type: "value", name: "m³" }, series: [{ name: T("used_month"), type: "bar", data: pm.map((x) => x.used_m3) },
      { name: T("used_cumulative"), type: "line", data: pm.map((x) => x.cumulative_m3),
        markLine: plan ? { symbol: "none", lineStyle: { color: "#c0392b", type: "dashed" }, label: { position: "insideEndTop", formatter: T("plan_m3") + " {c}" },
          data: [{ yAxis: plan.plan_m3 }] } : undefined }] });
  if ($("#va-form")) $("#va-form").addEventListener("submit", async (ev) => { ev.preventDefault(); const f = new FormData(ev.target);
    try { await post("/v1/monitor/value_added", { enterprise: id, year: Number(f.get("year")), value_added_10k_cny: f.get("value_added_10k_cny"), by: f.get("by") }); route(); }
    catch (x) { alert(errText(x)); } });
  if ($("#ent-label")) $("#ent-label").addEventListener("submit", async (ev) => { ev.preventDefault(); const f = new FormData(ev.target);
    try { await post("/v1/monitor/labels", { enterprise: id, name: f.get("name"), county: f.get("county"), park: f.get("park"), by: f.get("by") }); route(); }
    catch (x) { alert(errText(x)); } });
  if ($("#plan-form")) $("#plan-form").addEventListener("submit", async (ev) => { ev.preventDefault(); const f = new FormData(ev.target);
    try { await post("/v1/monitor/plans", { enterprise: id, year: Number(f.get("year")), plan_m3: f.get("plan_m3") }); route(); } catch (x) { alert(x.message); } });
  const qs = await api("/v1/monitor/quotas");
  $("#products").innerHTML = qs.quotas.map((q) => `<option value="${q.product}">${esc(S.lang === "zh" ? q.zh : q.en)} (${q.unit})</option>`).join("");
  $("#prod-form").addEventListener("submit", async (ev) => { ev.preventDefault(); const f = new FormData(ev.target);
    try { await post("/v1/monitor/production", { enterprise: id, month: f.get("month"), product: f.get("product"), quantity: f.get("quantity") }); route(); } catch (x) { alert(x.message); } });
  bindAcks(route);
  bindEvidence();
}

function monthTable(months) {
  return `<table><thead><tr><th>${T("month")}</th><th class="num">${T("intake")}</th><th class="num">${T("recycled")}</th>` +
    `<th class="num">${T("reuse_rate")}</th><th class="num">${T("nonconv_share")}</th><th class="num">${T("discharge")}</th></tr></thead><tbody>` +
    months.map((m) => `<tr><td>${m.month}</td><td class="num">${Fmt.m3(m.intake_total)}</td><td class="num">${Fmt.m3(m.recycled)}</td>` +
      `<td class="num">${Fmt.pct(m.reuse_rate)}</td><td class="num">${Fmt.pct(m.nonconventional_share)}</td><td class="num">${Fmt.m3(m.discharge)}</td></tr>`).join("") +
    `</tbody></table>`;
}

function vaTable(rows) {
  if (!rows.length) return `<p>${T("none")}</p>`;
  return `<table id="va-table"><thead><tr><th>${T("plan_year")}</th><th class="num">${T("va_amount")}</th><th class="num">${T("intake")}</th>` +
    `<th class="num">${T("m3_per_10k")}</th><th>${T("label_by")}</th></tr></thead><tbody>` +
    rows.map((v) => `<tr><td>${v.year}</td><td class="num">${Fmt.num(v.value_added_10k_cny, 2)}</td><td class="num">${Fmt.m3(v.intake_m3)}</td>` +
      `<td class="num">${Fmt.num(v.m3_per_10k_cny, 2)} m³</td><td>${esc(v.by)} · ${Fmt.time(v.time)}</td></tr>`).join("") + `</tbody></table>`;
}

function prodTable(rows) {
  if (!rows.length) return `<p>${T("none")}</p>`;
  return `<table><thead><tr><th>${T("month")}</th><th>${T("product")}</th><th class="num">${T("quantity")}</th><th class="num">${T("intake")}</th>` +
    `<th class="num">${T("per_unit")}</th><th class="num">${T("quota")}</th><th class="num">${T("quota_ratio")}</th></tr></thead><tbody>` +
    rows.map((p) => `<tr class="${p.over_quota ? "flagged" : ""}"><td>${p.month}</td><td>${esc(p.product)}</td><td class="num">${Fmt.num(p.quantity)} ${esc(p.unit)}</td>` +
      `<td class="num">${Fmt.m3(p.intake_m3)}</td><td class="num">${Fmt.num(p.m3_per_unit, 3)} m³/${esc(p.unit)}</td><td class="num" title="${esc(p.quota_source || "")}">${p.quota === null ? T("no_quota") : Fmt.num(p.quota, 2)}</td>` +
      `<td class="num">${Fmt.num(p.quota_ratio, 2)}</td></tr>`).join("") + `</tbody></table>`;
}

function meterTable(meters) {
  return `<table><thead><tr><th>${T("meter")}</th><th>${T("point")}</th><th class="num">${T("tier")}</th><th>${T("source")}</th>` +
    `<th>${T("parent")}</th><th>${T("status")}</th><th>${T("last_seen")}</th><th>${T("flags")}</th></tr></thead><tbody>` +
    meters.map((m) => `<tr><td>${meterName(m)}${m.label && m.label.purpose ? ` <small>${esc(m.label.purpose)}</small>` : ""}</td><td>${T("p_" + m.point)}</td>` +
      `<td class="num">${m.tier}</td><td>${T("s_" + m.source)}</td><td>${m.parent ? meterName({ meter: m.parent, label: (meters.find((x) => x.meter === m.parent) || {}).label }) : "—"}</td>` +
      `<td class="${m.online ? "online" : "offline"}">${m.revoked ? T("revoked") : m.online ? T("online") : T("offline")}</td>` +
      `<td>${Fmt.time(m.last_time)}</td><td>${m.last_flags.map((f) => T("f_" + f)).join(", ") || "—"}</td></tr>`).join("") + `</tbody></table>`;
}

async function viewBalance(params) {
  const q = new URLSearchParams();
  const day = (s) => s ? new Date(Fmt.dayStart(s)).toISOString() : null;
  if (params.get("from")) q.set("from", day(params.get("from")));
  if (params.get("to")) q.set("to", new Date(Fmt.dayStart(params.get("to")) + 86400000).toISOString()); /* inclusive */
  const b = await api("/v1/monitor/balance?" + q);
  const cst = (iso) => Fmt.day(iso);
  $("#view").innerHTML = `<h2>${T("balance")}</h2><p>${T("balance_text")} · ${T("threshold")} ${Fmt.pct(b.threshold_pct)}</p>` +
    `<form class="row" id="win"><label>${T("from")} <input type="date" name="from" value="${cst(b.from)}"></label>` +
    `<label>${T("to_incl")} <input type="date" name="to" value="${Fmt.day(Date.parse(b.to) - 1)}"></label><button>${T("apply")}</button></form>` +
    `<div class="row">${exportButtons("export-balance", Object.assign({ view: "balance" }, Object.fromEntries(q)), "balance-" + cst(b.from))}</div>` +
    `<div class="panel"><table id="balance-table"><thead><tr><th>${T("enterprise")}</th><th>${T("meter")}</th><th class="num">${T("parent_volume")}</th>` +
    `<th class="num">${T("children")}</th><th class="num">${T("children_sum")}</th><th class="num">${T("imbalance")}</th>` +
    `<th class="num">${T("imbalance_pct")}</th><th>${T("status")}</th></tr></thead><tbody>` +
    b.rows.map((r) => `<tr class="${r.flagged ? "flagged" : ""}" data-flagged="${r.flagged}"><td>${entName(r)}</td>` +
      `<td>${meterName(r)}</td><td class="num">${Fmt.m3(r.volume)}</td>` +
      `<td class="num">${r.children.length}</td><td class="num">${Fmt.m3(r.children_sum)}</td><td class="num">${Fmt.m3(r.imbalance_m3)}</td>` +
      `<td class="num">${Fmt.pct(r.imbalance_pct)}</td><td>${r.flagged ? T("flagged") : T("ok")}</td></tr>`).join("") +
    `</tbody></table></div><div class="panel"><div id="balance-chart" class="chart"></div></div>`;
  chart($("#balance-chart"), { legend: { top: 0 }, xAxis: { type: "category", data: b.rows.map((r) => meterText(r)) },
    yAxis: { type: "value", name: "m³" }, series: [{ name: T("parent_volume"), type: "bar", data: b.rows.map((r) => r.volume) },
      { name: T("children_sum"), type: "bar", data: b.rows.map((r) => r.children_sum) }] });
  $("#win").addEventListener("submit", (ev) => { ev.preventDefault(); const f = new FormData(ev.target);
    location.hash = `#/balance?from=${f.get("from")}&to=${f.get("to")}`; });
  bindExports();
}

const KINDS = ["silent", "sequence_gap", "equivocation", "tamper", "power_loss", "reverse_flow", "quality", "night_flow", "imbalance", "over_plan"];

/* Alerts, filtered as the API allows (status, kind, enterprise, meter), a page at a time. */
async function viewAlerts(params) {
  const status = params.get("status") || "open";
  const q = new URLSearchParams({ limit: "500", status });
  ["kind", "enterprise", "meter", "after"].forEach((k) => { if (params.get(k)) q.set(k, params.get(k)); });
  const r = await api("/v1/monitor/alerts?" + q);
  const opt = (v, label, cur) => `<option value="${esc(v)}"${v === cur ? " selected" : ""}>${esc(label)}</option>`;
  const next = r.next ? (() => { const p = new URLSearchParams(params); p.set("after", r.next); return `<a id="alerts-next" href="#/alerts?${p}">›› ${T("next_page")}</a>`; })() : "";
  $("#view").innerHTML = `<h2>${T("alerts")}</h2><form class="row" id="alert-filter">` +
    `<label>${T("status")} <select name="status">${["open", "ongoing", "acknowledged", "all"].map((v) => opt(v, T("st_" + v), status)).join("")}</select></label>` +
    `<label>${T("kind")} <select name="kind">${opt("", T("kind_any"), params.get("kind") || "")}${KINDS.map((k) => opt(k, T("k_" + k), params.get("kind") || "")).join("")}</select></label>` +
    `<label>${T("enterprise_id")} <input name="enterprise" size="20" value="${esc(params.get("enterprise") || "")}"></label>` +
    `<label>${T("meter_id")} <input name="meter" size="20" value="${esc(params.get("meter") || "")}"></label>` +
    `<button>${T("filter")}</button> <span id="alerts-total">${Fmt.num(r.total, 0)}</span> ${next}</form>` +
    `<div class="row">${exportButtons("export-alerts", Object.assign({ view: "alerts" }, Object.fromEntries(q)), "alerts")}</div>` +
    `<div class="panel">${alertTable(r.alerts, true)}</div>`;
  bindExports();
  $("#alert-filter").addEventListener("submit", (ev) => { ev.preventDefault(); const f = new FormData(ev.target); const p = new URLSearchParams();
    for (const [k, v] of f.entries()) if (v) p.set(k, String(v).trim());
    location.hash = "#/alerts?" + p; });
  bindAcks(route);
  bindEvidence();
}

const CHANNELS = ["flow", "ph", "conductivity", "turbidity", "pressure", "temperature", "fluorescence"];

const QUALITY_LIMITS = { ph: ["ph_min", "ph_max"], conductivity: [null, "conductivity_max"], turbidity: [null, "turbidity_max"] };
const UNIT = { "m3": "m³", "m3/h": "m³/h", "uS/cm": "µS/cm" };

/* A meter: its label (bureau), volume and quantities over a window of local days (end
 * inclusive) by hour or day, threshold lines on quality charts, partial buckets marked. */
async function viewMeter(id, params) {
  const q = new URLSearchParams({ id });
  if (params.get("from")) q.set("from", new Date(Fmt.dayStart(params.get("from"))).toISOString());
  if (params.get("to")) q.set("to", new Date(Fmt.dayStart(params.get("to")) + 86400000).toISOString());
  if (params.get("bucket")) q.set("bucket", params.get("bucket"));
  const [m, st] = await Promise.all([api("/v1/monitor/meter?" + q), api("/v1/monitor/settings")]);
  const series = m.series;
  const present = CHANNELS.filter((c) => series.some((s) => s.values[c]));
  const gaps = m.sequence_gaps.length ? alertTable(m.sequence_gaps, false) : `<p>${T("no_gaps")}</p>`;
  const flags = Object.keys(m.flag_counts).filter((f) => m.flag_counts[f] > 0).map((f) => `${T("f_" + f)} × ${m.flag_counts[f]}`).join(", ") || T("none");
  const fromDay = Fmt.day(m.from), toDay = Fmt.day(Date.parse(m.to) - 1); /* inclusive */
  const l = m.label || {};
  const canLabel = S.who && S.who.role !== "enterprise";
  const labelForm = canLabel ? `<form class="row label-form" id="meter-label"><strong>${T("label")}</strong>` +
    `<label>${T("number")} <input name="number" size="10" maxlength="96" value="${esc(l.number || "")}"></label>` +
    `<label>${T("location")} <input name="location" size="18" maxlength="96" value="${esc(l.location || "")}"></label>` +
    `<label>${T("purpose")} <input name="purpose" size="12" maxlength="96" value="${esc(l.purpose || "")}"></label>` +
    `<label>${T("label_by")} <input name="by" size="8" maxlength="64" required></label><button>${T("set_label")}</button></form>` +
    `<p class="hint">${T("label_note")}</p>` : "";
  $("#view").innerHTML = `<h2 id="meter-title">${T("meter_view")} ${esc(meterText(m))} <small class="mono id">${short(m.meter)}</small></h2>` +
    `<div class="cards">${card("m-ent", T("enterprise"), m.enterprise_name || m.enterprise)}${card("m-point", T("point"), T("p_" + m.point) + " · " + T("tier") + " " + m.tier)}` +
    `${card("m-source", T("source"), T("s_" + m.source))}${card("m-status", T("status"), m.revoked ? T("revoked") : m.online ? T("online") : T("offline"), !m.online)}` +
    `${card("m-last", T("last_seen"), Fmt.time(m.last_time))}${card("m-seq", T("last_seq"), Fmt.num(m.last_seq, 0))}` +
    `${card("m-interval", T("interval"), Fmt.ms(m.interval_ms))}</div>` +
    `<div class="panel"><div class="row">${T("meter_id")}: <span class="mono" id="meter-id">${m.meter}</span> · ${entName(m)}</div>` +
    `${l.purpose ? `<div class="row">${T("purpose")}: ${esc(l.purpose)}</div>` : ""}<div class="row">${T("flags")}: ${esc(flags)}</div>${labelForm}` +
    `<form class="row" id="win"><label>${T("from")} <input type="date" name="from" value="${fromDay}"></label>` +
    `<label>${T("to_incl")} <input type="date" name="to" value="${toDay}"></label>` +
    `<label>${T("bucket")} <select name="bucket"><option value="hour"${m.bucket === "hour" ? " selected" : ""}>${T("b_hour")}</option>` +
    `<option value="day"${m.bucket === "day" ? " selected" : ""}>${T("b_day")}</option></select></label><button>${T("apply")}</button>` +
    `<small>${T("zone")} UTC${Fmt.zone}</small></form>` +
    `<form class="row" id="bundle-form"><strong>${T("bundle_range")}</strong><label>${T("from")} <input type="date" name="from" value="${fromDay}"></label>` +
    `<label>${T("to_incl")} <input type="date" name="to" value="${toDay}"></label>` +
    `<button id="bundle">${T("download_bundle")}</button><span id="bundle-msg"></span></form></div>` +
    `<div class="row">${exportButtons("export-meter", Object.assign({ view: "meter" }, Object.fromEntries(q)), `meter-${m.meter.slice(0, 16)}-${fromDay}-${toDay}`)}</div>` +
    `<div class="panel"><h3>${T("volume_per")}</h3><div id="vol-chart" class="chart"></div></div>` +
    present.map((c) => `<div class="panel"><h3>${T(c)}</h3><div id="ch-${c}" class="chart" style="height:240px"></div></div>`).join("") +
    `<div class="panel"><h3>${T("seq_gaps")}</h3>${gaps}</div>` +
    `<div class="panel"><h3>${T("recent_readings")}</h3><table><thead><tr><th class="num">${T("index")}</th><th class="num">${T("seq")}</th>` +
    `<th>${T("time")}</th><th>${T("flags")}</th><th>${T("values")}</th></tr></thead><tbody>` +
    m.recent.map((r) => `<tr><td class="num mono">${r.index}</td><td class="num">${r.reading.seq}</td><td>${Fmt.time(r.reading.time)}</td>` +
      `<td>${r.reading.flags.map((f) => T("f_" + f)).join(", ") || "—"}</td>` +
      `<td>${r.reading.measurements.map((x) => `${esc(T("q_" + x.quantity))} ${esc(x.value)} ${esc(UNIT[x.unit] || x.unit)}`).join("; ")}</td></tr>`).join("") +
    `</tbody></table></div>`;
  /* the bucket that holds now is partial: marked */
  const len = m.bucket === "day" ? 86400000 : 3600000, now = Date.now();
  const partial = series.filter((s) => s.t + len > now).map((s) => [{ name: T("partial_day"), xAxis: local(s.t) }, { xAxis: local(s.t) + len }]);
  chart($("#vol-chart"), { xAxis: TIME_AXIS(), yAxis: { type: "value", name: "m³" },
    series: [{ name: T("volume_per"), type: "bar", data: series.map((s) => [local(s.t), s.volume]),
      markArea: partial.length ? { silent: true, itemStyle: { color: "rgba(185,119,14,0.12)" }, data: partial } : undefined }] });
  present.forEach((c) => {
    const lim = (QUALITY_LIMITS[c] || []).filter(Boolean).map((k) => ({ name: T("threshold"), yAxis: st[k] }));
    const lines = ["avg", "min", "max"].map((k) => ({ name: T(k), type: "line", showSymbol: false,
      data: series.filter((s) => s.values[c]).map((s) => [local(s.t), s.values[c][k]]) }));
    if (lim.length) lines[0].markLine = { symbol: "none", lineStyle: { color: "#c0392b", type: "dashed" },
      label: { position: "insideEndTop", formatter: (p) => `${T("threshold")} ${p.value}` }, data: lim };
    /* the axis reaches the thresholds, so their lines are always drawn */
    const ys = lim.map((x) => x.yAxis).filter((v) => typeof v === "number");
    const pad = (v) => Math.abs(v) * 0.02 + 0.01;
    chart($("#ch-" + c), { legend: { top: 0 }, xAxis: TIME_AXIS(), yAxis: { type: "value", scale: true,
      min: ys.length ? (v) => +(Math.min(v.min, ...ys) - pad(Math.min(v.min, ...ys))).toPrecision(3) : null,
      max: ys.length ? (v) => +(Math.max(v.max, ...ys) + pad(Math.max(v.max, ...ys))).toPrecision(3) : null }, series: lines });
  });
  bindExports();
  $("#win").addEventListener("submit", (ev) => { ev.preventDefault(); const f = new FormData(ev.target);
    location.hash = `#/meter/${m.meter}?from=${f.get("from")}&to=${f.get("to")}&bucket=${f.get("bucket")}`; });
  if ($("#meter-label")) $("#meter-label").addEventListener("submit", async (ev) => { ev.preventDefault(); const f = new FormData(ev.target);
    try { await post("/v1/monitor/labels", { meter: m.meter, number: f.get("number"), location: f.get("location"), purpose: f.get("purpose"), by: f.get("by") }); route(); }
    catch (x) { alert(errText(x)); } });
  $("#bundle-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    /* local days, end inclusive: [start of from, start of the day after to) */
    const from = Fmt.dayStart(f.get("from")), to = Fmt.dayStart(f.get("to")) + 86400000;
    const url = `/v1/bundle?meter=${m.meter}&from=${from}&to=${to}`;
    const r = await fetch(url, { headers: S.token ? { Authorization: "Bearer " + S.token } : {} });
    if (!r.ok) { let d = ""; try { d = (await r.json()).detail; } catch (e) { d = r.status; }
      $("#bundle-msg").textContent = T("error") + ": " + (S.lang === "zh" ? errText({ status: r.status }) : d); return; }
    const blob = await r.blob();
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `bundle-${m.meter.slice(0, 16)}-${f.get("from")}-${f.get("to")}.json`;
    a.click();
  });
  bindEvidence();
}

/* ---- routing ---- */

async function route() {
  clearCharts();
  applyLang();
  const h = location.hash || "#/overview";
  const [path, qs] = h.slice(1).split("?");
  const params = new URLSearchParams(qs || "");
  const parts = path.split("/").filter(Boolean);
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.getAttribute("href") === "#/" + parts[0]));
  $("#view").innerHTML = `<p>${T("loading")}</p>`;
  try {
    if (!S.who) {
      S.who = await api("/v1/monitor/whoami");
      if (typeof S.who.zone_ms === "number") { Fmt.zoneMs = S.who.zone_ms; Fmt.zone = S.who.zone; }
      $("#who").textContent = S.who.enterprise || "";
    }
    $("#login").hidden = true;
    switch (parts[0]) {
      case "enterprises": await viewEnterprises(); break;
      case "enterprise": await viewEnterprise(decodeURIComponent(parts[1] || ""), params); break;
      case "balance": await viewBalance(params); break;
      case "alerts": await viewAlerts(params); break;
      case "meter": await viewMeter(parts[1], params); break;
      default: await viewOverview();
    }
    $("#updated").textContent = T("updated") + " " + Fmt.time(Date.now());
    document.body.dataset.ready = "1";
  } catch (e) {
    if (e.status !== 401) $("#view").innerHTML = `<p class="error" title="${esc(e.message)}">${T(e.status === 403 ? "forbidden" : "error")}: ${esc(errText(e))}</p>`;
    document.body.dataset.ready = "1";
  }
}

$("#lang").addEventListener("click", () => { S.lang = S.lang === "zh" ? "en" : "zh"; localStorage.setItem("wn_lang", S.lang); route(); });
$("#logout").addEventListener("click", () => { sessionStorage.removeItem("wn_token"); S.token = ""; S.who = null; showLogin(); });
$("#login-form").addEventListener("submit", (ev) => { ev.preventDefault(); S.token = $("#token").value.trim();
  sessionStorage.setItem("wn_token", S.token); S.who = null; route(); });
window.addEventListener("hashchange", route);
setInterval(() => { if (!document.hidden && (location.hash || "#/overview").startsWith("#/overview")) route(); }, 60000);
route();
