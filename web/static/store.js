// store.js: what the dashboard knows about one app, per tier, kept sorted by
// event time. Every insert is idempotent (keyed by time or id), so history
// replayed again after a reconnect simply overwrites what is there.

const METRIC_COLS = ["rps", "latency_p95_ms", "latency_p99_ms", "cpu", "error_rate", "replicas"];
// Values with a chart of their own; any other value a tick carries (mem,
// latency_p50_ms, load1, a cache's hit_ratio…) goes to "other metrics".
const CHARTED = new Set(["rps", "latency_p95_ms", "latency_p99_ms", "cpu", "error_rate"]);
const MAX_OTHER = 32; // other metrics kept per tier

// lowerBound returns the first index i with a[i] >= x.
export function lowerBound(a, x) {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class Series {
  // Columns of numbers sharing one sorted time axis.
  constructor(cols) {
    this.ts = [];
    this.cols = {};
    for (const c of cols) this.cols[c] = [];
  }
  put(ts, row) {
    const n = this.ts.length;
    let i = n;
    if (n > 0 && ts <= this.ts[n - 1]) {
      i = lowerBound(this.ts, ts);
      if (this.ts[i] === ts) {
        for (const c in this.cols) this.cols[c][i] = row[c] ?? null;
        return;
      }
    }
    if (i === n) {
      // The common case (history and live arrive in time order): append.
      this.ts.push(ts);
      for (const c in this.cols) this.cols[c].push(row[c] ?? null);
      return;
    }
    this.ts.splice(i, 0, ts);
    for (const c in this.cols) this.cols[c].splice(i, 0, row[c] ?? null);
  }
  trim(minTs) {
    const i = lowerBound(this.ts, minTs);
    if (i === 0) return;
    this.ts.splice(0, i);
    for (const c in this.cols) this.cols[c].splice(0, i);
  }
  get last() {
    return this.ts.length ? this.ts[this.ts.length - 1] : 0;
  }
}

class Tier {
  constructor(name) {
    this.name = name;
    this.metrics = new Series(METRIC_COLS);
    this.forecast = new Map(); // target ts -> {yhat, lo, hi, origin}
    this.desired = new Series(["desired"]); // step changes requested
    this.anomalies = new Map(); // ts -> {ts, metrics: [{metric, score, observed, expected}]}
    this.incidents = new Map(); // id -> {id, kind, start, end, severity, evidence, state}
    this.scores = new Series(["score"]); // max anomaly score per tick
    this.other = new Map(); // metric name -> Series(["v"]) for values without a chart of their own
    this.changed = false; // a decision other than hold was seen
    this.openKinds = [];
  }
}

export class Store {
  constructor(app) {
    this.app = app;
    this.tiers = new Map();
    this.decisions = new Map(); // id -> decision
    this.latest = 0; // newest event time seen, the dashboard's "now"
    this.version = 0; // bumped on every change, to know when to redraw
  }

  tier(name) {
    let t = this.tiers.get(name);
    if (!t) {
      t = new Tier(name);
      this.tiers.set(name, t);
    }
    return t;
  }

  // add files one decoded payload of the given subject kind.
  add(kind, m) {
    if (!m || m.app !== this.app) return;
    const t = this.tier(m.tier);
    this.version++;
    switch (kind) {
      case "metrics": {
        const v = m.values || {};
        t.metrics.put(m.ts, {
          rps: v.rps, latency_p95_ms: v.latency_p95_ms, latency_p99_ms: v.latency_p99_ms,
          cpu: v.cpu, error_rate: v.error_rate, replicas: m.replicas,
        });
        for (const name in v) {
          if (CHARTED.has(name)) continue;
          let o = t.other.get(name);
          if (!o) {
            if (t.other.size >= MAX_OTHER) continue;
            o = new Series(["v"]);
            t.other.set(name, o);
          }
          o.put(m.ts, { v: v[name] });
        }
        if (m.ts > this.latest) this.latest = m.ts;
        break;
      }
      case "forecast": {
        if (m.metric !== "rps") break;
        for (const p of m.points || []) {
          const cur = t.forecast.get(p.ts);
          if (!cur || cur.origin <= m.ts) t.forecast.set(p.ts, { yhat: p.yhat, lo: p.lo80, hi: p.hi80, origin: m.ts });
        }
        break;
      }
      case "anomaly": {
        let max = 0;
        const hits = [];
        for (const s of m.scores || []) {
          if (s.score > max) max = s.score;
          if (s.anomaly) hits.push({ metric: s.metric, score: s.score, observed: s.observed, expected: s.expected, detector: s.detector });
        }
        t.scores.put(m.ts, { score: max });
        if (hits.length) t.anomalies.set(m.ts, { ts: m.ts, hits });
        for (const inc of m.incidents || []) {
          const prev = t.incidents.get(inc.id);
          t.incidents.set(inc.id, {
            id: inc.id, tier: m.tier, kind: inc.kind, state: inc.state, start: inc.start,
            end: inc.end || 0, severity: inc.severity, evidence: inc.evidence || [],
            seen: Math.max(prev ? prev.seen : 0, m.ts),
          });
        }
        if (m.ts >= (t.openAt || 0)) {
          t.openAt = m.ts;
          t.openKinds = m.open || [];
        }
        break;
      }
      case "decision":
        this.decisions.set(m.id, m);
        if (m.action !== "hold") t.changed = true;
        t.desired.put(m.ts, { desired: m.to });
        break;
      case "scaling":
        if (m.status === "requested" || m.status === "applied") t.desired.put(m.ts, { desired: m.desired });
        break;
    }
  }

  // trim forgets what is older than minTs (and keeps one desired step before
  // it, so the step line starts at the right level).
  trim(minTs) {
    for (const t of this.tiers.values()) {
      t.metrics.trim(minTs);
      t.scores.trim(minTs);
      for (const o of t.other.values()) o.trim(minTs);
      const di = lowerBound(t.desired.ts, minTs);
      if (di > 1) t.desired.trim(t.desired.ts[di - 1]);
      for (const [k] of t.forecast) if (k < minTs) t.forecast.delete(k);
      for (const [k] of t.anomalies) if (k < minTs) t.anomalies.delete(k);
      for (const [k, inc] of t.incidents) if (inc.end && inc.end < minTs) t.incidents.delete(k);
    }
    for (const [k, d] of this.decisions) if (d.ts < minTs) this.decisions.delete(k);
  }

  // tierNames lists the tiers in order: those of order first (the
  // configuration's, front tier first), then the rest by name.
  tierNames(order = []) {
    const rest = [...this.tiers.keys()].filter((n) => !order.includes(n)).sort();
    return [...order, ...rest];
  }
}
