// panels.js: the stat row, the decision log and the incident list, drawn as
// HTML from a store at the view's cursor.
import { lowerBound } from "./store.js";
import { fmtNum } from "./charts.js";

const $ = (sel) => document.querySelector(sel);
const HOUR = 3600000;

export function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export function fmtTime(ms, withDate) {
  const d = new Date(ms);
  const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  return withDate ? d.toLocaleDateString([], { month: "short", day: "numeric" }) + " " + t : t;
}

function lastOf(series, col, cursor) {
  const i = lowerBound(series.ts, cursor + 1) - 1;
  for (let j = i; j >= 0 && j > i - 5; j--) {
    const v = series.cols[col][j];
    if (v != null) return v;
  }
  return null;
}

function stat(name, value, unit, hint, cls = "") {
  return `<div class="panel stat ${cls}"><div class="name">${name}</div><div class="value">${value}<small>${unit}</small></div><div class="hint">${hint}</div></div>`;
}

// renderStats fills the stat row for a tier (undefined: no data; noApps:
// nothing published at all).
export function renderStats(tier, v, noApps) {
  if (!tier) {
    const none = noApps;
    $("#stats").innerHTML = `<div class="panel stat wide"><div class="name">${none ? "No application yet" : "Waiting for data"}</div>` +
      `<div class="hint">${none ? "No app has published metrics on this NATS yet: start the pipeline (go run ./services/headroom) or a collector, and it appears here." : "Nothing recorded for this tier in the window; pick a longer window or another tier."}</div></div>`;
    return;
  }
  const m = tier.metrics;
  const rps = lastOf(m, "rps", v.cursor);
  const p95 = lastOf(m, "latency_p95_ms", v.cursor);
  const p99 = lastOf(m, "latency_p99_ms", v.cursor);
  const cpu = lastOf(m, "cpu", v.cursor);
  const err = lastOf(m, "error_rate", v.cursor);
  const ready = lastOf(m, "replicas", v.cursor);
  const desired = lastOf(tier.desired, "desired", v.cursor);
  let next = null;
  const at = Math.min(v.cursor, m.last) + HOUR;
  for (const [ts, p] of tier.forecast) if (ts <= at && p.origin <= v.cursor && (!next || ts > next.ts)) next = { ts, ...p };
  const open = [...tier.incidents.values()].filter((i) => i.start <= v.cursor && (!i.end || i.end > v.cursor));
  $("#stats").innerHTML = [
    stat("Request rate", fmtNum(rps), "req/s", next ? `forecast ${fmtNum(next.yhat)} (${fmtNum(next.lo)}–${fmtNum(next.hi)}) in 1 h` : "no forecast yet"),
    stat("Latency p95", fmtNum(p95), "ms", `p99 ${fmtNum(p99)} ms`, p95 > 500 ? "bad" : p95 > 250 ? "warn" : ""),
    stat("CPU", cpu == null ? "–" : fmtNum(cpu * 100), "%", "per ready replica", cpu > 0.9 ? "bad" : cpu > 0.75 ? "warn" : ""),
    stat("Error rate", err == null ? "–" : fmtNum(err * 100), "%", "of requests", err > 0.05 ? "bad" : err > 0.01 ? "warn" : ""),
    stat("Replicas", ready == null ? "–" : String(ready), desired != null ? ` / ${desired}` : "", "ready / desired", desired != null && ready < desired ? "warn" : ""),
    stat("Incidents", String(open.length), "open", open.length ? open.map((i) => i.kind).join(", ") : "all quiet", open.length ? "bad" : "good"),
  ].join("");
}

let logKey = "";

// resetLogs forces the next renderLogs to redraw.
export function resetLogs() {
  logKey = "";
}

// reasonHTML writes a decision's reason: the decision itself, then each
// further clause as a note. A note that would contradict the action (a
// scale-up "not scaling up on" a performance incident) says what it means.
function reasonHTML(d) {
  const parts = String(d.reason || "").split("; ");
  const main = parts.shift();
  const notes = parts.map((p) => {
    if (d.action === "up" && /not scaling up on it/.test(p)) {
      p = "performance incident open (latency or errors up without more demand): it adds no replicas; this scale-up is for demand";
    }
    return `<div class="note">${esc(p)}</div>`;
  });
  return esc(main) + notes.join("");
}

