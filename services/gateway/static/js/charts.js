// The charts: filings per minute and the priority mix over the last hour, and freshness p50/p95,
// drawn as plain SVG (no libraries) from the records this page holds, at most once a second.
//
// Filings per minute and the priority mix count, by filing.accepted_at, the records this page
// holds (history, the last-hour top-up, live) that match the filters, over the 60 minutes
// ending with the current one.
//
// Freshness = delivery time - filing.accepted_at, and delivery time - filing.detected_at.
// The delivery time is when a live frame reached this page (Date.now() on the message), so
// the samples are the filings that arrived live (after caught_up) within the last hour.
// History records are not samples: their analyzed_at is when analysis ended, only a lower
// bound on delivery; mixed in, it would pull the percentiles down and hide the gateway and
// network part that a p95 is there to show. Percentiles are nearest-rank. The clocks of
// EDGAR, ingest and this browser are taken to agree: a browser clock off by some seconds
// shifts every sample by as much (a negative figure is such a skew, shown as it is).

import { $, svg } from "./dom.js";
import { matchesFilters } from "./filters.js";
import { HOUR_MS, MINUTE_MS, clockZone, formatClock, formatDuration } from "./format.js";
import { PRIORITIES } from "./record.js";

const CHART_MINUTES = 60;
const CHART_TICK_MS = 1_000;
const CHART_IDLE_REDRAW_MS = 10_000; // the window slides even when nothing arrives
const CHART_MAX_RECORDS = 20_000; // a hard bound on memory, whatever the rate

const ui = {
  charts: $("charts"),
  chartMinutes: $("chart-minutes"),
  minutesTotal: $("minutes-total"),
  chartPriority: $("chart-priority"),
  chartFreshness: $("chart-freshness"),
  freshness: $("freshness"),
  freshnessNote: $("freshness-note"),
};

const charts = {
  records: new Map(), // accession -> {rec, arrivedMs}; insertion order = age in the page
  dirty: true,
  lastDraw: 0,
  lastMinute: 0,
  width: 0,
  filters: () => ({ tickers: [], forms: [], minPriority: "" }),
};
const KINDS = [...PRIORITIES, "unknown"];

const chartCutoff = (now) => now - HOUR_MS - MINUTE_MS;
const chartTime = (entry) => Math.max(entry.rec.sortKey, entry.arrivedMs);

// `arrivedMs`: when a live frame reached this page (0 for history and replayed frames).
export function chartAdd(rec, arrivedMs) {
  const known = charts.records.get(rec.accession);
  if (known) {
    if (arrivedMs && !known.arrivedMs) {
      known.arrivedMs = arrivedMs;
      charts.dirty = true;
    }
    return;
  }
  const entry = { rec, arrivedMs };
  if (chartTime(entry) < chartCutoff(Date.now())) return;
  charts.records.set(rec.accession, entry);
  charts.dirty = true;
  if (charts.records.size > CHART_MAX_RECORDS) pruneCharts(Date.now());
}

function pruneCharts(now) {
  const cutoff = chartCutoff(now);
  for (const [accession, entry] of charts.records) {
    if (chartTime(entry) < cutoff) charts.records.delete(accession);
  }
  if (charts.records.size <= CHART_MAX_RECORDS) return;
  // Still too many (a burst): the ones held longest go, down to nine tenths of the bound.
  for (const accession of charts.records.keys()) {
    if (charts.records.size <= CHART_MAX_RECORDS * 0.9) break;
    charts.records.delete(accession);
  }
}

function chartData(now) {
  const first = Math.floor(now / MINUTE_MS) * MINUTE_MS - (CHART_MINUTES - 1) * MINUTE_MS;
  const zero = () => Object.fromEntries(KINDS.map((kind) => [kind, 0]));
  const minutes = Array.from({ length: CHART_MINUTES }, (_, i) => ({
    start: first + i * MINUTE_MS,
    total: 0,
    counts: zero(),
  }));
  const mix = zero();
  let total = 0;
  const accepted = [];
  const detected = [];
  for (const { rec, arrivedMs } of charts.records.values()) {
    if (!matchesFilters(rec, charts.filters())) continue;
    if (rec.sortKey >= first) {
      // A time ahead of this browser's clock counts in the current minute.
      const i = Math.min(CHART_MINUTES - 1, Math.floor((rec.sortKey - first) / MINUTE_MS));
      const kind = PRIORITIES.includes(rec.priority) ? rec.priority : "unknown";
      minutes[i].counts[kind] += 1;
      minutes[i].total += 1;
      mix[kind] += 1;
      total += 1;
    }
    if (arrivedMs && arrivedMs >= now - HOUR_MS) {
      if (rec.sortKey) accepted.push(arrivedMs - rec.sortKey);
      if (rec.detectedMs) detected.push(arrivedMs - rec.detectedMs);
    }
  }
  const ascending = (values) => values.sort((a, b) => a - b);
  return {
    minutes,
    mix,
    total,
    freshness: { accepted: ascending(accepted), detected: ascending(detected) },
  };
}

