// charts.js: the tier panels, drawn with uPlot. Each panel takes columns of
// a tier's store between the view's bounds; incident spans are shaded under
// the series and anomaly or decision markers are drawn over them.
/* global uPlot */
import { lowerBound } from "./store.js";

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export const INCIDENT_COLORS = { load: "--c-load", performance: "--c-perf", errors: "--c-err", drop: "--c-drop" };

// Which panel shows an anomaly on each metric, and how its value is scaled.
const METRIC_PANEL = {
  rps: ["rps", 1], latency_p50_ms: ["lat", 1], latency_p95_ms: ["lat", 1], latency_p99_ms: ["lat", 1],
  cpu: ["cpu", 100], error_rate: ["err", 100],
};

function fmtNum(v, digits = 1) {
  if (v == null || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e6) return (v / 1e6).toFixed(digits) + "M";
  if (a >= 1e4) return (v / 1e3).toFixed(digits) + "k";
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(digits + 1).replace(/\.?0+$/, "") || "0";
}
export { fmtNum };

// fmtAxis writes a tick with as many decimals as the tick increment needs
// (0.25 gets two, 0.5 one).
function fmtAxis(v, incr) {
  if (Math.abs(v) >= 1e4) return fmtNum(v, 0);
  let d = 0;
  while (d < 3 && Math.abs(Math.round((incr || 1) * 10 ** d) - (incr || 1) * 10 ** d) > 1e-9) d++;
  return v.toFixed(d);
}

const PANELS = [
  {
    key: "rps", title: "Request rate", sub: "actual vs forecast · 80 % band", unit: "req/s",
    series: [
      { label: "Actual", color: "--c-blue", width: 2 },
      { label: "Forecast", color: "--c-orange", width: 1.5, dash: [6, 4], spanGaps: true },
      { label: "Lo 80", color: "transparent", width: 0, spanGaps: true, legend: false },
      { label: "Hi 80", color: "transparent", width: 0, spanGaps: true, legend: false },
    ],
    band: [4, 3],
  },
  {
    key: "lat", title: "Latency", sub: "p95 · p99", unit: "ms",
    series: [
      { label: "p95", color: "--c-yellow", width: 1.5 },
      { label: "p99", color: "--c-red", width: 1.5 },
    ],
  },
  { key: "cpu", title: "CPU", sub: "utilisation", unit: "%", series: [{ label: "CPU", color: "--c-green", width: 1.5, fill: true }], max: 100 },
  // Errors are usually near zero: a line without fill on a scale of at
  // least 0–1 %, ticks labelled in %, so a quiet tier reads as quiet.
  { key: "err", title: "Error rate", sub: "% of requests failing", unit: "%", axisUnit: "%", floor: 1, series: [{ label: "Errors", color: "--c-red", width: 1.5 }] },
  {
    key: "rep", title: "Replicas", sub: "desired vs ready", unit: "",
    series: [
      { label: "Ready", color: "--c-blue", width: 2, step: true, fill: true },
      { label: "Desired", color: "--c-purple", width: 1.5, step: true, dash: [5, 3] },
      // The overlaid app (a shadow replay, or the original of one).
      { label: "Other ready", color: "--c-orange", width: 1.5, step: true, hidden: true },
      { label: "Other desired", color: "--c-yellow", width: 1.5, step: true, dash: [2, 3], hidden: true },
    ],
  },
];

const pad2 = (n) => String(n).padStart(2, "0");

// gaps returns the indexes after which the time series has a hole: a step
// more than five times its median step.
function gaps(ts) {
  const out = new Set();
  if (ts.length < 3) return out;
  const steps = [];
  for (let i = 1; i < ts.length && i < 200; i++) steps.push(ts[i] - ts[i - 1]);
  steps.sort((a, b) => a - b);
  const limit = 5 * steps[steps.length >> 1];
  for (let i = 1; i < ts.length; i++) if (ts[i] - ts[i - 1] > limit) out.add(i - 1);
  return out;
}

// timeLabels writes 24-hour times, and the date at midnight (or alone when
// the view spans days).
function timeLabels(u, splits) {
  const range = u.scales.x.max - u.scales.x.min;
  return splits.map((v) => {
    const d = new Date(v);
    const hm = pad2(d.getHours()) + ":" + pad2(d.getMinutes());
    const midnight = d.getHours() === 0 && d.getMinutes() === 0;
    if (midnight) return d.toLocaleDateString([], { month: "short", day: "numeric" });
    return range > 4 * 86400000 ? pad2(d.getHours()) + "h" : hm;
  });
}

export function panelDefs() {
  return PANELS;
}

