// app.js: the dashboard. It lists apps from /api/v1/apps, subscribes to one
// app's subjects over the gateway's WebSocket (history for the chosen window,
// then live), keeps them in a Store and draws the selected tier. Replay loads
// a recorded range into its own Store and plays it at a chosen speed.
/* global MessagePack */
import { Feed } from "./feed.js";
import { Store } from "./store.js";
import { TierCharts } from "./charts.js";
import { esc, fmtTime, renderStats, renderLogs, resetLogs, renderFleet, renderHealth } from "./panels.js";

const $ = (s) => document.querySelector(s);
const MIN = 60000;
const HOUR = 3600000;

const params = new URLSearchParams(location.search);
const hash = new URLSearchParams(location.hash.slice(1));
const token = takeToken();

// takeToken reads the gateway's token from the page's address, as
// #token=… (a fragment never leaves the browser) or ?token=… (sent with
// the page's request, so it can land in proxies' logs), keeps it in
// sessionStorage for the tab's reloads, and takes it out of the address
// bar and its history, where it would be copied with a shared link.
function takeToken() {
  const given = hash.get("token") || params.get("token");
  if (given) sessionStorage.setItem("headroom-token", given);
  if (hash.has("token") || params.has("token")) {
    hash.delete("token");
    params.delete("token");
    const q = params.toString();
    const h = hash.toString();
    history.replaceState(null, "", location.pathname + (q ? "?" + q : "") + (h ? "#" + h : ""));
  }
  return sessionStorage.getItem("headroom-token") || "";
}

const state = {
  prefix: "apm",
  apps: [],
  app: hash.get("app") || "",
  tier: hash.get("tier") || "",
  window: Number(hash.get("w")) || HOUR,
  view: hash.get("view") || (hash.get("app") ? "tier" : ""), // "fleet" or "tier"; "" until the apps are known
  fleet: null, // the last /api/v1/fleet answer
  health: null, // the last /api/v1/health answer
  cmp: { on: false, app: "", store: null }, // the overlaid app (shadow replay or its original)
  holds: null, // the user's choice of the holds toggle; null: on for tiers that never changed

  mode: "live",
  gen: 0,
  store: null,
  pending: new Set(), // subscription ids still replaying history
  load: { started: 0, ms: 0, msgs: 0, drawn: 0 }, // the current history load: when it began, how long until complete (ms) and drawn, messages so far
  conn: { state: "connecting" },
  opens: 0, // connections opened so far (reconnects are opens - 1)
  lastRender: 0,
  dirty: true,
  replay: { store: null, from: 0, to: 0, speed: 60, cursor: 0, playing: false, ready: false, last: 0 },
};

// ---- connection -----------------------------------------------------------

const feed = new Feed({
  token,
  onFrame: handleFrame,
  onStatus: (s) => {
    state.conn = s;
    if (s.state === "open") {
      state.opens++;
      // The feed resubscribes everything it holds: their history is pending
      // again, into a fresh store, so the page never shows old numbers
      // beside new ones while it loads.
      state.pending = new Set(feed.subs.keys());
      if (state.store) {
        state.store = new Store(state.app);
        startLoad();
      }
      if (state.cmp.store) state.cmp.store = new Store(state.cmp.app);
    }
    showConn();
  },
});

// startLoad marks the start of a history load (window, app or reconnect).
function startLoad() {
  state.load = { started: performance.now(), ms: 0, msgs: 0, drawn: 0 };
}

// loading reports whether the live view's history is still arriving.
function loading() {
  for (const id of state.pending) if (!id.startsWith("rp")) return true;
  return false;
}

function showConn() {
  const el = $("#conn");
  const s = state.conn;
  let st = s.state, label;
  switch (s.state) {
    case "open":
      if (state.pending.size) {
        st = "loading";
        label = "Loading history…";
      } else {
        label = state.mode === "replay" ? "Connected" : "Live";
      }
      break;
    case "waiting":
      label = `Reconnecting in ${Math.ceil(s.delay / 1000)} s`;
      break;
    case "closed":
      label = "Disconnected";
      break;
    default:
      label = "Connecting…";
  }
  el.dataset.state = st;
  el.querySelector(".label").textContent = label;
  el.title = s.reason ? `Last close: ${s.code} ${s.reason}` : "";
}