// renderLogs fills the decision log and the incident list for the selected
// tier (or all tiers with opts.all); holds are listed when opts.holds. It
// redraws only when something changed.
export function renderLogs(store, v, selTier, withDate, opts = {}) {
  const holds = !!opts.holds;
  const all = !!opts.all;
  const cmp = opts.cmp || null;
  const key = [store ? store.app : "", store ? store.version : 0, Math.floor(v.min / 10000), Math.floor(v.cursor / 1000), holds, all, selTier, withDate, opts.thinned,
    cmp ? cmp.app + cmp.version : ""].join("|");
  if (key === logKey) return;
  logKey = key;
  const decs = store ? [...store.decisions.values()].filter((d) => d.ts <= v.cursor && d.ts >= v.min && (holds || d.action !== "hold") && (all || d.tier === selTier)) : [];
  decs.sort((a, b) => b.ts - a.ts);
  // With an overlay, the other app's decision at the same tick and tier.
  const other = new Map();
  if (cmp) for (const d of cmp.decisions.values()) other.set(d.tier + "@" + d.ts, d);
  let differ = 0;
  for (const d of decs) {
    const o = other.get(d.tier + "@" + d.ts);
    if (o && o.to !== d.to) differ++;
  }
  $("#dec-count").textContent = (decs.length ? `${decs.length} in window` : "") + (holds && opts.thinned ? " · holds sampled" : "") +
    (cmp ? ` · ${differ} differ from ${cmp.app}` : "");
  $("#dec-empty").hidden = decs.length > 0;
  $("#dec-empty").textContent = holds ? "No decisions in this window yet." : "No scaling decisions in this window (holds are hidden).";
  $("#decisions tbody").innerHTML = decs
    .slice(0, 200)
    .map((d) => {
      let flags = (d.flags || []).map((f) => `<span class="chip">${esc(f)}</span>`).join("");
      const o = other.get(d.tier + "@" + d.ts);
      if (o && o.to !== d.to) flags += `<span class="chip differ" title="${esc(o.reason)}">${esc(cmp.app)}: ${o.from} → ${o.to}</span>`;
      return `<tr data-tier="${esc(d.tier)}" class="${d.tier === selTier ? "sel" : ""}"><td class="t">${fmtTime(d.ts, withDate)}</td><td><span class="badge tier">${esc(d.tier)}</span></td>` +
        `<td><span class="badge ${esc(d.action)}">${d.action === "up" ? "▲ up" : d.action === "down" ? "▼ down" : "hold"}</span></td>` +
        `<td class="mono">${d.from} → ${d.to}</td><td class="reason">${reasonHTML(d)}${flags ? "<div>" + flags + "</div>" : ""}</td></tr>`;
    })
    .join("");
  const incs = [];
  if (store) for (const t of store.tiers.values()) for (const i of t.incidents.values()) if ((all || i.tier === selTier) && i.start <= v.cursor && (!i.end || i.end >= v.min)) incs.push(i);
  incs.sort((a, b) => b.start - a.start);
  $("#inc-count").textContent = incs.length ? `${incs.length} in window` : "";
  $("#inc-empty").hidden = incs.length > 0;
  $("#incidents").innerHTML = incs
    .slice(0, 100)
    .map((i) => {
      const open = !i.end || i.end > v.cursor;
      const span = `${fmtTime(i.start, withDate)} – ${open ? "now" : fmtTime(i.end, false)}`;
      return `<li data-tier="${esc(i.tier)}" class="${esc(i.kind)}"><div class="head"><span class="badge tier">${esc(i.tier)}</span><span class="kind">${esc(i.kind)}</span>` +
        `${open ? '<span class="open">open</span>' : ""}<span class="when">${span}</span></div>` +
        `<div class="ev">severity ${fmtNum(i.severity)} · ${esc(i.evidence.join(" · "))}</div></li>`;
    })
    .join("");
}


