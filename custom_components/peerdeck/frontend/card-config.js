// The settings of the Peerdeck transfers card, shared by the card and its editor.

export const CARD_TYPE = "peerdeck-transfers-card";
export const COLUMNS = ["progress", "size", "rates", "eta", "ratio", "category", "actions"];
/** What a transfer is doing, as the feed tells it (finer than the unified state where the daemon says more). */
export const STATUSES = ["downloading", "stalled", "seeding", "completed", "queued", "paused", "checking", "error", "cancelled"];
/** The unified states older card settings name; ``states`` still takes them. */
export const LEGACY_STATES = ["active", "failed"];
export const SORTS = ["added", "name", "progress", "rate", "eta", "size", "ratio"];
/** Sorts that read best smallest first by default: the least time left, the name from A. */
const ASCENDING_SORTS = ["name", "eta"];
export const DEFAULT_ROWS = 8;
export const MAX_ROWS = 50;

/** The card's settings with every default filled in; throws on a setting it cannot use. */
export function normaliseConfig(config) {
  if (!config || typeof config !== "object") throw new Error("Invalid configuration");
  const columns = config.columns ?? COLUMNS;
  const states = config.states ?? [];
  const sort = config.sort ?? "added";
  if (!Array.isArray(columns) || columns.some((column) => !COLUMNS.includes(column))) {
    throw new Error(`columns must be a list of: ${COLUMNS.join(", ")}`);
  }
  const allowed = [...STATUSES, ...LEGACY_STATES];
  if (!Array.isArray(states) || states.some((state) => !allowed.includes(state))) {
    throw new Error(`states must be a list of: ${STATUSES.join(", ")}`);
  }
  if (!SORTS.includes(sort)) throw new Error(`sort must be one of: ${SORTS.join(", ")}`);
  const rows = Number(config.rows ?? DEFAULT_ROWS);
  if (!Number.isInteger(rows) || rows < 1 || rows > MAX_ROWS) {
    throw new Error(`rows must be a whole number from 1 to ${MAX_ROWS}`);
  }
  return {
    ...config,
    entry: config.entry || null,
    columns,
    states,
    sort,
    descending: config.descending ?? !ASCENDING_SORTS.includes(sort),
    rows,
  };
}

/** Whether a row passes a list of states (statuses, or the unified states of older settings). */
export function matchesStates(row, status, states) {
  return !states.length || states.includes(status) || states.includes(row.state);
}
