// The live stream: one WebSocket to /stream, reopened after a drop (exponential backoff, from
// the last cursor), told new filters with a `subscribe` frame. What the frames mean for the
// page is the caller's: `openStream` takes one handler per kind of news.

import { endpoint } from "./api.js";
import { filterParams, subscribeFrame } from "./filters.js";
import { text } from "./record.js";
import { setConnection } from "./status.js";

const PING_INTERVAL_MS = 25_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 30_000;
const STABLE_AFTER_MS = 10_000; // a connection up this long resets the backoff
const CURSOR = /^\d+:\d+(,\d+:\d+)*$/;
// Close codes after which reconnecting with the same parameters cannot help.
const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_BAD_PARAMETER = 4400;
const CLOSE_UNKNOWN_TOPIC = 4404;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_SUPERSEDED = 4409;
// Closes by one of the API key's limits (docs/gateway-protocol.md, "Limits per API key"):
// worth retrying once the key's other streams or replays end; said in words, since the
// gateway's message is for programs.
const KEY_LIMIT_CLOSES = {
  4429: "this API key has its maximum of open streams (other tabs or programs use it)",
  4430: "this API key has its maximum of replays from history running",
};

function closeReason(code) {
  if (code === 1000 || code === 1001) return "gateway closed the stream";
  if (code === 1006) return "connection lost";
  return `closed (${code})`;
}

// `filters()`: the filters to open the stream with. Handlers:
//   onWelcome()                    the stream is live
//   onFiling(data, arrivedMs)      a record; arrivedMs 0 while replaying (not live)
//   onGap(missing)                 retention removed `missing` records this page had not read
//   onRefused(message)             the gateway kept the previous filters (a refused subscribe)
//   onUnauthorized()               the key is missing or wrong
export function openStream(filters, handlers) {
  const state = {
    ws: null,
    cursor: null, // position just after the last record received ("P:O,P:O")
    attempt: 0,
    liveSince: 0,
    reconnectTimer: null,
    countdownTimer: null,
    pingTimer: null,
  };

  function url() {
    const params = [
      ["topic", "analyzed"],
      ["from", state.cursor || "latest"],
      ...filterParams(filters()),
    ];
    const address = endpoint("stream", params);
    address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
    return address.href;
  }

  function stopTimers() {
    clearTimeout(state.reconnectTimer);
    clearInterval(state.countdownTimer);
    clearInterval(state.pingTimer);
    state.reconnectTimer = state.countdownTimer = state.pingTimer = null;
  }

  function closeSocket() {
    const ws = state.ws;
    state.ws = null; // its handlers check this and stay quiet
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, "client closing");
  }

  function connect() {
    stopTimers();
    closeSocket();
    setConnection(state.attempt ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(url());
    } catch (error) {
      scheduleReconnect(`cannot open the stream: ${error.message || error}`);
      return;
    }
    state.ws = ws;
    let lastError = null;
    // Frames before caught_up are replay (a resumed cursor): delivered late by this page's own
    // absence, not by the pipeline, so they do not count towards freshness.
    let replaying = true;

    ws.onmessage = (event) => {
      if (state.ws !== ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      if (!frame || typeof frame !== "object") return;
      switch (frame.type) {
        case "welcome":
          state.liveSince = Date.now();
          // With from=latest the welcome names the position it resolved to: resuming from it
          // after a drop loses nothing even if no record has arrived yet.
          if (!state.cursor && typeof frame.from === "string" && CURSOR.test(frame.from)) {
            state.cursor = frame.from;
          }
          setConnection("live", "live");
          state.pingTimer = setInterval(() => {
            if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" }));
          }, PING_INTERVAL_MS);
          handlers.onWelcome();
          break;
        case "filing":
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          handlers.onFiling(frame.data, replaying ? 0 : Date.now());
          break;
        case "caught_up":
          replaying = false;
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        case "gap": {
          // Back after a while, the gateway no longer holds records this page had not shown
          // yet (retention removed them): said, rather than jumped over silently.
          const partitions = Array.isArray(frame.partitions) ? frame.partitions : [];
          handlers.onGap(partitions.reduce((sum, p) => sum + (Number(p.missing) || 0), 0));
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        }
        case "subscribed":
          // The new filters apply after this cursor: the gateway replays from it (caught_up
          // follows), so what comes until then is not live.
          replaying = true;
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        case "error":
          if (frame.reply_to === "subscribe") {
            handlers.onRefused(text(frame.message)); // the stream goes on
            break;
          }
          lastError = frame;
          // A slow consumer is closed with its last cursor: resume from there.
          if (typeof frame.cursor === "string" && frame.cursor) state.cursor = frame.cursor;
          break;
        default: // pong and anything newer
          break;
      }
    };

    ws.onclose = (event) => {
      if (state.ws !== ws) return;
      state.ws = null;
      clearInterval(state.pingTimer);
      if (state.liveSince && Date.now() - state.liveSince >= STABLE_AFTER_MS) state.attempt = 0;
      state.liveSince = 0;
      const code = event.code;
      const errorCode = lastError ? text(lastError.code) : "";
      const message = lastError ? text(lastError.message) : text(event.reason);
      if (code === CLOSE_UNAUTHORIZED || errorCode === "unauthorized") {
        handlers.onUnauthorized();
        return;
      }
      if (code === CLOSE_BAD_PARAMETER && /^from\b/.test(message) && state.cursor) {
        // The saved position is no longer valid (e.g. the topic was recreated): start live.
        state.cursor = null;
        scheduleReconnect("position expired");
        return;
      }
      if (code === CLOSE_SUPERSEDED || errorCode === "superseded") {
        setConnection("error", "another connection with this client id took over the stream");
        return;
      }
      if (code === CLOSE_BAD_PARAMETER || code === CLOSE_UNKNOWN_TOPIC ||
          code === CLOSE_UNSUPPORTED_DATA) {
        setConnection("error", `error: ${message || `closed (${code})`}`);
        return;
      }
      const limit = KEY_LIMIT_CLOSES[code];
      if (limit) {
        const wait = lastError ? Number(lastError.retry_after_s) || 0 : 0;
        scheduleReconnect(limit, wait * 1000);
        return;
      }
      scheduleReconnect(message || closeReason(code));
    };
  }

  // Exponential backoff with "equal jitter": half the step fixed, half random, capped; at least
  // `atLeastMs` (the wait a refusal by the key's limits asked for).
  function scheduleReconnect(reason, atLeastMs = 0) {
    stopTimers();
    const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** state.attempt);
    const delay = Math.max(atLeastMs, step / 2 + Math.random() * (step / 2));
    state.attempt += 1;
    const due = Date.now() + delay;
    const show = () => {
      const seconds = Math.max(1, Math.ceil((due - Date.now()) / 1000));
      setConnection("reconnecting", `reconnecting in ${seconds}s — ${reason}`);
    };
    show();
    state.countdownTimer = setInterval(show, 250);
    state.reconnectTimer = setTimeout(connect, delay);
  }

  // Back online while waiting to reconnect: try now instead of at the end of the backoff.
  window.addEventListener("online", () => {
    if (state.reconnectTimer) {
      state.attempt = 0;
      connect();
    }
  });

  return {
    // Opened again from the last cursor (new filters or key), the backoff forgotten.
    reopen() {
      state.attempt = 0;
      connect();
    },
    close() {
      stopTimers();
      closeSocket();
    },
    isOpen: () => Boolean(state.ws && state.ws.readyState === WebSocket.OPEN),
    // The current filters to the open socket, from its cursor on.
    subscribe() {
      state.ws.send(subscribeFrame(filters()));
    },
  };
}
