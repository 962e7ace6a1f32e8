// The transfer list of the Peerdeck card, virtualised: only the rows in view (plus a few either
// side) exist in the DOM, in a fixed pool of row elements that are moved and re-bound as the list
// scrolls. Binding writes a field only when its text differs, so an update touches the rows it
// changes and nothing else.

import { formatBytes, formatEta, formatPercent, formatRate } from "./format.js";

export const ROW_HEIGHT = 64;
const OVERSCAN = 4;

const STATE_ICONS = {
  queued: "mdi:timer-sand",
  active: "mdi:arrow-down-bold-circle",
  paused: "mdi:pause-circle",
  completed: "mdi:check-circle",
  failed: "mdi:alert-circle",
  cancelled: "mdi:close-circle",
};
const FOLDER_ICON = "mdi:folder-sync";
const PEER_ICON = "mdi:laptop";

const TEMPLATE = document.createElement("template");
TEMPLATE.innerHTML = `
  <div class="row" role="listitem">
    <ha-icon class="state"></ha-icon>
    <div class="main">
      <div class="line">
        <span class="name"></span>
        <span class="percent"></span>
      </div>
      <div class="bar"><div class="fill"></div></div>
      <div class="meta">
        <span class="size"></span>
        <span class="rates"></span>
        <span class="eta"></span>
        <span class="tags"></span>
      </div>
    </div>
    <div class="actions">
      <button class="toggle" data-action="toggle"><ha-icon></ha-icon></button>
      <button class="delete" data-action="delete"><ha-icon icon="mdi:delete"></ha-icon></button>
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

/** What the state icon shows: Syncthing folders and peers by their kind, transfers by state. */
function stateIcon(row) {
  if (row.state === "active" && row.category === "folder") return FOLDER_ICON;
  if (row.state === "active" && row.category === "device") return PEER_ICON;
  return STATE_ICONS[row.state] || STATE_ICONS.queued;
}

export class TransferRows {
  /**
   * @param {HTMLElement} viewport the scrolling element (its first child becomes the spacer)
   * @param {object} view what every row needs: t(), locale, columns (Set), maxRows, describe(row) and
   *   canAct(row, action)
   */
  constructor(viewport, view) {
    this.viewport = viewport;
    this.view = view;
    this.keys = [];
    this.rows = new Map();
    this.pool = [];
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

  render(changed = null) {
    const total = this.keys.length;
    const visible = Math.min(total, this.view.maxRows);
    const wanted = Math.min(total, visible + 2 * OVERSCAN);
    while (this.pool.length < wanted) {
      const element = TEMPLATE.content.firstElementChild.cloneNode(true);
      element._cache = {};
      element._parts = {
        state: element.querySelector(".state"),
        name: element.querySelector(".name"),
        percent: element.querySelector(".percent"),
        bar: element.querySelector(".bar"),
        fill: element.querySelector(".fill"),
        size: element.querySelector(".size"),
        rates: element.querySelector(".rates"),
        eta: element.querySelector(".eta"),
        tags: element.querySelector(".tags"),
        actions: element.querySelector(".actions"),
        toggle: element.querySelector(".toggle"),
        toggleIcon: element.querySelector(".toggle ha-icon"),
        remove: element.querySelector(".delete"),
      };
      this.pool.push(element);
      this.viewport.append(element);
    }
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const start = Math.max(0, Math.min(first, total - wanted));
    // Row ``index`` always lives in slot ``index % wanted``: a scroll by one row re-binds one element.
    for (let index = start; index < start + wanted; index += 1) {
      const element = this.pool[index % wanted];
      const key = this.keys[index];
      if (element._index !== index) {
        element._index = index;
        element.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
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
  }

  _bind(element, row) {
    const { t, locale, columns } = this.view;
    const cache = element._cache;
    const parts = element._parts;
    // null: the daemon cannot tell (SoulSync lists 0 % until a download completes) — shown as unknown, not 0 %.
    const known = row.progress !== null && row.progress !== undefined;
    const progress = known ? Math.min(1, Math.max(0, Number(row.progress) || 0)) : 0;
    setAttribute(element, cache, "stateClass", "data-state", row.state);
    setAttribute(parts.state, cache, "icon", "icon", stateIcon(row));
    setAttribute(parts.state, cache, "stateLabel", "title", t(`state.${row.state}`));
    setText(parts.name, cache, "name", row.name);
    setAttribute(parts.name, cache, "title", "title", row.name);
    setText(parts.percent, cache, "percent", known ? formatPercent(progress, locale) : "–");
    setAttribute(parts.bar, cache, "barHidden", "hidden", columns.has("progress") ? null : "");
    const fill = `scaleX(${progress.toFixed(4)})`;
    if (cache.fill !== fill) {
      cache.fill = fill;
      parts.fill.style.transform = fill;
    }
    const size = columns.has("size") && row.size ? `${formatBytes(row.done ?? row.size * progress, locale)} / ${formatBytes(row.size, locale)}` : "";
    setText(parts.size, cache, "size", size);
    const rates = columns.has("rates")
      ? [row.download_rate ? `↓ ${formatRate(row.download_rate, locale)}` : "",
         row.upload_rate ? `↑ ${formatRate(row.upload_rate, locale)}` : ""].filter(Boolean).join(" ")
      : "";
    setText(parts.rates, cache, "rates", rates);
    setText(parts.eta, cache, "eta", columns.has("eta") && row.state === "active" ? formatEta(row.eta, locale) : "");
    setText(parts.tags, cache, "tags", columns.has("category") ? this.view.describe(row) : "");
    setAttribute(parts.actions, cache, "actionsHidden", "hidden", columns.has("actions") ? null : "");
    const resume = row.state === "paused";
    const toggle = resume ? "resume" : "pause";
    setAttribute(parts.toggle, cache, "toggleHidden", "hidden", this.view.canAct(row, toggle) ? null : "");
    setAttribute(parts.toggle, cache, "toggleAction", "data-action", toggle);
    setAttribute(parts.toggle, cache, "toggleLabel", "aria-label", `${t(toggle)}: ${row.name}`);
    setAttribute(parts.toggle, cache, "toggleTitle", "title", t(toggle));
    setAttribute(parts.toggleIcon, cache, "toggleIcon", "icon", resume ? "mdi:play" : "mdi:pause");
    setAttribute(parts.remove, cache, "removeHidden", "hidden", this.view.canAct(row, "remove") ? null : "");
    setAttribute(parts.remove, cache, "removeLabel", "aria-label", `${t("delete")}: ${row.name}`);
    setAttribute(parts.remove, cache, "removeTitle", "title", t("delete"));
  }
}
