// What the page says about itself: the connection indicator in the header and the notice line
// (a refusal, a gap, a failure to load).

import { $ } from "./dom.js";

const connection = $("connection");
const connectionText = $("connection-text");
const connectionAnnounce = $("connection-announce");
const notice = $("notice");

// The visible text changes every second while waiting; screen readers only hear the state.
export function setConnection(kind, message) {
  const shown = message || kind;
  const changed = connection.dataset.state !== kind;
  if (changed || (kind === "error" && connectionText.textContent !== shown)) {
    connectionAnnounce.textContent = kind === "reconnecting" ? "reconnecting" : shown;
  }
  connection.dataset.state = kind;
  connectionText.textContent = shown;
}

export function showNotice(message) {
  notice.textContent = message;
  notice.hidden = !message;
}
