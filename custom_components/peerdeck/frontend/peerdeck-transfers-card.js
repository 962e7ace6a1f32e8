// The Peerdeck transfers card: every transfer of one Peerdeck entry (or of all of them merged), live.
// It subscribes to ``peerdeck/transfers/subscribe`` (the full list once, then diffs) and acts through
// the integration's own actions (peerdeck.pause / resume / remove). Plain web component, no build step.

import { CARD_TYPE, DEFAULT_ROWS, SORTS, STATES, normaliseConfig } from "./card-config.js";
import { formatRate } from "./format.js";
import { translator } from "./translations.js";
import { ROW_HEIGHT, TransferRows } from "./transfer-rows.js";

const SPARK_SAMPLES = 60;
const SPARK_EVERY_MS = 5000;
const RECONNECT_MS = 10000;
const LONG_PRESS_MS = 500;
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Which row fields each sort reads, so an update that touches none of them keeps the order. */
const SORT_FIELDS = {
  added: ["added_at"],
  name: ["name"],
  progress: ["progress"],
  rate: ["download_rate", "upload_rate"],
};
const SORT_VALUES = {
  added: (row) => (row.added_at ? Date.parse(row.added_at) : 0),
  progress: (row) => Number(row.progress) || 0,
  rate: (row) => (row.download_rate || 0) + (row.upload_rate || 0),
};

const STYLE = `
  :host { display: block; }
  ha-card { overflow: hidden; color: var(--primary-text-color, #212121);
    background: var(--ha-card-background, var(--card-background-color, #fff)); }
  .header { display: flex; align-items: center; gap: 12px; padding: 12px 16px 4px; }
  .title { flex: 1 1 auto; min-width: 0; font-size: var(--ha-card-header-font-size, 20px); font-weight: 500;
    white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .totals { display: flex; flex-direction: column; align-items: flex-end; font-size: 13px;
    font-variant-numeric: tabular-nums; white-space: nowrap; }
  .down { color: var(--primary-color, #03a9f4); }
  .up { color: var(--accent-color, #ff9800); }
  svg.spark { width: 120px; height: 32px; flex: none; border-bottom: 1px solid var(--divider-color, #e0e0e0); }
  svg.spark polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
  svg.spark polyline.down { stroke: var(--primary-color, #03a9f4); }
  svg.spark polyline.up { stroke: var(--accent-color, #ff9800); }
  .notice { margin: 4px 16px; color: var(--error-color, #db4437); font-size: 13px; }
  .notice:empty { display: none; }
  .toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; padding: 8px 16px; }
  .toolbar input { flex: 1 1 140px; min-width: 100px; }
  input, select, button { font: inherit; font-size: 14px; color: var(--primary-text-color, #212121);
    background: var(--secondary-background-color, #f5f5f5); border: 1px solid var(--divider-color, #e0e0e0);
    border-radius: 8px; height: 36px; padding: 0 8px; box-sizing: border-box; }
  button { cursor: pointer; display: inline-flex; align-items: center; gap: 4px; }
  button:focus-visible, input:focus-visible, select:focus-visible, .viewport:focus-visible {
    outline: 2px solid var(--primary-color, #03a9f4); outline-offset: 1px; }
  .count { margin-left: auto; color: var(--secondary-text-color, #727272); font-size: 13px; white-space: nowrap; }
  .viewport { position: relative; overflow-y: auto; overflow-x: hidden; contain: strict; }
  .spacer { width: 1px; }
  .row { position: absolute; top: 0; left: 0; right: 0; height: ${ROW_HEIGHT}px; box-sizing: border-box;
    display: flex; align-items: center; gap: 12px; padding: 0 8px 0 16px; contain: layout paint;
    border-top: 1px solid var(--divider-color, #e0e0e0); }
  .row[hidden] { display: none; }
  ha-icon.state { flex: none; color: var(--state-icon-color, #44739e); }
  .row[data-state="active"] ha-icon.state { color: var(--primary-color, #03a9f4); }
  .row[data-state="completed"] ha-icon.state { color: var(--success-color, #43a047); }
  .row[data-state="failed"] ha-icon.state { color: var(--error-color, #db4437); }
  .row[data-state="paused"] ha-icon.state, .row[data-state="queued"] ha-icon.state,
  .row[data-state="cancelled"] ha-icon.state { color: var(--disabled-text-color, #9e9e9e); }
  .main { flex: 1 1 auto; min-width: 0; display: flex; flex-direction: column; gap: 3px; }
  .line { display: flex; gap: 8px; align-items: baseline; }
  .name { flex: 1 1 auto; min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
    font-size: 14px; }
  .percent { flex: none; font-size: 13px; color: var(--secondary-text-color, #727272);
    font-variant-numeric: tabular-nums; }
  .bar { height: 4px; border-radius: 2px; background: var(--divider-color, #e0e0e0); overflow: hidden; }
  .fill { height: 100%; background: var(--primary-color, #03a9f4); transform-origin: left; transform: scaleX(0); }
  .row[data-state="completed"] .fill { background: var(--success-color, #43a047); }
  .row[data-state="failed"] .fill { background: var(--error-color, #db4437); }
  .row[data-state="paused"] .fill { background: var(--disabled-text-color, #9e9e9e); }
  .meta { display: flex; gap: 12px; font-size: 12px; color: var(--secondary-text-color, #727272);
    white-space: nowrap; overflow: hidden; font-variant-numeric: tabular-nums; }
  .meta span:empty { display: none; }
  .tags { overflow: hidden; text-overflow: ellipsis; }
  .actions { flex: none; display: flex; gap: 4px; }
  .actions button { width: 36px; justify-content: center; padding: 0; background: none; border-color: transparent; }
  .actions button:hover { background: var(--secondary-background-color, #f5f5f5); }
  .empty { padding: 16px; color: var(--secondary-text-color, #727272); text-align: center; }
  .empty[hidden] { display: none; }
  .fullname { position: absolute; left: 16px; right: 16px; z-index: 2; padding: 8px 12px; border-radius: 8px;
    background: var(--primary-text-color, #212121); color: var(--card-background-color, #fff);
    font-size: 13px; overflow-wrap: anywhere; }
  .fullname[hidden] { display: none; }
  dialog { border: none; border-radius: 12px; padding: 20px; max-width: min(90vw, 420px);
    background: var(--card-background-color, #fff); color: var(--primary-text-color, #212121); }
  dialog::backdrop { background: rgba(0, 0, 0, 0.4); }
  dialog h2 { margin: 0 0 12px; font-size: 18px; font-weight: 500; overflow-wrap: anywhere; }
  dialog label { display: flex; gap: 8px; align-items: center; margin: 8px 0 16px; }
  dialog label[hidden] { display: none; }
  dialog input[type="checkbox"] { width: 18px; height: 18px; }
  dialog .buttons { display: flex; justify-content: flex-end; gap: 8px; }
  dialog button.confirm { background: var(--error-color, #db4437); color: #fff; border-color: transparent; }
`;

