// The transfer list of the Peerdeck card, virtualised: only the rows in view (plus a few either
// side) exist in the DOM, in a pool of row elements that are moved and re-bound as the list
// scrolls. The pool is kept in visual order (a row leaving the top is moved to the bottom), so
// the DOM order, and with it what a screen reader walks, is the order on screen. Binding writes a
// field only when its text differs, so an update touches the rows it changes and nothing else.
//
// It is a WAI-ARIA grid: the viewport is the one tab stop and names the active row or button by
// ``aria-activedescendant``; the card moves that row with the arrow keys (see row-focus.js).

import { formatBytes, formatEta, formatPercent, formatRate, formatRatio } from "./format.js";

export const ROW_HEIGHT = 64;
const OVERSCAN = 4;

const STATUS_ICONS = {
  downloading: "mdi:arrow-down-bold-circle",
  stalled: "mdi:progress-alert",
  seeding: "mdi:arrow-up-bold-circle",
  completed: "mdi:check-circle",
  queued: "mdi:timer-sand",
  paused: "mdi:pause-circle",
  checking: "mdi:progress-check",
  error: "mdi:alert-circle",
  cancelled: "mdi:close-circle",
};
const FOLDER_ICON = "mdi:folder-sync";
const PEER_ICON = "mdi:laptop";
/** The buttons of a row, in the order the arrow keys walk them after the row itself (cell 0). */
export const ROW_CELLS = ["row", "toggle", "delete"];

let poolSerial = 0;

const TEMPLATE = document.createElement("template");
TEMPLATE.innerHTML = `
  <div class="row" role="row">
    <ha-icon class="state" aria-hidden="true"></ha-icon>
    <div class="main" role="gridcell">
      <div class="line">
        <span class="name"></span>
        <span class="percent"></span>
      </div>
      <div class="bar" aria-hidden="true"><div class="fill"></div></div>
      <div class="meta">
        <span class="status"></span>
        <span class="eta"></span>
        <span class="rates"></span>
        <span class="size"></span>
        <span class="ratio"></span>
        <span class="tags"></span>
      </div>
    </div>
    <div class="actions" role="gridcell">
      <button class="toggle" data-action="toggle" tabindex="-1"><ha-icon aria-hidden="true"></ha-icon></button>
      <button class="delete" data-action="delete" tabindex="-1"><ha-icon icon="mdi:delete" aria-hidden="true"></ha-icon></button>
    </div>
  </div>`;

function setText(element, cache, field, text) {
  if (cache[field] !== text) {
    cache[field] = text;
    element.textContent = text;
  }
}

function setAttribute(element, cache, field, name, value) {
  if (cache[field] !== value) {
    cache[field] = value;
    if (value === null) element.removeAttribute(name);
    else element.setAttribute(name, value);
  }
}

/** A row's status; feeds from before the status field said only the unified state. */
export function rowStatus(row) {
  if (row.status) return row.status;
  return { active: "downloading", failed: "error" }[row.state] ?? row.state;
}

/** A row's state in words; Syncthing's folders and peers say it their way ("Up to date", "Disconnected"). */
export function statusLabel(t, row, status) {
  const key = `state.${row.kind}.${status}`;
  const kindText = row.kind ? t(key) : key;
  return kindText === key ? t(`state.${status}`) : kindText;
}

/** What the state icon shows: Syncthing folders and peers at work by their kind, the rest by status. */
function stateIcon(row, status) {
  if (status === "downloading" && row.kind === "folder") return FOLDER_ICON;
  if (status === "downloading" && row.kind === "peer") return PEER_ICON;
  return STATUS_ICONS[status] || STATUS_ICONS.queued;
}

export class TransferRows {
  /**
   * @param {HTMLElement} viewport the scrolling element (its first child becomes the spacer)
   * @param {object} view what every row needs: t(), locale, columns (Set), maxRows, describe(row),
   *   canAct(row, action), pending(key) -> action or undefined, error(key) -> text or undefined,
   *   and rendered() called after every render (the card re-points its active row)
   */
  constructor(viewport, view) {
    this.viewport = viewport;
    this.view = view;
    this.keys = [];
    this.rows = new Map();
    this.pool = []; // elements of rows start .. start + pool.length - 1, in that order
    this.start = 0;
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    viewport.replaceChildren(this.spacer);
    this._frame = 0;
    viewport.addEventListener("scroll", () => {
      if (!this._frame) {
        this._frame = requestAnimationFrame(() => {
          this._frame = 0;
          this.render();
        });
      }
    });
  }