function alpha(color, a) {
  // color is #rrggbb
  const n = parseInt(color.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

export class TierCharts {
  constructor(root) {
    this.root = root;
    this.plots = new Map();
    this.ctx = null; // {tier, view} of the last update, read by the hooks
    this.build();
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(root);
  }

  build() {
    for (const u of this.plots.values()) u.destroy();
    this.plots.clear();
    this.root.innerHTML = "";
    const text = css("--text-muted"), grid = css("--grid");
    for (const p of PANELS) {
      const panel = document.createElement("section");
      panel.className = "panel chart-panel" + (p.key === "rps" ? " wide" : "");
      panel.dataset.panel = p.key;
      panel.innerHTML = `<header><h3>${p.title}</h3><span class="sub">${p.sub}</span></header><div class="plot"></div><div class="empty">No data in this window</div>`;
      this.root.appendChild(panel);
      const el = panel.querySelector(".plot");
      const series = [{}];
      for (const s of p.series) {
        const stroke = s.color === "transparent" ? "rgba(0,0,0,0)" : css(s.color);
        const o = {
          label: s.label, stroke, width: s.width, spanGaps: !!s.spanGaps,
          points: { show: false },
          value: (u, v) => (v == null ? "–" : fmtNum(v) + (p.unit && p.unit !== "req/s" ? " " + p.unit : "")),
        };
        if (s.dash) o.dash = s.dash;
        if (s.hidden) o.show = false;
        if (s.fill) o.fill = alpha(stroke, 0.12);
        if (s.step) o.paths = uPlot.paths.stepped({ align: 1 });
        series.push(o);
      }
      const opts = {
        width: Math.max(200, el.clientWidth || 400),
        height: p.key === "rps" ? 230 : 170,
        ms: 1,
        cursor: { sync: { key: "headroom" }, drag: { x: false, y: false }, points: { size: 6 } },
        legend: { show: true, live: true },
        scales: {
          x: { time: true },
          y: { range: (u, min, max) => [0, p.max && max <= p.max ? Math.max(p.max * 0.25, max * 1.15) : Math.max(p.floor || 0, max > 0 ? max * 1.15 : 1)] },
        },
        axes: [
          { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "11px " + css("--font"), values: timeLabels, size: 30, space: 64 },
          { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 52, font: "11px " + css("--font"),
            values: (u, vals, ax, space, incr) => vals.map((v) => fmtAxis(v, incr) + (p.axisUnit || "")) },
        ],
        series,
        hooks: {
          drawAxes: [(u) => this.drawSpans(u)],
          draw: [(u) => this.drawMarkers(u, p.key)],
        },
      };
      if (p.band) opts.bands = [{ series: p.band, fill: alpha(css("--c-orange"), 0.16) }];
      const data = [[], ...p.series.map(() => [])];
      const u = new uPlot(opts, data, el);
      // Lo/Hi 80 stay out of the legend.
      if (p.key === "rps" || p.key === "rep") {
        for (const i of [3, 4]) {
          const row = u.root.querySelectorAll(".u-legend .u-series")[i];
          if (row) row.style.display = "none";
        }
      }
      this.plots.set(p.key, u);
    }
    this.buildOther(text, grid);
    this.resize();
  }

  // buildOther adds the "other metrics" panel: any value the ticks carry
  // that has no chart of its own, one at a time, picked from a list.
  buildOther(text, grid) {
    const panel = document.createElement("section");
    panel.className = "panel chart-panel wide";
    panel.dataset.panel = "other";
    panel.innerHTML = `<header><h3>Other metrics</h3><span class="sub">any value the ticks carry</span>` +
      `<label class="check">metric <select id="other-metric" aria-label="Other metric"></select></label></header><div class="plot"></div><div class="empty">No other values in this window</div>`;
    this.root.appendChild(panel);
    const el = panel.querySelector(".plot");
    const stroke = css("--c-purple");
    this.other = new uPlot({
      width: Math.max(200, el.clientWidth || 400), height: 150, ms: 1,
      cursor: { sync: { key: "headroom" }, drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: true, live: true },
      scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min), max > 0 ? max * 1.15 : 1] } },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: "11px " + css("--font"), values: timeLabels, size: 30, space: 64 },
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { show: false }, size: 60, font: "11px " + css("--font"), values: (u, vals, ax, space, incr) => vals.map((v) => fmtAxis(v, incr)) },
      ],
      series: [{}, { label: "value", stroke, width: 1.5, points: { show: false }, value: (u, v) => fmtNum(v) }],
    }, [[], []], el);
    this.plots.set("other", this.other);
    this.otherPick = panel.querySelector("#other-metric");
    this.otherPick.addEventListener("change", () => (this.otherChoice = this.otherPick.value));
  }

  updateOther(tier, view) {
    const names = tier ? [...tier.other.keys()].sort() : [];
    const pick = this.otherPick;
    const opts = names.map((n) => `<option>${n.replace(/[<>&"]/g, "")}</option>`).join("");
    if (pick.dataset.names !== names.join(",")) {
      pick.innerHTML = opts;
      pick.dataset.names = names.join(",");
    }
    const name = names.includes(this.otherChoice) ? this.otherChoice : names[0];
    if (name && pick.value !== name) pick.value = name;
    const s = name ? tier.other.get(name) : null;
    const lo = s ? lowerBound(s.ts, view.min - 60000) : 0;
    const hi = s ? lowerBound(s.ts, view.cursor + 1) : 0;
    const xs = s ? s.ts.slice(lo, hi) : [];
    const ys = s ? s.cols.v.slice(lo, hi) : [];
    this.other.root.closest(".panel").classList.toggle("is-empty", xs.length === 0);
    this.other.series[1].label = name || "value";
    const lbl = this.other.root.querySelector(".u-legend .u-series:nth-child(2) .u-label");
    if (lbl) lbl.textContent = name || "value";
    this.other.batch(() => {
      this.other.setData([xs, ys], false);
      this.other.setScale("x", { min: view.min, max: view.max });
    });
  }

  resize() {
    for (const u of this.plots.values()) {
      const el = u.root.parentElement;
      const w = el.clientWidth;
      if (w > 0 && Math.abs(w - u.width) > 1) u.setSize({ width: w, height: u.height });
    }
  }

  // update draws a tier (store Tier, or undefined) for view {min, max, cursor}.
  update(tier, view, decisions = []) {
    this.ctx = { tier, view, decisions };
    const m = tier ? tier.metrics : null;
    const hi = m ? lowerBound(m.ts, view.cursor + 1) : 0;
    const lo = m ? lowerBound(m.ts, view.min - 60000) : 0;
    const raw = m ? m.ts.slice(lo, hi) : [];
    // Break the lines where ticks are missing (an outage), not across
    // ordinary spacing: a null after any step over five times the usual one.
    const gapAt = gaps(raw);
    const xs = [];
    for (let i = 0; i < raw.length; i++) {
      xs.push(raw[i]);
      if (gapAt.has(i)) xs.push(raw[i] + 1);
    }
    const col = (c, k = 1) => {
      if (!m) return [];
      const out = [];
      for (let i = lo; i < hi; i++) {
        const v = m.cols[c][i];
        out.push(v == null ? null : v * k);
        if (gapAt.has(i - lo)) out.push(null);
      }
      return out;
    };
    this.updateOther(tier, view);
    for (const [key, u] of this.plots) {
      let data;
      switch (key) {
        case "other":
          continue;
        case "rps":
          data = this.rpsData(tier, xs, col("rps"), view);
          break;
        case "lat":
          data = [xs, col("latency_p95_ms"), col("latency_p99_ms")];
          break;
        case "cpu":
          data = [xs, col("cpu", 100)];
          break;
        case "err":
          data = [xs, col("error_rate", 100)];
          break;
        case "rep":
          data = [xs, col("replicas"), this.desiredOn(tier, xs), ...this.overlayOn(xs)];
          break;
      }
      u.root.closest(".panel").classList.toggle("is-empty", xs.length === 0);
      u.batch(() => {
        u.setData(data, false);
        u.setScale("x", { min: view.min, max: view.max });
      });
    }
  }

  // rpsData merges the actual series with the forecast points. Where only
  // one of them has a point the other is undefined, which uPlot joins
  // across, unlike null (a real gap).
  rpsData(tier, xs, actual, view) {
    if (!tier) return [[], [], [], [], []];
    const f = [...tier.forecast.entries()].filter(([ts, p]) => ts >= view.min && ts <= view.max && p.origin <= view.cursor).sort((a, b) => a[0] - b[0]);
    const X = [], A = [], Y = [], L = [], H = [];
    let i = 0, j = 0;
    while (i < xs.length || j < f.length) {
      const tx = i < xs.length ? xs[i] : Infinity;
      const tf = j < f.length ? f[j][0] : Infinity;
      const t = Math.min(tx, tf);
      X.push(t);
      A.push(tx === t ? actual[i++] : undefined);
      if (tf === t) {
        const p = f[j++][1];
        Y.push(p.yhat); L.push(p.lo); H.push(p.hi);
      } else {
        Y.push(undefined); L.push(undefined); H.push(undefined);
      }
    }
    return [X, A, Y, L, H];
  }

  // setOverlay shows (tier of another app's store, its name) on the
  // replicas chart, or hides it (null).
  setOverlay(tier, name) {
    this.overlay = tier || null;
    const u = this.plots.get("rep");
    if (!u) return;
    const on = !!tier;
    for (const i of [3, 4]) {
      if (u.series[i].show !== on) u.setSeries(i, { show: on });
      const row = u.root.querySelectorAll(".u-legend .u-series")[i];
      if (row) {
        row.style.display = on ? "" : "none";
        const lbl = row.querySelector(".u-label");
        if (lbl && name) lbl.textContent = `${name} ${i === 3 ? "ready" : "desired"}`;
      }
    }
  }

  // overlayOn aligns the overlaid tier's ready and desired replicas on xs
  // (a shadow replay keeps the original's event times).
  overlayOn(xs) {
    const t = this.overlay;
    if (!t) return [xs.map(() => null), xs.map(() => null)];
    const ready = xs.map((x) => {
      const i = lowerBound(t.metrics.ts, x);
      return t.metrics.ts[i] === x ? t.metrics.cols.replicas[i] : undefined;
    });
    return [ready, this.desiredOn(t, xs)];
  }

  desiredOn(tier, xs) {
    if (!tier) return [];
    const d = tier.desired;
    const out = new Array(xs.length);
    let k = 0;
    let cur = null;
    for (let i = 0; i < xs.length; i++) {
      while (k < d.ts.length && d.ts[k] <= xs[i]) cur = d.cols.desired[k++];
      out[i] = cur;
    }
    return out;
  }

  drawSpans(u) {
    const c = this.ctx;
    if (!c) return;
    const { ctx, bbox } = u;
    ctx.save();
    if (c.view.now && c.view.now > c.view.min && c.view.now < c.view.max) {
      // "Now": actual data stops here, the forecast goes on.
      const x = Math.round(u.valToPos(c.view.now, "x", true)) + 0.5;
      ctx.strokeStyle = css("--text-muted");
      ctx.lineWidth = devicePixelRatio;
      ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (!c.tier) {
      ctx.restore();
      return;
    }
    for (const inc of c.tier.incidents.values()) {
      if (inc.start > c.view.cursor) continue;
      const end = inc.end && inc.end <= c.view.cursor ? inc.end : Math.min(c.view.cursor, c.view.max);
      if (end < c.view.min || inc.start > c.view.max) continue;
      const x0 = Math.max(bbox.left, u.valToPos(inc.start, "x", true));
      const x1 = Math.min(bbox.left + bbox.width, u.valToPos(end, "x", true));
      const color = css(INCIDENT_COLORS[inc.kind] || "--c-red");
      ctx.fillStyle = alpha(color, 0.13);
      ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), bbox.height);
      ctx.fillStyle = alpha(color, 0.85);
      ctx.fillRect(x0, bbox.top, Math.max(2, x1 - x0), 3 * devicePixelRatio);
    }
    ctx.restore();
  }

  drawMarkers(u, key) {
    const c = this.ctx;
    if (!c || !c.tier) return;
    const { ctx, bbox } = u;
    const r = 4 * devicePixelRatio;
    ctx.save();
    ctx.beginPath();
    ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
    ctx.clip();
    if (key === "rep") {
      this.drawDecisions(u, ctx, r);
      ctx.restore();
      return;
    }
    ctx.fillStyle = css("--c-red");
    ctx.strokeStyle = css("--panel");
    ctx.lineWidth = 1.5 * devicePixelRatio;
    for (const a of c.tier.anomalies.values()) {
      if (a.ts < c.view.min || a.ts > c.view.cursor) continue;
      for (const h of a.hits) {
        const mp = METRIC_PANEL[h.metric];
        if (!mp || mp[0] !== key) continue;
        const x = u.valToPos(a.ts, "x", true);
        const y = u.valToPos(h.observed * mp[1], "y", true);
        ctx.beginPath();
        ctx.moveTo(x, y - r * 1.3);
        ctx.lineTo(x + r, y);
        ctx.lineTo(x, y + r * 1.3);
        ctx.lineTo(x - r, y);
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      }
    }
    ctx.restore();
  }

  drawDecisions(u, ctx, r) {
    const { tier, view, decisions } = this.ctx;
    for (const d of decisions) {
      if (d.tier !== tier.name || d.action === "hold" || d.ts < view.min || d.ts > view.cursor) continue;
      const x = u.valToPos(d.ts, "x", true);
      const y = u.valToPos(d.to, "y", true);
      ctx.fillStyle = css(d.action === "up" ? "--c-green" : "--c-blue");
      ctx.beginPath();
      const s = d.action === "up" ? -1 : 1;
      ctx.moveTo(x, y + s * r * 1.4);
      ctx.lineTo(x + r, y - s * r * 0.6);
      ctx.lineTo(x - r, y - s * r * 0.6);
      ctx.closePath();
      ctx.fill();
    }
  }
}