const STATUS_TEXT = { ok: "ok", incident: "incident", scaling: "scaling", stale: "stale data" };

function fmtAgo(ms, now) {
  if (!ms) return "never";
  const s = Math.max(0, (now - ms) / 1000);
  if (s < 90) return `${Math.round(s)} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
export { fmtAgo };

// renderFleet fills the fleet table: one row per app and tier.
export function renderFleet(fleet) {
  const rows = [];
  const apps = fleet ? fleet.apps : [];
  for (const a of apps) {
    const budget = a.budget_per_hour > 0 ? ` / ${a.budget_per_hour.toFixed(2)}` : " · no budget";
    a.tiers.forEach((t, i) => {
      const n = (x) => (x == null ? "–" : String(x));
      const load = t.load == null ? "–" : fmtNum(t.load);
      const fc = t.forecast == null ? "" : ` → ${fmtNum(t.forecast)}`;
      const cap = t.capacity_learned ? `learned · ${fmtNum(t.capacity)} ${esc(t.load_metric)}/replica` : "not learned yet";
      const mode = t.mode || a.mode || "–";
      const open = t.open.length ? t.open.map((k) => `<span class="chip bad">${esc(k)}</span>`).join("") : "none";
      const dec = t.decision ? `<span class="badge ${esc(t.decision.action)}">${esc(t.decision.action)}</span> ${t.decision.from}→${t.decision.to} · ${fmtAgo(t.decision.ts, fleet.server_time)}` : "–";
      rows.push(`<tr data-app="${esc(a.name)}" data-tier="${esc(t.name)}" class="status-${esc(t.status)}">` +
        `<td>${i === 0 ? `<b>${esc(a.name)}</b>${a.replay_of ? `<div class="sub">replay of ${esc(a.replay_of)}</div>` : ""}` : ""}</td>` +
        `<td><span class="badge tier">${esc(t.name)}</span>${t.front ? ' <span class="sub">front</span>' : ""}</td>` +
        `<td><span class="status ${esc(t.status)}">${esc(STATUS_TEXT[t.status] || t.status)}</span><div class="sub">${fmtAgo(t.last_ts, fleet.server_time)}</div></td>` +
        `<td class="mono">${load}${fc} <span class="sub">${esc(t.load_metric)}</span></td>` +
        `<td class="mono">${n(t.ready)} · ${n(t.booting)} · ${n(t.desired)}</td>` +
        `<td><span class="badge mode ${esc(mode)}">${esc(mode)}</span> <span class="sub">${esc(t.driver || "")}</span></td>` +
        `<td class="${t.capacity_learned ? "" : "warn"}">${cap}</td>` +
        `<td class="mono">${i === 0 ? `${a.cost_per_hour.toFixed(2)}${budget}` : ""}</td>` +
        `<td>${open}</td><td>${dec}</td></tr>`);
    });
  }
  $("#fleet tbody").innerHTML = rows.join("");
  $("#fleet-empty").hidden = rows.length > 0;
  $("#fleet-sub").textContent = apps.length ? `${apps.length} apps · ${rows.length} tiers · cost per hour of ready and booting replicas` : "";
}

// renderHealth fills the pipeline health strip: per service, up or down,
// its consumer lag and the event time of its newest output.
export function renderHealth(h) {
  const el = $("#health");
  if (!h) {
    el.innerHTML = "";
    return;
  }
  el.innerHTML = h.services.map((s) => {
    const lag = s.lag == null ? "" : ` · lag ${s.lag.toLocaleString()}`;
    const evlag = s.event_lag_ms == null ? "" : ` (${fmtAgo(h.server_time - s.event_lag_ms, h.server_time).replace(" ago", "")} behind)`;
    return `<div class="svc ${s.up ? "up" : "down"}" data-service="${esc(s.name)}" title="${esc(s.detail || "")}"><span class="dot"></span><b>${esc(s.name)}</b>` +
      `<span class="sub">${s.up ? "up" : "down"}${lag}${evlag} · last event ${fmtAgo(s.last_event, h.server_time)}</span></div>`;
  }).join("");
}