  /** Show ``keys`` (already filtered and sorted) out of ``rows``; re-binds only what moved or changed. */
  show(keys, rows, changed = null) {
    const sizeChanged = keys.length !== this.keys.length;
    this.keys = keys;
    this.rows = rows;
    if (sizeChanged) {
      const visible = Math.min(keys.length, this.view.maxRows);
      this.viewport.style.height = `${visible * ROW_HEIGHT}px`;
      this.spacer.style.height = `${keys.length * ROW_HEIGHT}px`;
      this.viewport.setAttribute("aria-rowcount", String(keys.length));
    }
    this.render(changed);
  }

  /** Re-bind the rows of ``changed`` keys that are in view; the order is unchanged. */
  update(changed) {
    for (const element of this.pool) {
      if (element._key !== undefined && changed.has(element._key)) {
        this._bind(element, this.rows.get(element._key));
      }
    }
  }

  /** Re-bind every row in view (after a language or column change). */
  rebindAll() {
    for (const element of this.pool) {
      element._cache = {};
      element._key = undefined;
    }
    this.render();
  }

  /** The key of the row an event happened in, or undefined. */
  keyOf(target) {
    const element = target.closest?.(".row");
    return element ? element._key : undefined;
  }

  /** The element showing ``key`` now, or undefined when it is out of the rendered window. */
  elementOf(key) {
    return this.pool.find((element) => element._key === key);
  }

