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
    // Large messages (histories) come gzip-compressed when the browser can
    // inflate them: fewer bytes through the browser's network process.
    const q = new URLSearchParams();
    if (this.token) q.set("token", this.token);
    if (typeof DecompressionStream === "function") q.set("compress", "gzip");
    u.search = q.toString() ? "?" + q.toString() : "";
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
    // Messages are handled in order: a compressed one is inflated
    // (asynchronously) before any later message is decoded.
    let queue = Promise.resolve();
    ws.onmessage = (ev) => {
      this.lastFrame = Date.now();
      if (typeof ev.data === "string") return;
      const bytes = new Uint8Array(ev.data);
      const ready = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? inflate(bytes) : bytes;
      queue = queue
        .then(() => ready)
        .then((b) => this.ws === ws && this.decode(b))
        .catch((e) => setTimeout(() => { throw e; })); // reported as uncaught, and the queue goes on
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

  decode(bytes) {
    for (const f of MessagePack.decodeMulti(bytes)) {
      if (f.type === "hello") this.prefix = f.prefix;
      this.onFrame(f);
    }
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

// inflate gunzips bytes with the browser's own DecompressionStream.
async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