const SHELL = `
  <ha-card>
    <div class="header">
      <div class="title"></div>
      <svg class="spark" viewBox="0 0 ${SPARK_SAMPLES - 1} 100" preserveAspectRatio="none" role="img">
        <title></title>
        <polyline class="down" points=""></polyline>
        <polyline class="up" points=""></polyline>
      </svg>
      <div class="totals"><span class="down"></span><span class="up"></span></div>
    </div>
    <div class="notice" role="status"></div>
    <div class="toolbar">
      <input class="filter" type="search" />
      <select class="state-filter"></select>
      <select class="sort"></select>
      <button class="direction"><ha-icon></ha-icon></button>
      <button class="pause-all"><ha-icon icon="mdi:pause"></ha-icon><span></span></button>
      <button class="resume-all"><ha-icon icon="mdi:play"></ha-icon><span></span></button>
      <span class="count"></span>
    </div>
    <div class="fullname" role="tooltip" hidden></div>
    <div class="viewport" role="list" tabindex="0"></div>
    <div class="empty" hidden></div>
    <dialog class="confirm-delete">
      <form method="dialog">
        <h2></h2>
        <label class="with-data"><input type="checkbox" class="delete-data" /><span></span></label>
        <div class="buttons">
          <button value="cancel" class="cancel"></button>
          <button value="delete" class="confirm"></button>
        </div>
      </form>
    </dialog>
  </ha-card>`;