function kindOf(subject) {
  const parts = subject.split(".");
  return parts[state.prefix.split(".").length];
}

// One decoder for every payload: a new one per message (what
// MessagePack.decode does) costs a 7-day load dearly.
const payloadDecoder = new MessagePack.Decoder();

function handleFrame(f) {
  switch (f.type) {
    case "hello":
      state.prefix = f.prefix;
      break;
    case "msg": {
      const store = f.sub.startsWith("rp") ? state.replay.store : f.sub.startsWith("c.") ? state.cmp.store : state.store;
      if (!store || !f.sub.endsWith("." + state.gen)) return; // a subscription we left
      let m;
      try {
        m = payloadDecoder.decode(f.data);
      } catch (e) {
        return; // not ours to show; the gateway forwards raw payloads
      }
      store.add(kindOf(f.subject), m);
      if (store === state.store && state.load.ms === 0) state.load.msgs++;
      state.dirty = true;
      break;
    }
    case "history_done":
      state.pending.delete(f.sub);
      if (!f.sub.startsWith("rp") && !loading() && state.load.ms === 0) state.load.ms = performance.now() - state.load.started;
      if (f.truncated) toast(`History cut at ${f.count.toLocaleString()} messages (${f.reason}); pick a shorter window for all of it.`);
      if (f.sub.startsWith("rp")) {
        feed.unsubscribe(f.sub);
        if (![...state.pending].some((id) => id.startsWith("rp"))) replayReady();
      }
      state.dirty = true;
      showConn();
      break;
    case "error":
      toast(`Gateway: ${f.message}`);
      if (f.sub) state.pending.delete(f.sub);
      showConn();
      break;
  }
}

