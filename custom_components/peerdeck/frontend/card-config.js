// The settings of the Peerdeck transfers card, shared by the card and its editor.

export const CARD_TYPE = "peerdeck-transfers-card";
export const COLUMNS = ["progress", "size", "rates", "eta", "category", "actions"];
export const STATES = ["active", "queued", "paused", "completed", "failed", "cancelled"];
export const SORTS = ["added", "name", "progress", "rate"];
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
  if (!Array.isArray(states) || states.some((state) => !STATES.includes(state))) {
    throw new Error(`states must be a list of: ${STATES.join(", ")}`);
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
    descending: config.descending ?? sort !== "name",
    rows,
  };
}