class PeerdeckTransfersCard extends HTMLElement {
  static getStubConfig() {
    return {};
  }

  static async getConfigElement() {
    await import("./peerdeck-transfers-card-editor.js");
    return document.createElement(`${CARD_TYPE}-editor`);
  }

  constructor() {
    super();
    this._rows = new Map(); // "entry|transfer id" -> row
    this._feeds = new Map(); // entry id -> {title, daemon, capabilities, status}
    this._unsubscribes = [];
    this._generation = 0;
    this._samples = [];
    this._textFilter = "";
    this._stateFilter = "";
    this._pending = null;
  }

  setConfig(config) {
    const previous = this._config;
    this._config = normaliseConfig(config);
    this._sort = this._config.sort;
    this._descending = this._config.descending;
    if (this._built) {
      this._view.columns = new Set(this._config.columns);
      this._view.maxRows = this._config.rows;
      this._label();
      this._list.rebindAll();
      this._relist();
    }
    if (!previous || previous.entry !== this._config.entry) this._resubscribe();
  }

  set hass(hass) {
    const previous = this._hass;
    this._hass = hass;
    if (!this._built) this._build();
    const language = hass?.locale?.language || hass?.language;
    if (language !== this._language) {
      this._language = language;
      this._t = translator(hass);
      this._view.t = this._t;
      this._view.locale = language;
      this._label();
      this._list.rebindAll();
    }
    if (!previous || previous.connection !== hass.connection) this._resubscribe();
  }

  get hass() {
    return this._hass;
  }

  connectedCallback() {
    if (!this._built) this._build();
    this._timer = setInterval(() => this._sample(), SPARK_EVERY_MS);
    if (this._hass && !this._unsubscribes.length) this._resubscribe();
  }

  disconnectedCallback() {
    clearInterval(this._timer);
    clearTimeout(this._reconnect);
    this._unsubscribeAll();
  }

  getCardSize() {
    return 3 + Math.ceil((Math.min(this._config?.rows ?? DEFAULT_ROWS, this._keys?.length ?? 1) * ROW_HEIGHT) / 50);
  }

  getGridOptions() {
    return { columns: "full", min_columns: 6 };
  }

  // ------------------------------------------------------------------ building

