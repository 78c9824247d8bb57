// The view switch above the tables: Live (the feed) or History (the store), as ARIA tabs
// (arrow keys move between them), the view in the page's address (`view=history`).

const tabs = [...document.querySelectorAll('.views [role="tab"]')];
const VIEWS = tabs.map((tab) => tab.id.replace(/^tab-/, "")); // "live", "history"
let onShow = () => {};

export const shownView = () => VIEWS[tabs.findIndex((tab) => tab.getAttribute("aria-selected") === "true")];

export function showView(view) {
  if (!VIEWS.includes(view) || view === shownView()) return;
  for (const tab of tabs) {
    const selected = tab.id === `tab-${view}`;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
  }
  const url = new URL(location.href);
  if (view === VIEWS[0]) url.searchParams.delete("view");
  else url.searchParams.set("view", view);
  history.replaceState(null, "", url);
  onShow(view);
}

// `show(view)`: a view was just shown. The first view is the one the address names, else
// `fallback`.
export function startTabs(show, fallback) {
  onShow = show;
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener("click", () => showView(VIEWS[i]));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      showView(VIEWS[tabs.indexOf(next)]);
    });
  }
  const asked = new URL(location.href).searchParams.get("view");
  showView(VIEWS.includes(asked) ? asked : fallback);
}
