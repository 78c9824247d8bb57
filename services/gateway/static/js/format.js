// Numbers, money, times and durations as the page writes them (en-US; times in US Eastern,
// EDGAR's zone, else UTC where the browser has no time-zone data).

import { text } from "./record.js";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

export const numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 4 });
const moneyFormat = new Intl.NumberFormat("en-US", {
  style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2,
});
export const shareMoneyFormat = new Intl.NumberFormat("en-US", {
  style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 4,
});

export const finite = (v) => typeof v === "number" && Number.isFinite(v);
export const num = (v) => (finite(v) ? numberFormat.format(v) : "—");

export function money(v) {
  if (!finite(v)) return "—";
  const size = Math.abs(v);
  if (size >= 1e9) return `${v < 0 ? "-" : ""}$${numberFormat.format(+(size / 1e9).toFixed(2))}B`;
  if (size >= 1e6) return `${v < 0 ? "-" : ""}$${numberFormat.format(+(size / 1e6).toFixed(2))}M`;
  return moneyFormat.format(v);
}

export function amount(v, unit) {
  if (!finite(v)) return "—";
  if (text(unit) === "USD/share") return shareMoneyFormat.format(v);
  return text(unit).startsWith("USD") ? money(v) : `${num(v)} ${text(unit)}`;
}

function easternFormat(options) {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hourCycle: "h23",
      ...options });
  } catch {
    return null;
  }
}

const easternParts = easternFormat({
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

export function formatEastern(ms) {
  if (!ms) return "";
  const date = new Date(ms);
  if (!easternParts) return date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  const p = Object.fromEntries(easternParts.formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

const easternClock = easternFormat({ hour: "2-digit", minute: "2-digit" });

export const formatClock = (ms) =>
  easternClock ? easternClock.format(ms) : `${new Date(ms).toISOString().slice(11, 16)} UTC`;
export const clockZone = easternClock ? " ET" : "";

export function formatDuration(ms) {
  const sign = ms < 0 ? "−" : "";
  const a = Math.abs(ms);
  if (a < 10_000) return `${sign}${(a / 1000).toFixed(1)} s`;
  if (a < MINUTE_MS) return `${sign}${Math.round(a / 1000)} s`;
  if (a < HOUR_MS) {
    const s = Math.round(a / 1000);
    return `${sign}${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  }
  const m = Math.round(a / MINUTE_MS);
  return `${sign}${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}