let toastTimer;
function toast(text) {
  const el = $("#toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 6000);
}

// ---- apps and subscriptions -----------------------------------------------

async function loadApps() {
  try {
    const r = await fetch("api/v1/apps", { headers: token ? { Authorization: "Bearer " + token } : {} });
    if (!r.ok) throw new Error(r.status);
    const body = await r.json();
    state.prefix = body.prefix;
    state.apps = body.apps;
  } catch (e) {
    return; // the connection status already tells the story; retried later
  }
  const sel = $("#app");
  const names = state.apps.map((a) => a.name);
  if (!names.length) {
    sel.innerHTML = "<option disabled selected>none yet</option>";
  } else if (sel.options.length !== names.length || [...sel.options].some((o, i) => o.value !== names[i])) {
    sel.innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join("");
  }
  if (!state.view && names.length) setView(names.length > 1 ? "fleet" : "tier");
  if (!state.app || !names.includes(state.app)) {
    if (names.length) selectApp(names[0]);
  } else {
    sel.value = state.app;
    if (!state.store) selectApp(state.app);
  }
  renderTabs();
}

async function getJSON(path) {
  const r = await fetch(path, { headers: token ? { Authorization: "Bearer " + token } : {} });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

// pollFleet refreshes the fleet overview and the health strip every 10 s.
async function pollFleet() {
  try {
    state.fleet = await getJSON("api/v1/fleet");
    if (state.view === "fleet") renderFleet(state.fleet);
    showModeBadge();
    showOverlayControl();
  } catch (e) {
    // the connection pill tells the story
  }
  try {
    state.health = await getJSON("api/v1/health");
    renderHealth(state.health);
  } catch (e) {
    renderHealth(null);
  }
  setTimeout(pollFleet, 10000);
}

function fleetApp(name) {
  return state.fleet ? state.fleet.apps.find((a) => a.name === name) : undefined;
}

// showModeBadge shows the selected app's mode (live, dry-run, shadow) and
// driver in the header, from its newest scaling events.
function showModeBadge() {
  const el = $("#mode-badge");
  const a = fleetApp(state.app);
  const t = a && (a.tiers.find((x) => x.name === state.tier) || a.tiers[0]);
  const mode = (t && t.mode) || (a && a.mode) || "";
  el.hidden = !mode;
  el.className = `badge mode ${mode} tier-only`;
  el.textContent = mode + (t && t.driver ? ` · ${t.driver}` : "");
  el.title = mode === "live" ? "the executor acts on this app" : mode === "dry-run" ? "decided and shown, never acted on" : mode === "shadow" ? "acted on a simulated cluster only" : "";
}

// overlayCandidates lists the apps to overlay on the selected one: its
// shadow replays, or the original it replays.
function overlayCandidates() {
  if (!state.fleet) return [];
  const out = state.fleet.apps.filter((a) => a.replay_of === state.app).map((a) => a.name);
  const me = fleetApp(state.app);
  if (me && me.replay_of) out.unshift(me.replay_of);
  return out;
}

function showOverlayControl() {
  const names = overlayCandidates();
  $("#cmp-wrap").hidden = names.length === 0;
  const sel = $("#cmp-app");
  if (sel.dataset.names !== names.join(",")) {
    sel.innerHTML = names.map((n) => `<option>${esc(n)}</option>`).join("");
    sel.dataset.names = names.join(",");
  }
  if (state.cmp.on && !names.includes(state.cmp.app)) setOverlay(false);
}

// setOverlay subscribes to the other app's metrics, decisions and scaling
// events for the window, into a store of its own.
function setOverlay(on) {
  feed.unsubscribe(`c.${state.gen}`);
  state.cmp.on = on;
  $("#cmp").checked = on;
  if (!on) {
    state.cmp.store = null;
    charts.setOverlay(null);
    state.dirty = true;
    return;
  }
  const app = $("#cmp-app").value;
  state.cmp.app = app;
  state.cmp.store = new Store(app);
  const id = `c.${state.gen}`;
  const step = state.window >= 6 * HOUR ? Math.floor(state.window / 1500) : 0;
  state.pending.add(id);
  feed.subscribe(id, (id) => ({ op: "subscribe", id, subjects: ["metrics", "decision", "scaling"].map((k) => `${state.prefix}.${k}.${app}.*`), since: now() - state.window, step_ms: step }));
  state.dirty = true;
}

function setView(v) {
  state.view = v;
  for (const b of document.querySelectorAll("#views button")) b.classList.toggle("on", b.dataset.view === v);
  $("#fleet-view").hidden = v !== "fleet";
  $("#tier-view").hidden = v !== "tier";
  document.body.dataset.view = v;
  if (v === "fleet" && state.fleet) renderFleet(state.fleet);
  if (v === "tier") charts.resize();
  saveHash();
  state.dirty = true;
}

function appInfo() {
  return state.apps.find((a) => a.name === state.app);
}

// now is the live view's right edge: the wall clock, unless the app's data
// stopped a while ago (a recording), then its newest event time.
function now() {
  const a = appInfo();
  const wall = Date.now();
  const last = Math.max(a ? a.last_ts : 0, state.store ? state.store.latest : 0);
  return last && wall - last > 5 * MIN ? last : Math.max(wall, last);
}

function subjects(kinds) {
  return kinds.map((k) => `${state.prefix}.${k}.${state.app}.*`);
}

function selectApp(name) {
  state.app = name;
  $("#app").value = name;
  state.store = new Store(name);
  const a = appInfo();
  if (a && (!state.tier || !a.tiers.includes(state.tier))) state.tier = a.tiers[0] || "";
  subscribeLive();
  saveHash();
}

function subscribeLive() {
  for (const id of [...feed.subs.keys()]) if (!id.startsWith("rp")) feed.unsubscribe(id);
  state.gen++;
  const g = state.gen;
  const since = () => now() - state.window;
  // Long windows are thinned: 600 to 700 metrics points per tier (a chart
  // is some 700 pixels wide), a forecast an hour apart over a week (each
  // covers an hour ahead), 300 quiet anomaly scores, 100 holds (the table
  // shows 200 rows) and 100 of the executor's follow-ups (applied, ready).
  // The gateway never thins events (flagged anomalies, incident changes,
  // decisions other than holds, scaling requests), and serves windows of
  // days from its digest.
  const long = state.window >= 6 * HOUR;
  const step = (n) => (long ? Math.floor(state.window / n) : 0);
  const plan = [
    [`m.${g}`, ["metrics"], step(600)],
    [`f.${g}`, ["forecast"], step(150)],
    [`e.${g}`, ["anomaly"], step(300)],
    [`d.${g}`, ["decision", "scaling"], step(100)],
  ];
  state.pending = new Set([...state.pending].filter((id) => id.startsWith("rp")).concat(plan.map((p) => p[0])));
  state.store = new Store(state.app);
  startLoad();
  for (const [id0, kinds, st] of plan) {
    feed.subscribe(id0, (id) => ({ op: "subscribe", id, subjects: subjects(kinds), since: since(), step_ms: st }));
  }
  for (const id of [...feed.subs.keys()]) if (id.startsWith("c.")) feed.unsubscribe(id);
  if (state.cmp.on) setOverlay(overlayCandidates().includes(state.cmp.app));
  showConn();
  state.dirty = true;
}

function saveHash() {
  const h = new URLSearchParams({ view: state.view || "tier", app: state.app, tier: state.tier, w: String(state.window) });
  history.replaceState(null, "", "#" + h.toString());
}

// ---- replay ----------------------------------------------------------------

function toLocalInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * MIN);
  return d.toISOString().slice(0, 16);
}