  /** How many rows the viewport shows at once. */
  get pageSize() {
    return Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) || this.view.maxRows);
  }

  /** Scroll the least needed to show row ``index`` whole, and render at once. */
  scrollToIndex(index) {
    const top = index * ROW_HEIGHT;
    const viewport = this.viewport;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight) {
      viewport.scrollTop = top + ROW_HEIGHT - viewport.clientHeight;
    }
    this.render();
  }

  _create() {
    const element = TEMPLATE.content.firstElementChild.cloneNode(true);
    poolSerial += 1;
    element.id = `pd-row-${poolSerial}`;
    element._cache = {};
    element._parts = {
      state: element.querySelector(".state"),
      main: element.querySelector(".main"),
      name: element.querySelector(".name"),
      percent: element.querySelector(".percent"),
      bar: element.querySelector(".bar"),
      fill: element.querySelector(".fill"),
      status: element.querySelector(".status"),
      size: element.querySelector(".size"),
      rates: element.querySelector(".rates"),
      eta: element.querySelector(".eta"),
      ratio: element.querySelector(".ratio"),
      tags: element.querySelector(".tags"),
      actions: element.querySelector(".actions"),
      toggle: element.querySelector(".toggle"),
      toggleIcon: element.querySelector(".toggle ha-icon"),
      remove: element.querySelector(".delete"),
    };
    element._parts.toggle.id = `${element.id}-toggle`;
    element._parts.remove.id = `${element.id}-delete`;
    return element;
  }

  render(changed = null) {
    const total = this.keys.length;
    const visible = Math.min(total, this.view.maxRows);
    const wanted = Math.min(total, visible + 2 * OVERSCAN);
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const start = Math.max(0, Math.min(first, total - wanted));
    this._arrange(start, wanted);
    for (let slot = 0; slot < wanted; slot += 1) {
      const index = start + slot;
      const element = this.pool[slot];
      const key = this.keys[index];
      if (element._index !== index) {
        element._index = index;
        element.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
        element.setAttribute("aria-rowindex", String(index + 1));
      }
      if (element.hidden) element.hidden = false;
      if (element._key !== key || (changed && changed.has(key))) {
        element._key = key;
        this._bind(element, this.rows.get(key));
      }
    }
    for (let slot = wanted; slot < this.pool.length; slot += 1) {
      const element = this.pool[slot];
      if (!element.hidden) {
        element._key = undefined;
        element._index = undefined;
        element.hidden = true;
      }
    }
    this.view.rendered?.();
  }

  /** Put the pool in the order of rows ``start`` … on screen: a scroll by k rows moves k elements. */
  _arrange(start, wanted) {
    while (this.pool.length < wanted) {
      const element = this._create();
      this.pool.push(element);
      this.viewport.append(element);
    }
    const shift = start - this.start;
    this.start = start;
    if (shift === 0 || Math.abs(shift) >= wanted) return;
    if (shift > 0) {
      // Rows left at the top: their elements go to the end of the window (after the last shown one).
      const moved = this.pool.splice(0, shift);
      const anchor = this.pool[wanted - shift - 1];
      anchor.after(...moved);
      this.pool.splice(wanted - shift, 0, ...moved);
    } else {
      const moved = this.pool.splice(wanted + shift, -shift);
      this.spacer.after(...moved);
      this.pool.unshift(...moved);
    }
  }

  _bind(element, row) {
    const { t, locale, columns } = this.view;
    const cache = element._cache;
    const parts = element._parts;
    const key = element._key;
    const status = rowStatus(row);
    const pending = this.view.pending(key);
    const error = this.view.error(key);
    // null: the daemon cannot tell (SoulSync lists 0 % until a download completes) — shown as unknown, not 0 %.
    const known = row.progress !== null && row.progress !== undefined;
    const progress = known ? Math.min(1, Math.max(0, Number(row.progress) || 0)) : 0;
    const statusText = pending ? t(`pending.${pending}`) : statusLabel(t, row, status);
    const percent = known ? formatPercent(progress, locale) : "–";
    setAttribute(element, cache, "stateClass", "data-state", status);
    setAttribute(element, cache, "pending", "data-pending", pending ?? null);
    setAttribute(element, cache, "busy", "aria-busy", pending ? "true" : null);
    setAttribute(element, cache, "gone", "data-gone", row.gone ? "" : null);
    setAttribute(element, cache, "label", "aria-label", `${row.name}, ${row.gone ? t("removed") : statusText}, ${percent}`);
    setAttribute(parts.state, cache, "icon", "icon", stateIcon(row, status));
    setText(parts.name, cache, "name", row.name);
    setAttribute(parts.name, cache, "title", "title", row.name);
    setText(parts.percent, cache, "percent", percent);
    setAttribute(parts.bar, cache, "barHidden", "hidden", columns.has("progress") ? null : "");
    const fill = `scaleX(${progress.toFixed(4)})`;
    if (cache.fill !== fill) {
      cache.fill = fill;
      parts.fill.style.transform = fill;
    }
    setText(parts.status, cache, "status", error || (row.gone ? t("removed") : statusText));
    setAttribute(parts.status, cache, "statusError", "data-error", error ? "" : null);
    const size =
      columns.has("size") && row.size
        ? `${formatBytes(row.done ?? row.size * progress, locale)} / ${formatBytes(row.size, locale)}`
        : "";
    setText(parts.size, cache, "size", size);
    const rates = columns.has("rates")
      ? [row.download_rate ? `↓ ${formatRate(row.download_rate, locale)}` : "",
         row.upload_rate ? `↑ ${formatRate(row.upload_rate, locale)}` : ""].filter(Boolean).join(" ")
      : "";
    setText(parts.rates, cache, "rates", rates);
    const eta = columns.has("eta") && (status === "downloading" || status === "stalled") ? formatEta(row.eta, locale) : "";
    setText(parts.eta, cache, "eta", eta);
    const ratio = columns.has("ratio") && row.ratio !== null && row.ratio !== undefined
      ? t("ratio_short", { ratio: formatRatio(row.ratio, locale) }) : "";
    setText(parts.ratio, cache, "ratio", ratio);
    setText(parts.tags, cache, "tags", columns.has("category") ? this.view.describe(row) : "");
    setAttribute(parts.actions, cache, "actionsHidden", "hidden", columns.has("actions") ? null : "");
    const resume = row.state === "paused";
    const toggle = resume ? "resume" : "pause";
    const locked = Boolean(pending || row.gone);
    setAttribute(parts.toggle, cache, "toggleHidden", "hidden", this.view.canAct(row, toggle) ? null : "");
    setAttribute(parts.toggle, cache, "toggleAction", "data-action", toggle);
    setAttribute(parts.toggle, cache, "toggleLabel", "aria-label", `${t(toggle)}: ${row.name}`);
    setAttribute(parts.toggle, cache, "toggleTitle", "title", t(toggle));
    setAttribute(parts.toggle, cache, "toggleDisabled", "disabled", locked ? "" : null);
    setAttribute(parts.toggleIcon, cache, "toggleIcon", "icon", resume ? "mdi:play" : "mdi:pause");
    const removeText = t(row.kind ? `delete_${row.kind}` : "delete");
    setAttribute(parts.remove, cache, "removeHidden", "hidden", this.view.canAct(row, "remove") ? null : "");
    setAttribute(parts.remove, cache, "removeLabel", "aria-label", `${removeText}: ${row.name}`);
    setAttribute(parts.remove, cache, "removeTitle", "title", removeText);
    setAttribute(parts.remove, cache, "removeDisabled", "disabled", locked ? "" : null);
  }
}
