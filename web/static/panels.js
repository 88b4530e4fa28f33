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

// renderLogs fills the decision log and the incident list, marking the
// selected tier's rows; it redraws only when something changed.
export function renderLogs(store, v, selTier, withDate) {
  const holds = $("#show-holds").checked;
  const key = [store ? store.app : "", store ? store.version : 0, v.min, Math.floor(v.cursor / 1000), holds, selTier, withDate].join("|");
  if (key === logKey) return;
  logKey = key;
  const decs = store ? [...store.decisions.values()].filter((d) => d.ts <= v.cursor && d.ts >= v.min && (holds || d.action !== "hold")) : [];
  decs.sort((a, b) => b.ts - a.ts);
  $("#dec-count").textContent = decs.length ? `${decs.length} in window` : "";
  $("#dec-empty").hidden = decs.length > 0;
  $("#decisions tbody").innerHTML = decs
    .slice(0, 200)
    .map((d) => {
      const flags = (d.flags || []).map((f) => `<span class="chip">${esc(f)}</span>`).join("");
      return `<tr data-tier="${esc(d.tier)}" class="${d.tier === selTier ? "sel" : ""}"><td class="t">${fmtTime(d.ts, withDate)}</td><td><span class="badge tier">${esc(d.tier)}</span></td>` +
        `<td><span class="badge ${esc(d.action)}">${d.action === "up" ? "▲ up" : d.action === "down" ? "▼ down" : "hold"}</span></td>` +
        `<td class="mono">${d.from} → ${d.to}</td><td class="reason">${esc(d.reason)}${flags ? "<div>" + flags + "</div>" : ""}</td></tr>`;
    })
    .join("");
  const incs = [];
  if (store) for (const t of store.tiers.values()) for (const i of t.incidents.values()) if (i.start <= v.cursor && (!i.end || i.end >= v.min)) incs.push(i);
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

