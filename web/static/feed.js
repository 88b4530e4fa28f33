// feed.js: the WebSocket connection to the gateway. It reconnects with
// backoff, resubscribes every open subscription (with its history window
// re-anchored by the caller), and decodes the msgpack frames.
/* global MessagePack */

export class Feed {
  constructor({ token, onFrame, onStatus }) {
    this.token = token;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.subs = new Map(); // id -> () => request (built at (re)subscribe time)
    this.ws = null;
    this.attempt = 0;
    this.prefix = "apm";
    this.lastFrame = 0;
    this.closed = false;
    this.timer = null;
    this.connect();
    // Browsers cannot send WebSocket pings; an app-level ping keeps idle
    // connections alive through proxies and tells us if the line is dead.
    setInterval(() => this.ping(), 15000);
  }

  // url is /ws next to the page, so the dashboard also works behind a
  // reverse proxy that mounts it under a path.
  url() {
    const u = new URL("ws", location.href);
    u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    u.hash = "";
    u.search = this.token ? "?token=" + encodeURIComponent(this.token) : "";
    return u.toString();
  }

  connect() {
    if (this.closed) return;
    this.onStatus({ state: "connecting", attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.retry();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.onStatus({ state: "open" });
      for (const [id, build] of this.subs) this.sendReq(build(id));
    };
    ws.onmessage = (ev) => {
      this.lastFrame = Date.now();
      if (typeof ev.data === "string") return;
      for (const f of MessagePack.decodeMulti(new Uint8Array(ev.data))) {
        if (f.type === "hello") this.prefix = f.prefix;
        this.onFrame(f);
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.onStatus({ state: "closed", code: ev.code, reason: ev.reason });
      this.retry();
    };
    ws.onerror = () => {
      // onclose follows and schedules the retry; nothing to log here.
    };
  }

  retry() {
    if (this.closed) return;
    const delay = Math.min(10000, 500 * 2 ** Math.min(this.attempt, 5)) * (0.75 + Math.random() * 0.5);
    this.attempt++;
    this.onStatus({ state: "waiting", delay, attempt: this.attempt });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.ws) return;
    clearTimeout(this.timer);
    this.connect();
  }

  get open() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  sendReq(req) {
    if (this.open) this.ws.send(JSON.stringify(req));
  }

  ping() {
    this.sendReq({ op: "ping" });
  }

  // subscribe registers build(id) -> request; it is sent now and after
  // every reconnect, so the caller can move the history window forward.
  subscribe(id, build) {
    this.subs.set(id, build);
    this.sendReq(build(id));
  }

  unsubscribe(id) {
    if (!this.subs.delete(id)) return;
    this.sendReq({ op: "unsubscribe", id });
  }
}