  _build() {
    this._built = true;
    this._t = translator(this._hass);
    const root = this.attachShadow({ mode: "open" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    const shell = document.createElement("template");
    shell.innerHTML = SHELL;
    root.append(style, shell.content);
    const $ = (selector) => root.querySelector(selector);
    this._el = {
      title: $(".title"),
      spark: $("svg.spark"),
      sparkTitle: $("svg.spark title"),
      sparkDown: $("svg.spark polyline.down"),
      sparkUp: $("svg.spark polyline.up"),
      down: $(".totals .down"),
      up: $(".totals .up"),
      notice: $(".notice"),
      filter: $(".filter"),
      stateFilter: $(".state-filter"),
      sort: $(".sort"),
      direction: $(".direction"),
      directionIcon: $(".direction ha-icon"),
      pauseAll: $(".pause-all"),
      resumeAll: $(".resume-all"),
      count: $(".count"),
      fullname: $(".fullname"),
      viewport: $(".viewport"),
      empty: $(".empty"),
      dialog: $("dialog"),
      dialogTitle: $("dialog h2"),
      withData: $("dialog .with-data"),
      deleteData: $("dialog .delete-data"),
    };
    const config = this._config ?? normaliseConfig({});
    this._view = {
      t: this._t,
      locale: this._hass?.locale?.language,
      columns: new Set(config.columns),
      maxRows: config.rows,
      describe: (row) => this._describe(row),
      canAct: (row, action) => Boolean(this._feeds.get(row.entry)?.capabilities?.[action]),
    };
    this._list = new TransferRows(this._el.viewport, this._view);
    this._keys = [];
    this._el.filter.addEventListener("input", () => {
      this._textFilter = this._el.filter.value.trim().toLocaleLowerCase();
      this._relist();
    });
    this._el.stateFilter.addEventListener("change", () => {
      this._stateFilter = this._el.stateFilter.value;
      this._relist();
    });
    this._el.sort.addEventListener("change", () => {
      this._sort = this._el.sort.value;
      this._relist();
    });
    this._el.direction.addEventListener("click", () => {
      this._descending = !this._descending;
      this._label();
      this._relist();
    });
    this._el.pauseAll.addEventListener("click", () => this._all("pause"));
    this._el.resumeAll.addEventListener("click", () => this._all("resume"));
    this._el.viewport.addEventListener("click", (event) => this._rowClick(event));
    this._el.viewport.addEventListener("pointerdown", (event) => this._pressStart(event));
    for (const end of ["pointerup", "pointerleave", "pointercancel", "scroll"]) {
      this._el.viewport.addEventListener(end, () => clearTimeout(this._pressTimer));
    }
    this._el.dialog.addEventListener("close", () => this._confirmed());
    this._label();
  }

  /** Every fixed text of the card, in the user's language. */
  _label() {
    const t = this._t;
    const el = this._el;
    el.title.textContent = this._config?.title || this._feedTitle() || t("title");
    el.filter.placeholder = t("filter_text");
    el.filter.setAttribute("aria-label", t("filter_text"));
    const stateOptions = [["", t("all_states")], ...STATES.map((state) => [state, t(`state.${state}`)])];
    el.stateFilter.replaceChildren(...stateOptions.map(([value, text]) => new Option(text, value)));
    el.stateFilter.value = this._stateFilter;
    el.stateFilter.setAttribute("aria-label", t("all_states"));
    el.sort.replaceChildren(...SORTS.map((sort) => new Option(t(`sort.${sort}`), sort)));
    el.sort.value = this._sort ?? "added";
    el.sort.setAttribute("aria-label", t("sort"));
    const direction = this._descending ? "sort_descending" : "sort_ascending";
    el.direction.setAttribute("aria-label", t(direction));
    el.direction.title = t(direction);
    el.directionIcon.setAttribute("icon", this._descending ? "mdi:sort-descending" : "mdi:sort-ascending");
    el.pauseAll.querySelector("span").textContent = t("pause_all");
    el.resumeAll.querySelector("span").textContent = t("resume_all");
    el.viewport.setAttribute("aria-label", t("title"));
    el.sparkTitle.textContent = t("rates_chart");
    el.withData.querySelector("span").textContent = t("delete_data");
    el.dialog.querySelector(".cancel").textContent = t("cancel");
    el.dialog.querySelector(".confirm").textContent = t("delete");
    this._header();
  }

  _feedTitle() {
    if (this._feeds.size !== 1 || !this._config?.entry) return "";
    return [...this._feeds.values()][0].title;
  }

  // ------------------------------------------------------------------ the feed

  _unsubscribeAll() {
    this._generation += 1;
    const unsubscribes = this._unsubscribes;
    this._unsubscribes = [];
    for (const unsubscribe of unsubscribes) {
      Promise.resolve(unsubscribe)
        .then((stop) => stop?.())
        .catch(() => {});
    }
  }

  async _resubscribe() {
    this._unsubscribeAll();
    if (!this._hass || !this._config || !this.isConnected) return;
    const generation = this._generation;
    this._notice(this._rows.size ? "" : this._t("loading"));
    try {
      const entries = this._config.entry
        ? [this._config.entry]
        : (await this._hass.callWS({ type: "peerdeck/entries" })).map((entry) => entry.entry_id);
      if (generation !== this._generation) return;
      if (!entries.length) {
        this._notice(this._t("no_entries"));
        return;
      }
      for (const entryId of entries) {
        const subscription = this._hass.connection.subscribeMessage(
          (message) => this._receive(entryId, message),
          { type: "peerdeck/transfers/subscribe", entry_id: entryId },
        );
        this._unsubscribes.push(subscription);
        await subscription;
        if (generation !== this._generation) return;
      }
    } catch (err) {
      if (generation !== this._generation) return;
      this._notice(this._t("error", { error: err?.message || err?.code || String(err) }));
      this._retry();
    }
  }

  _retry() {
    clearTimeout(this._reconnect);
    this._reconnect = setTimeout(() => this._resubscribe(), RECONNECT_MS);
  }

  /** One message of an entry's feed: the full list, a diff, or the news that the entry unloaded. */
  _receive(entryId, message) {
    if (message.closed) {
      this._forget(entryId);
      this._retry();
      this._relist();
      return;
    }
    if (message.full) {
      const known = this._feeds.has(entryId);
      this._forget(entryId);
      this._feeds.set(entryId, {
        title: message.title,
        daemon: message.daemon,
        capabilities: message.capabilities,
        status: message.status,
      });
      for (const row of message.transfers) this._add(entryId, row);
      this._notice("");
      this._label();
      if (!known) this._list.rebindAll(); // rows name their entry once there are several
      this._relist();
      return;
    }
    const feed = this._feeds.get(entryId);
    if (!feed) return;
    let reorder = Boolean(message.added?.length || message.removed?.length);
    const changed = new Set();
    const sortFields = SORT_FIELDS[this._sort];
    for (const row of message.added ?? []) this._add(entryId, row);
    for (const id of message.removed ?? []) this._rows.delete(`${entryId}|${id}`);
    for (const change of message.changed ?? []) {
      const key = `${entryId}|${change.id}`;
      const row = this._rows.get(key);
      if (!row) continue;
      Object.assign(row, change);
      changed.add(key);
      if (!reorder) {
        reorder =
          sortFields.some((field) => field in change) ||
          ("state" in change && this._stateFilter) ||
          ("name" in change && this._textFilter);
      }
    }
    if (message.status) {
      feed.status = message.status;
      this._header();
    }
    if (reorder) this._relist(changed);
    else if (changed.size) this._list.update(changed);
  }

  _add(entryId, row) {
    row.entry = entryId;
    this._rows.set(`${entryId}|${row.id}`, row);
  }

  _forget(entryId) {
    this._feeds.delete(entryId);
    for (const key of this._rows.keys()) {
      if (key.startsWith(`${entryId}|`)) this._rows.delete(key);
    }
  }

  // ------------------------------------------------------------------ showing

  /** Filter and sort the rows again, then show them; ``changed`` rows are re-bound even if they stay put. */
  _relist(changed = null) {
    if (!this._built) return;
    const states = this._stateFilter ? [this._stateFilter] : this._config?.states ?? [];
    const text = this._textFilter;
    const value = SORT_VALUES[this._sort];
    // Decorated once, so the sort compares plain values instead of looking rows up.
    const items = [];
    for (const [key, row] of this._rows) {
      if (states.length && !states.includes(row.state)) continue;
      if (text && !String(row.name).toLocaleLowerCase().includes(text)) continue;
      items.push({ key, name: String(row.name), value: value ? value(row) : 0 });
    }
    const sign = this._descending ? -1 : 1;
    const byName = (a, b) => collator.compare(a.name, b.name) || (a.key < b.key ? -1 : 1);
    items.sort(value ? (a, b) => (a.value - b.value) * sign || byName(a, b) : (a, b) => byName(a, b) * sign);
    const keys = items.map((item) => item.key);
    this._keys = keys;
    this._list.show(keys, this._rows, changed);
    this._el.empty.hidden = keys.length > 0 || !this._feeds.size;
    this._el.empty.textContent = this._rows.size ? this._t("no_match") : this._t("empty");
    this._el.count.textContent = this._t("count", { shown: keys.length, total: this._rows.size });
  }

  /** The header: total rates of every feed, and whether a daemon does not answer. */
  _header() {
    let down = 0;
    let up = 0;
    const silent = [];
    for (const feed of this._feeds.values()) {
      down += feed.status?.download_rate || 0;
      up += feed.status?.upload_rate || 0;
      if (feed.status && feed.status.available === false) silent.push(feed.title);
    }
    this._totals = [down, up];
    const locale = this._view.locale;
    this._el.down.textContent = `↓ ${formatRate(down, locale)}`;
    this._el.up.textContent = `↑ ${formatRate(up, locale)}`;
    this._el.down.title = this._t("download");
    this._el.up.title = this._t("upload");
    const silence = silent.length ? this._t("unavailable", { daemon: silent.join(", ") }) : "";
    if (silence || this._el.notice.textContent === this._silence) this._notice(silence);
    this._silence = silence;
    if (!this._samples.length && this._feeds.size) this._sample();
  }

  /** Add the current total rates to the sparkline (every few seconds, so it shows the last minutes). */
  _sample() {
    if (!this._feeds.size || !this._totals) return;
    this._samples.push(this._totals);
    if (this._samples.length > SPARK_SAMPLES) this._samples.shift();
    const peak = Math.max(1, ...this._samples.flat());
    // The samples so far span the whole width (a lone sample is a flat line), growing denser up to the window.
    const step = (SPARK_SAMPLES - 1) / Math.max(1, this._samples.length - 1);
    const shown = this._samples.length > 1 ? this._samples : [this._samples[0], this._samples[0]];
    const points = (index) =>
      shown.map((sample, at) => `${(at * step).toFixed(2)},${(100 - (sample[index] / peak) * 96 - 2).toFixed(1)}`).join(" ");
    this._el.sparkDown.setAttribute("points", points(0));
    this._el.sparkUp.setAttribute("points", points(1));
  }

  _notice(text) {
    this._el.notice.textContent = text;
  }

  /** A row's category and tags; Syncthing's links to folders and peers are shown by their names. */
  _describe(row) {
    const parts = [];
    if (this._feeds.size > 1) parts.push(this._feeds.get(row.entry)?.title ?? "");
    if (row.category && row.category !== "folder" && row.category !== "device") parts.push(row.category);
    for (const tag of row.tags ?? []) {
      const linked = this._rows.get(`${row.entry}|${tag}`);
      parts.push(linked ? linked.name : `#${tag}`);
    }
    return parts.filter(Boolean).join(" · ");
  }

  // ------------------------------------------------------------------ acting

  _rowClick(event) {
    const button = event.target.closest("button[data-action]");
    const key = this._list.keyOf(event.target);
    const row = key && this._rows.get(key);
    if (!button || !row) return;
    const action = button.dataset.action;
    if (action === "delete") {
      this._pending = row;
      const capabilities = this._feeds.get(row.entry)?.capabilities ?? {};
      this._el.dialogTitle.textContent = this._t("delete_title", { name: row.name });
      this._el.withData.hidden = !capabilities.delete_data;
      this._el.deleteData.checked = false;
      this._el.dialog.returnValue = "";
      this._el.dialog.showModal();
      this._el.dialog.querySelector(".cancel").focus();
      return;
    }
    this._call(action, row.entry, { ids: [row.id] });
  }

  _confirmed() {
    const row = this._pending;
    this._pending = null;
    if (!row || this._el.dialog.returnValue !== "delete") return;
    const data = { ids: [row.id] };
    if (!this._el.withData.hidden) data.delete_data = this._el.deleteData.checked;
    this._call("remove", row.entry, data);
  }

  _all(action) {
    for (const [entryId, feed] of this._feeds) {
      if (feed.capabilities?.[action]) this._call(action, entryId, {});
    }
  }

  async _call(action, entryId, data) {
    try {
      await this._hass.callService("peerdeck", action, { config_entry_id: entryId, ...data });
    } catch (err) {
      this._notice(err?.message || String(err));
    }
  }

  /** Long-press on a name shows the whole name (hover shows it as a tooltip). */
  _pressStart(event) {
    const name = event.target.closest?.(".name");
    if (!name) return;
    clearTimeout(this._pressTimer);
    this._pressTimer = setTimeout(() => {
      const tip = this._el.fullname;
      tip.textContent = name.textContent;
      const row = name.closest(".row");
      tip.style.top = `${this._el.viewport.offsetTop + row._index * ROW_HEIGHT - this._el.viewport.scrollTop}px`;
      tip.hidden = false;
      clearTimeout(this._tipTimer);
      this._tipTimer = setTimeout(() => {
        tip.hidden = true;
      }, 3000);
    }, LONG_PRESS_MS);
  }
}

if (!customElements.get(CARD_TYPE)) {
  customElements.define(CARD_TYPE, PeerdeckTransfersCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: CARD_TYPE,
    name: "Peerdeck transfers",
    description: "Live list of the transfers of qBittorrent, Syncthing, slskd, SoulSync and Tribler, with pause, resume and delete.",
    preview: true,
    documentationURL: "https://github.com/peerdeck/peerdeck/blob/main/docs/home-assistant.md#the-transfers-card",
  });
}