function setMode(mode) {
  state.mode = mode;
  for (const b of document.querySelectorAll("#mode button")) b.classList.toggle("on", b.dataset.mode === mode);
  $("#replaybar").hidden = mode !== "replay";
  for (const b of document.querySelectorAll("#windows button")) b.disabled = mode === "replay";
  if (mode === "replay" && !$("#rp-to").value) {
    const to = Math.floor(now() / MIN) * MIN;
    $("#rp-to").value = toLocalInput(to);
    $("#rp-from").value = toLocalInput(to - HOUR);
  }
  if (mode === "live") state.replay.playing = false;
  showConn();
  state.dirty = true;
}

function loadReplay() {
  const from = new Date($("#rp-from").value).getTime();
  const to = new Date($("#rp-to").value).getTime();
  if (!(from < to)) {
    toast("Replay: “From” must be before “To”.");
    return;
  }
  const r = state.replay;
  Object.assign(r, { store: new Store(state.app), from, to, cursor: from, playing: false, ready: false });
  for (const id of [...feed.subs.keys()]) if (id.startsWith("rp")) feed.unsubscribe(id);
  const g = state.gen;
  const ids = [`rpm.${g}`, `rpe.${g}`];
  for (const id of ids) state.pending.add(id);
  feed.subscribe(ids[0], (id) => ({ op: "subscribe", id, subjects: subjects(["metrics", "forecast"]), since: from, until: to }));
  feed.subscribe(ids[1], (id) => ({ op: "subscribe", id, subjects: subjects(["anomaly", "decision", "scaling"]), since: from, until: to }));
  $("#rp-play").disabled = true;
  $("#rp-pos").disabled = true;
  showConn();
}

function replayReady() {
  const r = state.replay;
  r.ready = true;
  r.playing = true;
  r.last = performance.now();
  $("#rp-play").disabled = false;
  $("#rp-pos").disabled = false;
  showPlay();
  state.dirty = true;
}

function showPlay() {
  $("#rp-play").textContent = state.replay.playing ? "❚❚ Pause" : "▶ Play";
}

function tickReplay(t) {
  const r = state.replay;
  if (!r.ready || !r.playing) {
    r.last = t;
    return;
  }
  r.cursor = Math.min(r.to, r.cursor + (t - r.last) * r.speed);
  r.last = t;
  if (r.cursor >= r.to) {
    r.playing = false;
    showPlay();
  }
  state.dirty = true;
}

// ---- rendering ---------------------------------------------------------------

const charts = new TierCharts($("#charts"));

function view() {
  if (state.mode === "replay" && state.replay.store) {
    const r = state.replay;
    const cursor = r.ready ? r.cursor : r.from;
    return { min: r.from, max: r.to, cursor, now: cursor };
  }
  const right = now();
  return { min: right - state.window, max: right + Math.min(HOUR, state.window * 0.12), cursor: Infinity, now: right };
}