function percentile(sorted, q) {
  if (!sorted.length) return null;
  const rank = Math.ceil(q * sorted.length); // nearest rank, 1-based
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

// The smallest of 1, 2, 4, 6, 8, 10, 20, 40, ... at least n: its half is a whole number.
function niceCount(n) {
  for (let scale = 1; ; scale *= 10) {
    for (const m of [1, 2, 4, 6, 8]) if (m * scale >= n) return m * scale;
  }
}

const NICE_DURATIONS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]
  .map((s) => s * 1000);
const niceDuration = (ms) => NICE_DURATIONS.find((d) => d >= ms) || Math.ceil(ms / HOUR_MS) * HOUR_MS;

// Drawn in CSS pixels at the box's width, so text stays its real size at any width.
const boxWidth = (box, min) => Math.max(min, Math.floor(box.clientWidth) || 600);

function drawMinutes(data) {
  const width = boxWidth(ui.chartMinutes, 280);
  const height = 180;
  const m = { top: 10, right: 10, bottom: 24, left: 34 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const yMax = niceCount(Math.max(1, ...data.minutes.map((b) => b.total)));
  const y = (v) => m.top + plotH - (v / yMax) * plotH;
  const step = plotW / CHART_MINUTES;
  const gap = step >= 6 ? 2 : step >= 3 ? 1 : 0;
  const busiest = data.minutes.reduce((a, b) => (b.total > a.total ? b : a));
  const root = svg("svg", {
    class: "chart-svg",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": data.total
      ? `Filings per minute over the last hour: ${data.total} in all; the busiest minute, ` +
        `${formatClock(busiest.start)}${clockZone}, had ${busiest.total}.`
      : "Filings per minute over the last hour: none.",
  });
  for (const tick of yMax === 1 ? [0, 1] : [0, yMax / 2, yMax]) {
    root.append(
      svg("line", { class: tick ? "grid" : "baseline", x1: m.left, x2: width - m.right,
        y1: y(tick), y2: y(tick) }),
      svg("text", { class: "axis", x: m.left - 6, y: y(tick) + 4, "text-anchor": "end" },
        String(tick)),
    );
  }
  data.minutes.forEach((bucket, i) => {
    const x = m.left + i * step;
    const group = svg("g", {
      class: "minute",
      "data-minute": new Date(bucket.start).toISOString(),
      "data-count": bucket.total,
    });
    const parts = KINDS.filter((k) => bucket.counts[k]).map((k) => `${bucket.counts[k]} ${k}`);
    group.append(
      svg("title", null,
        `${formatClock(bucket.start)}${clockZone}: ${bucket.total} ` +
        `filing${bucket.total === 1 ? "" : "s"}${parts.length ? ` (${parts.join(", ")})` : ""}`),
      svg("rect", { class: "hit", x, y: m.top, width: step, height: plotH }),
    );
    let below = 0; // low at the bottom, critical on top
    for (const kind of KINDS) {
      const n = bucket.counts[kind];
      if (!n) continue;
      const top = y(below + n);
      group.append(svg("rect", { class: `seg p-${kind}`, x: x + gap / 2, y: top,
        width: Math.max(1, step - gap), height: y(below) - top }));
      below += n;
    }
    root.append(group);
  });
  for (const i of [0, 15, 30, 45, CHART_MINUTES - 1]) {
    const last = i === CHART_MINUTES - 1;
    root.append(svg("text", {
      class: "axis",
      x: i === 0 ? m.left : last ? width - m.right : m.left + (i + 0.5) * step,
      y: height - 6,
      "text-anchor": i === 0 ? "start" : last ? "end" : "middle",
    }, formatClock(data.minutes[i].start)));
  }
  if (!data.total) {
    root.append(svg("text", { class: "chart-empty", x: m.left + plotW / 2, y: m.top + plotH / 2,
      "text-anchor": "middle" }, "No filings in the last hour"));
  }
  ui.chartMinutes.replaceChildren(root);
  ui.minutesTotal.textContent = `${data.total} in the last hour`;
}

function drawPriority(data) {
  const kinds = [...PRIORITIES].reverse(); // critical first
  if (data.mix.unknown) kinds.push("unknown");
  const width = boxWidth(ui.chartPriority, 220);
  const rowH = 30;
  const labelW = 66;
  const countW = 78;
  const barW = Math.max(40, width - labelW - countW - 8);
  const height = rowH * kinds.length + 4;
  const share = (n) => (data.total ? Math.round((100 * n) / data.total) : 0);
  const root = svg("svg", {
    class: "chart-svg",
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": `Priority mix over the last hour: ${kinds
      .map((k) => `${k} ${data.mix[k]}${data.total ? ` (${share(data.mix[k])}%)` : ""}`)
      .join(", ")}.`,
  });
  kinds.forEach((kind, i) => {
    const n = data.mix[kind];
    const mid = 2 + i * rowH + rowH / 2;
    const group = svg("g", { class: "priority-row", "data-priority": kind, "data-count": n });
    group.append(
      svg("text", { class: "label", x: 0, y: mid + 4 }, kind),
      svg("rect", { class: "track", x: labelW, y: mid - 7, width: barW, height: 14, rx: 3 }),
    );
    if (n) {
      group.append(svg("rect", { class: `seg p-${kind}`, x: labelW, y: mid - 7,
        width: Math.max(2, (barW * n) / data.total), height: 14, rx: 3 }));
    }
    group.append(svg("text", { class: "count", x: width - 2, y: mid + 4, "text-anchor": "end" },
      data.total ? `${n} · ${share(n)}%` : String(n)));
    root.append(group);
  });
  ui.chartPriority.replaceChildren(root);
}

function drawFreshness(data) {
  const stats = {};
  for (const tr of ui.freshness.tBodies[0].rows) {
    const measure = tr.dataset.measure;
    const sorted = data.freshness[measure] || [];
    stats[measure] = { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
    for (const td of tr.cells) {
      const stat = td.dataset.stat;
      if (!stat) continue;
      const value = stats[measure][stat];
      td.textContent = value === null ? "—" : formatDuration(value);
      if (value === null) delete td.dataset.ms;
      else td.dataset.ms = String(value);
    }
  }
  const n = data.freshness.accepted.length;
  ui.freshnessNote.textContent = n
    ? `From ${n} filing${n === 1 ? "" : "s"} that arrived live in the last hour.`
    : "No filing has arrived live in the last hour yet (history has no delivery time).";

  // p50 solid, p95 the lighter bar behind it, on one scale; the table above has the numbers.
  const width = boxWidth(ui.chartFreshness, 200);
  const height = 62;
  const m = { left: 84, right: 4 };
  const plotW = width - m.left - m.right;
  const top = Math.max(1, ...Object.values(stats).map((s) => s.p95 || 0));
  const scale = niceDuration(top);
  const x = (ms) => m.left + (Math.max(0, Math.min(ms, scale)) / scale) * plotW;
  const root = svg("svg", { class: "chart-svg", width, height, viewBox: `0 0 ${width} ${height}`,
    "aria-hidden": "true" });
  ["accepted", "detected"].forEach((measure, i) => {
    const s = stats[measure];
    const y = 4 + i * 20;
    const group = svg("g", { class: `freshness-row measure-${measure}` });
    group.append(svg("text", { class: "label", x: 0, y: y + 10 },
      measure === "accepted" ? "acceptance" : "detection"));
    group.append(svg("rect", { class: "track", x: m.left, y, width: plotW, height: 12, rx: 3 }));
    if (s.p95 !== null) {
      group.append(svg("rect", { class: "p95", x: m.left, y, width: x(s.p95) - m.left, height: 12,
        rx: 3 }));
      group.append(svg("rect", { class: "p50", x: m.left, y, width: x(s.p50) - m.left, height: 12,
        rx: 3 }));
    }
    root.append(group);
  });
  root.append(
    svg("text", { class: "axis", x: m.left, y: height - 4 }, "0"),
    svg("text", { class: "axis", x: width - m.right, y: height - 4, "text-anchor": "end" },
      n ? formatDuration(scale) : ""),
  );
  ui.chartFreshness.replaceChildren(root);
}

function drawCharts(now) {
  pruneCharts(now);
  const data = chartData(now);
  drawMinutes(data);
  drawPriority(data);
  drawFreshness(data);
  charts.dirty = false;
  charts.lastDraw = now;
  charts.lastMinute = Math.floor(now / MINUTE_MS);
}

// At most once a second, and only when something changed or the window moved on.
function chartTick() {
  const now = Date.now();
  const minute = Math.floor(now / MINUTE_MS);
  if (document.hidden) {
    if (minute !== charts.lastMinute) {
      pruneCharts(now); // memory stays bounded in a background tab too
      charts.lastMinute = minute;
      charts.dirty = true;
    }
    return;
  }
  if (charts.dirty || minute !== charts.lastMinute || now - charts.lastDraw >= CHART_IDLE_REDRAW_MS) {
    drawCharts(now);
  }
}

// The same records, other filters: redrawn on the next tick.
export function chartsChanged() {
  charts.dirty = true;
}

// `filters()`: the filters the charts count by.
export function startCharts(filters) {
  charts.filters = filters;
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => {
      const width = ui.charts.clientWidth;
      if (width !== charts.width) {
        charts.width = width;
        charts.dirty = true; // redrawn on the next tick, not on every resize event
      }
    }).observe(ui.charts);
  }
  setInterval(chartTick, CHART_TICK_MS);
  drawCharts(Date.now());
}
