// A classic script, not a module: it runs even when the modules cannot, and says so on the
// page instead of leaving it blank. A module that did not load (a 404, a network error) fails
// the whole graph and fires `error` on the entry's script element; one that loaded but cannot
// be linked or run (a missing export, a syntax error) reports its exception on the window
// before main.js has marked the page started.
"use strict";

(() => {
  const entry = document.currentScript.previousElementSibling;

  function fail(detail) {
    if (document.documentElement.dataset.dashboard === "started") return;
    const notice = document.getElementById("notice");
    const connection = document.getElementById("connection");
    const status = document.getElementById("connection-text");
    const message = `The dashboard could not start: ${detail}. Reload the page; if that does ` +
      "not help, the gateway serves an incomplete copy of its static files.";
    if (notice) {
      notice.textContent = message;
      notice.hidden = false;
    }
    if (connection) connection.dataset.state = "error";
    if (status) status.textContent = "error";
  }

  entry.addEventListener("error", () => fail("one of its scripts did not load"));
  window.addEventListener("error", (event) => fail(event.message || "a script failed"));
})();