function activeStore() {
  return state.mode === "replay" && state.replay.store ? state.replay.store : state.store;
}

function renderTabs() {
  const store = activeStore();
  const a = appInfo();
  const list = store ? store.tierNames(a ? a.tiers : []) : (a ? a.tiers : []);
  if (!state.tier && list.length) state.tier = list[0];
  const nav = $("#tiers");
  const html = list
    .map((n) => {
      const t = store && store.tiers.get(n);
      const bad = t && t.openKinds.length;
      return `<button data-tier="${esc(n)}" class="${n === state.tier ? "on" : ""}" title="${bad ? "open incident: " + esc(t.openKinds.join(", ")) : "no open incident"}"><span class="flag${bad ? " bad" : ""}"></span>${esc(n)}</button>`;
    })
    .join("");
  if (nav.innerHTML !== html) nav.innerHTML = html;
}

// renderLoading replaces every number with the load's progress: nothing
// is shown until the whole window has arrived.
function renderLoading(v) {
  // Clear the charts and tables once per load; after that only the
  // progress line changes (redrawing seven empty charts every frame would
  // slow the load itself).
  if (state.load.cleared !== state.load.started) {
    state.load.cleared = state.load.started;
    charts.update(undefined, v, []);
    renderLogs(null, v, state.tier, false);
    $("#stats").innerHTML = `<div class="panel stat wide loading" id="loading"><div class="name">Loading history…</div><div class="hint"></div></div>`;
    document.body.classList.add("is-loading");
  }
  const secs = ((performance.now() - state.load.started) / 1000).toFixed(1);
  const hint = document.querySelector("#loading .hint");
  if (hint) hint.textContent = `${fmtWindow(state.window)} of ${state.app}: ${state.load.msgs.toLocaleString()} messages in ${secs} s. Numbers appear once all of it has arrived.`;
}

function fmtWindow(ms) {
  return ms >= 86400000 ? `${ms / 86400000} d` : ms >= HOUR ? `${ms / HOUR} h` : `${ms / MIN} min`;
}

function render() {
  const v = view();
  if (state.mode === "live" && loading()) {
    renderLoading(v);
    renderTabs();
    return;
  }
  document.body.classList.remove("is-loading");
  const store = activeStore();
  const tier = store ? store.tiers.get(state.tier) : undefined;
  const decisions = store ? [...store.decisions.values()] : [];
  const cmp = state.mode === "live" && state.cmp.on && state.cmp.store ? state.cmp.store : null;
  charts.setOverlay(cmp ? cmp.tiers.get(state.tier) : null, state.cmp.app);
  charts.update(tier, v, decisions);
  renderTabs();
  renderStats(tier, v, state.apps.length === 0);
  const t = store && store.tiers.get(state.tier);
  const holds = state.holds ?? !(t && t.changed);
  $("#show-holds").checked = holds;
  renderLogs(store, v, state.tier, state.window > 24 * HOUR || state.mode === "replay",
    { holds, all: $("#all-tiers").checked, thinned: state.mode === "live" && state.window >= 6 * HOUR, cmp });
  // The load ends when its numbers are on screen: history complete, then drawn.
  if (state.mode === "live" && state.load.ms > 0 && !state.load.drawn) state.load.drawn = performance.now() - state.load.started;
  if (state.mode === "replay" && state.replay.ready) {
    const r = state.replay;
    $("#rp-pos").value = String(Math.round(((r.cursor - r.from) / (r.to - r.from)) * 1000));
    $("#rp-time").textContent = fmtTime(r.cursor, true);
  }
}

let lastTrim = 0;
function frame(t) {
  tickReplay(t);
  const liveEvery = 500;
  // A load that has not yet cleared the screen is drawn in this frame,
  // past the throttle: the old window's numbers must not stay up while
  // the new window loads.
  const fresh = state.mode === "live" && loading() && state.load.cleared !== state.load.started;
  if (state.dirty || fresh || (state.mode === "live" && t - state.lastRender > liveEvery)) {
    if (state.mode === "replay" || fresh || t - state.lastRender > 100) {
      state.dirty = false;
      state.lastRender = t;
      render();
    }
  }
  if (state.mode === "live" && loading() && t - state.lastRender > 250) state.dirty = true; // the progress line
  if (state.store && t - lastTrim > 10000) {
    lastTrim = t;
    state.store.trim(now() - state.window * 1.1 - 5 * MIN);
  }
  requestAnimationFrame(frame);
}

