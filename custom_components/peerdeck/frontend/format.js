// Number formatting of the Peerdeck card: sizes, rates and times in the user's locale.
// Intl formatters are costly to build, so each (locale, unit) pair is built once.

const UNITS = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte", "petabyte"];
const formatters = new Map();

function formatter(locale, unit, digits) {
  const key = `${locale}|${unit}|${digits}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.NumberFormat(locale, {
      style: "unit",
      unit,
      unitDisplay: "short", // "1.4 MB", "3 min"
      maximumFractionDigits: digits,
    });
    formatters.set(key, found);
  }
  return found;
}

function scaled(bytes) {
  let value = Math.max(0, Number(bytes) || 0);
  let index = 0;
  while (value >= 1000 && index < UNITS.length - 1) {
    value /= 1000;
    index += 1;
  }
  return [value, UNITS[index]];
}

/** A plain number in the user's locale, with at most ``digits`` decimals. */
function formatNumber(value, locale, digits) {
  const key = `${locale}|number|${digits}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.NumberFormat(locale, { maximumFractionDigits: digits });
    formatters.set(key, found);
  }
  return found.format(value);
}

// Format and control characters (direction overrides and isolates, zero-width spaces and joiners,
// byte-order marks) and letters that draw nothing (Hangul fillers, the blank braille cell).
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u115f\u1160\u3164\uffa0\u2800\u034f]/gu;
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
// Whether a text needs any of that: almost no name does, and the card reads 20,000 of them at once.
const NEEDS_WORK = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u115f\u1160\u3164\uffa0\u2800\u034f]|[^\S ]| {2}|^ | $/u;

/**
 * Daemon-supplied text made honest to show: no direction overrides, no invisible characters, runs of
 * white space as one space. "evil\u202egpj.exe" would otherwise show as "evilexe.jpg".
 */
export function plainText(value) {
  if (value === null || value === undefined) return "";
  const text = String(value);
  if (!NEEDS_WORK.test(text)) return text;
  return text.replace(BREAKS, " ").replace(INVISIBLE, "").replace(/\s+/gu, " ").trim();
}

/** A daemon-supplied name, honest (see plainText); ``blank`` when nothing visible is left. */
export function plainName(value, blank) {
  const text = plainText(value);
  return /^\p{M}*$/u.test(text) ? blank : text;
}

/** A byte count as "1.4 GB" or "0 B" (decimal units, as Home Assistant's data sensors show them).
 * Bytes are written by hand: Intl's narrow byte unit has no space ("0B"), its short one is a word. */
export function formatBytes(bytes, locale) {
  if (bytes === null || bytes === undefined) return "";
  const [value, unit] = scaled(bytes);
  if (unit === "byte") return `${formatNumber(value, locale, 0)} B`;
  return formatter(locale, unit, value < 10 ? 1 : 0).format(value);
}

/** A share ratio as "1.25". */
export function formatRatio(ratio, locale) {
  return formatNumber(Math.max(0, Number(ratio) || 0), locale, 2);
}

/** An ISO time as a short date and time in the user's locale; "" when unknown. */
export function formatTime(iso, locale) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const key = `${locale}|time`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
    formatters.set(key, found);
  }
  return found.format(date);
}

/** A rate in bytes per second as "1.4 MB/s". */
export function formatRate(bytesPerSecond, locale) {
  const [value, unit] = scaled(bytesPerSecond);
  if (unit === "byte") return `${formatNumber(value, locale, 0)} B/s`;
  return formatter(locale, `${unit}-per-second`, value < 10 ? 1 : 0).format(value);
}

/** Seconds left as "2 h 5 min", the two largest parts only; "" when unknown. */
export function formatEta(seconds, locale) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "";
  const parts = [
    ["day", Math.floor(seconds / 86400)],
    ["hour", Math.floor((seconds % 86400) / 3600)],
    ["minute", Math.floor((seconds % 3600) / 60)],
    ["second", Math.floor(seconds % 60)],
  ];
  const first = parts.findIndex(([, amount]) => amount > 0);
  if (first === -1) return formatter(locale, "second", 0).format(0);
  return parts
    .slice(first, first + 2)
    .filter(([, amount]) => amount > 0)
    .map(([unit, amount]) => formatter(locale, unit, 0).format(amount))
    .join(" ");
}

/** Progress 0..1 as "42 %" in the user's locale. */
export function formatPercent(progress, locale) {
  const key = `${locale}|percent`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 });
    formatters.set(key, found);
  }
  return found.format(Math.min(1, Math.max(0, Number(progress) || 0)));
}