// ---- controls ----------------------------------------------------------------

$("#app").addEventListener("change", (e) => {
  selectApp(e.target.value);
  showOverlayControl();
});
// Tier tabs, and rows of the decision log and incident list, select a tier.
for (const sel of ["#tiers", "#decisions", "#incidents"]) {
  $(sel).addEventListener("click", (e) => {
    const b = e.target.closest("[data-tier]");
    if (!b || b.dataset.tier === state.tier) return;
    state.tier = b.dataset.tier;
    saveHash();
    state.dirty = true;
    resetLogs();
    showModeBadge();
  });
}
for (const b of document.querySelectorAll("#windows button")) {
  b.classList.toggle("on", Number(b.dataset.w) === state.window);
  b.addEventListener("click", () => {
    state.window = Number(b.dataset.w);
    for (const x of document.querySelectorAll("#windows button")) x.classList.toggle("on", x === b);
    saveHash();
    subscribeLive();
  });
}
for (const b of document.querySelectorAll("#mode button")) b.addEventListener("click", () => setMode(b.dataset.mode));
$("#rp-load").addEventListener("click", loadReplay);
$("#rp-play").addEventListener("click", () => {
  const r = state.replay;
  if (!r.ready) return;
  if (!r.playing && r.cursor >= r.to) r.cursor = r.from;
  r.playing = !r.playing;
  r.last = performance.now();
  showPlay();
});
$("#rp-speed").addEventListener("change", (e) => (state.replay.speed = Number(e.target.value)));
$("#rp-pos").addEventListener("input", (e) => {
  const r = state.replay;
  r.cursor = r.from + ((r.to - r.from) * Number(e.target.value)) / 1000;
  state.dirty = true;
});
$("#show-holds").addEventListener("change", (e) => {
  state.holds = e.target.checked;
  state.dirty = true;
});
$("#all-tiers").addEventListener("change", () => (state.dirty = true));
$("#cmp").addEventListener("change", (e) => setOverlay(e.target.checked));
$("#cmp-app").addEventListener("change", () => state.cmp.on && setOverlay(true));
for (const b of document.querySelectorAll("#views button")) b.addEventListener("click", () => setView(b.dataset.view));
// A fleet row opens its tier.
$("#fleet").addEventListener("click", (e) => {
  const r = e.target.closest("tr[data-app]");
  if (!r) return;
  state.tier = r.dataset.tier;
  if (r.dataset.app !== state.app) selectApp(r.dataset.app);
  showOverlayControl();
  setView("tier");
  resetLogs();
  showModeBadge();
});
$("#theme").addEventListener("click", () => {
  const t = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = t;
  localStorage.setItem("headroom-theme", t);
  charts.build();
  state.dirty = true;
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) feed.reconnectNow();
});

// Test and debugging hook: counts of what the charts hold.
window.headroom = {
  state,
  feed,
  loading,
  points() {
    const out = {};
    for (const [k, u] of charts.plots) out[k] = u.data[1].filter((v) => v != null).length;
    out.forecast = charts.plots.get("rps").data[2].filter((v) => v != null).length;
    return out;
  },
  // overlayPoints counts the overlaid app's ready points on the replicas chart.
  overlayPoints() {
    return charts.plots.get("rep").data[3].filter((v) => v != null).length;
  },
  lastActual() {
    const d = charts.plots.get("rps").data;
    for (let i = d[0].length - 1; i >= 0; i--) if (d[1][i] != null) return d[0][i];
    return 0;
  },
};

state.replay.speed = Number($("#rp-speed").value);
// Look for apps every 30 s, or every 3 s while there is none yet.
if (state.view) setView(state.view);
pollFleet();
(async function pollApps() {
  await loadApps();
  setTimeout(pollApps, state.apps.length ? 30000 : 3000);
})();
requestAnimationFrame(frame);
