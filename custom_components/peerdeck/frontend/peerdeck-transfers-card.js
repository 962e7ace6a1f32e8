// The Peerdeck transfers card: every transfer of one Peerdeck entry (or of all of them merged), live.
// It subscribes to ``peerdeck/transfers/subscribe`` (the full list once, then diffs) and acts through
// the integration's websocket commands (card_commands.py), which call its own actions and read the
// daemon back, so a click shows as pending at once and as done as soon as the daemon did it.
// Plain web component, no build step.

import { CardActions } from "./card-actions.js";
import { Panels, errorText, fillDeleteDialog, showDetails } from "./card-panels.js";
import { CARD_TYPE, DEFAULT_ROWS, SORTS, STATUSES, matchesStates, normaliseConfig } from "./card-config.js";
import { SHELL, SPARK_SAMPLES, STYLE } from "./card-style.js";
import { formatRate, plainName, plainText } from "./format.js";
import { RowFocus } from "./row-focus.js";
import { translator } from "./translations.js";
import { ROW_HEIGHT, TransferRows, rowStatus } from "./transfer-rows.js";

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
  eta: ["eta"],
  size: ["size"],
  ratio: ["ratio"],
};
const UNKNOWN_LAST = Number.MAX_SAFE_INTEGER;
const SORT_VALUES = {
  added: (row) => (row.added_at ? Date.parse(row.added_at) : 0),
  progress: (row) => Number(row.progress) || 0,
  rate: (row) => (row.download_rate || 0) + (row.upload_rate || 0),
  eta: (row) => (row.eta === null || row.eta === undefined ? UNKNOWN_LAST : Number(row.eta)),
  size: (row) => Number(row.size) || 0,
  ratio: (row) => (row.ratio === null || row.ratio === undefined ? -1 : Number(row.ratio)),
};

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
    this._feeds = new Map(); // entry id -> {title, daemon, capabilities, status, alternative_speed_entity}
    this._unsubscribes = [];
    this._generation = 0;
    this._samples = [];
    this._textFilter = "";
    this._stateFilter = "";
    this._categoryFilter = "";
    this._categories = "";
    this._deleting = null;
    this._pending = new Map(); // key -> "pause" | "resume" | "remove"
    this._errors = new Map(); // key -> error text shown on the row
    this._holding = false; // the pointer is over the list: rows keep their places until it leaves
    this._stale = false;
    this._showWhenAdded = null;
  }

  /** The card's translator (``t(key, values)``). */
  get t() {
    return this._t;
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
    this._panels?.stop();
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
      sparkTitle: $("svg.spark title"),
      sparkDown: $("svg.spark polyline.down"),
      sparkUp: $("svg.spark polyline.up"),
      down: $(".totals .down"),
      up: $(".totals .up"),
      turtle: $(".turtle"),
      notice: $(".notice"),
      live: $(".live"),
      filter: $(".filter"),
      stateFilter: $(".state-filter"),
      categoryFilter: $(".category-filter"),
      sort: $(".sort"),
      direction: $(".direction"),
      directionIcon: $(".direction ha-icon"),
      pauseAll: $(".pause-all"),
      resumeAll: $(".resume-all"),
      openAdd: $(".open-add"),
      openSearch: $(".open-search"),
      count: $(".count"),
      addPanel: $(".add-panel"),
      addEntry: $(".add-entry"),
      addLink: $(".add-link"),
      addFile: $(".add-file"),
      addCategory: $(".add-category"),
      addPath: $(".add-path"),
      addSubmit: $(".add-submit"),
      searchPanel: $(".search-panel"),
      searchEntry: $(".search-entry"),
      searchQuery: $(".search-query"),
      searchSubmit: $(".search-submit"),
      hits: $(".hits"),
      fullname: $(".fullname"),
      viewport: $(".viewport"),
      empty: $(".empty"),
      dialog: $("dialog.confirm-delete"),
      dialogTitle: $("dialog.confirm-delete h2"),
      dialogExplain: $("dialog.confirm-delete .explain"),
      withData: $("dialog .with-data"),
      deleteData: $("dialog .delete-data"),
      details: $("dialog.details"),
      detailsTitle: $("dialog.details h2"),
      detailsList: $("dialog.details dl"),
    };
    const config = this._config ?? normaliseConfig({});
    this._view = {
      t: this._t,
      locale: this._hass?.locale?.language,
      columns: new Set(config.columns),
      maxRows: config.rows,
      describe: (row) => this._describe(row),
      canAct: (row, action) => Boolean(this._feeds.get(row.entry)?.capabilities?.[action]),
      pending: (key) => this._pending.get(key),
      error: (key) => this._errors.get(key),
      rendered: () => this._focus?.sync(),
    };
    this._list = new TransferRows(this._el.viewport, this._view);
    this._focus = new RowFocus(this._el.viewport, this._list, {
      open: (key) => this._open(key),
      press: (key, action) => this._press(key, action),
      canPress: (key, action) => this._canPress(key, action),
    });
    this._panels = new Panels(this);
    this._keys = [];
    const el = this._el;
    el.filter.addEventListener("input", () => {
      this._textFilter = el.filter.value.trim().toLocaleLowerCase();
      this._relist();
    });
    el.stateFilter.addEventListener("change", () => {
      this._stateFilter = el.stateFilter.value;
      this._relist();
    });
    el.categoryFilter.addEventListener("change", () => {
      this._categoryFilter = el.categoryFilter.value;
      this._relist();
    });
    el.sort.addEventListener("change", () => {
      this._sort = el.sort.value;
      this._relist();
    });
    el.direction.addEventListener("click", () => {
      this._descending = !this._descending;
      this._label();
      this._relist();
    });
    el.pauseAll.addEventListener("click", () => this._all("pause"));
    el.resumeAll.addEventListener("click", () => this._all("resume"));
    el.turtle.addEventListener("click", () => this._toggleTurtle());
    el.viewport.addEventListener("click", (event) => this._rowClick(event));
    el.viewport.addEventListener("pointerdown", (event) => this._pressStart(event));
    for (const end of ["pointerup", "pointerleave", "pointercancel", "scroll"]) {
      el.viewport.addEventListener(end, () => clearTimeout(this._pressTimer));
    }
    // While the pointer is over the list, a re-sort waits: a row never slides under an aimed click.
    el.viewport.addEventListener("pointerenter", () => {
      this._holding = true;
    });
    el.viewport.addEventListener("pointerleave", () => {
      this._holding = false;
      if (this._stale) this._relist();
    });
    el.dialog.addEventListener("close", () => this._deleteConfirmed());
    this._label();
  }

  /** Every fixed text of the card, in the user's language. */
  _label() {
    const t = this._t;
    const el = this._el;
    el.title.textContent = this._config?.title || this._feedTitle() || t("title");
    el.filter.placeholder = t("filter_text");
    el.filter.setAttribute("aria-label", t("filter_text"));
    const stateOptions = [["", t("all_states")], ...STATUSES.map((state) => [state, t(`state.${state}`)])];
    el.stateFilter.replaceChildren(...stateOptions.map(([value, text]) => new Option(text, value)));
    el.stateFilter.value = this._stateFilter;
    el.stateFilter.setAttribute("aria-label", t("all_states"));
    this._categories = "";
    el.categoryFilter.setAttribute("aria-label", t("all_categories"));
    el.sort.replaceChildren(...SORTS.map((sort) => new Option(t(`sort.${sort}`), sort)));
    el.sort.value = this._sort ?? "added";
    el.sort.setAttribute("aria-label", t("sort"));
    const direction = this._descending ? "sort_descending" : "sort_ascending";
    el.direction.setAttribute("aria-label", t(direction));
    el.direction.title = t(direction);
    el.directionIcon.setAttribute("icon", this._descending ? "mdi:sort-descending" : "mdi:sort-ascending");
    for (const [button, key] of [[el.pauseAll, "pause_all"], [el.resumeAll, "resume_all"]]) {
      button.querySelector("span").textContent = t(key);
      button.setAttribute("aria-label", t(key));
    }
    el.viewport.setAttribute("aria-label", t("list_label"));
    el.sparkTitle.textContent = t("rates_chart");
    el.withData.querySelector("span").textContent = t("delete_data");
    el.dialog.querySelector(".cancel").textContent = t("cancel");
    el.turtle.setAttribute("aria-label", t("alternative_speed"));
    el.turtle.title = t("alternative_speed");
    this._panels.label();
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
      this._notice(this._t("error", { error: errorText(err) }));
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
      this._feedsChanged();
      this._relist();
      return;
    }
    if (message.full) {
      const known = this._feeds.has(entryId);
      this._forget(entryId);
      this._feeds.set(entryId, {
        title: plainText(message.title),
        daemon: message.daemon,
        capabilities: message.capabilities,
        status: message.status,
        alternative_speed_entity: message.alternative_speed_entity ?? null,
      });
      for (const row of message.transfers) this._add(entryId, row);
      this._notice("");
      this._feedsChanged();
      if (!known) this._list.rebindAll(); // rows name their entry once there are several
      this._relist();
      return;
    }
    const feed = this._feeds.get(entryId);
    if (!feed) return;
    let reorder = Boolean(message.added?.length || message.removed?.length);
    const changed = new Set();
    const sortFields = SORT_FIELDS[this._sort];
    const filtering = this._stateFilter || this._config?.states?.length;
    for (const row of message.added ?? []) this._add(entryId, row);
    for (const id of message.removed ?? []) {
      const key = `${entryId}|${id}`;
      const row = this._rows.get(key);
      this._pending.delete(key);
      if (row && this._holding) {
        row.gone = true; // shown struck through, its buttons off, until the pointer leaves
        changed.add(key);
      } else {
        this._rows.delete(key);
      }
    }
    for (const change of message.changed ?? []) {
      const key = `${entryId}|${change.id}`;
      const row = this._rows.get(key);
      if (!row) continue;
      Object.assign(row, this._honest(change));
      this._errors.delete(key);
      changed.add(key);
      if (!reorder) {
        reorder =
          sortFields.some((field) => field in change) ||
          (("state" in change || "status" in change) && filtering) ||
          ("category" in change && this._categoryFilter) ||
          ("name" in change && this._textFilter);
      }
    }
    if (message.status) {
      feed.status = message.status;
      this._header();
    }
    if (reorder && this._holding) {
      this._stale = true;
      if (changed.size) this._list.update(changed);
    } else if (reorder) this._relist(changed);
    else if (changed.size) this._list.update(changed);
    if (this._showWhenAdded && this._rows.has(this._showWhenAdded)) this._showAdded();
  }

  _add(entryId, row) {
    this._honest(row);
    row.entry = entryId;
    this._rows.set(`${entryId}|${row.id}`, row);
  }

  /** A row (or a change of one) with its daemon-supplied names made honest to show (see plainText). */
  _honest(row) {
    if ("name" in row) row.name = plainName(row.name, this._t("no_name"));
    if (typeof row.category === "string") row.category = plainText(row.category);
    return row;
  }

  _forget(entryId) {
    this._feeds.delete(entryId);
    for (const key of this._rows.keys()) {
      if (key.startsWith(`${entryId}|`)) this._rows.delete(key);
    }
  }

  /** The entries changed: the title, which panels show, the turtle. */
  _feedsChanged() {
    this._label();
  }

  // ------------------------------------------------------------------ showing

  /** Filter and sort the rows again, then show them; ``changed`` rows are re-bound even if they stay put. */
  _relist(changed = null) {
    if (!this._built) return;
    this._stale = false;
    for (const [key, row] of this._rows) {
      if (row.gone) this._rows.delete(key);
    }
    const states = this._stateFilter ? [this._stateFilter] : this._config?.states ?? [];
    const text = this._textFilter;
    const category = this._categoryFilter;
    const value = SORT_VALUES[this._sort];
    const categories = new Set();
    // Decorated once, so the sort compares plain values instead of looking rows up.
    const items = [];
    for (const [key, row] of this._rows) {
      if (row.category && !row.kind) categories.add(row.category);
      if (!matchesStates(row, rowStatus(row), states)) continue;
      if (category && row.category !== category) continue;
      if (text && !String(row.name).toLocaleLowerCase().includes(text)) continue;
      items.push({ key, name: String(row.name), value: value ? value(row) : 0 });
    }
    const sign = this._descending ? -1 : 1;
    const byName = (a, b) => collator.compare(a.name, b.name) || (a.key < b.key ? -1 : 1);
    items.sort(value ? (a, b) => (a.value - b.value) * sign || byName(a, b) : (a, b) => byName(a, b) * sign);
    const keys = items.map((item) => item.key);
    const before = this._focus.remember();
    this._keys = keys;
    this._list.show(keys, this._rows, changed);
    const scrolled = this._el.viewport.scrollTop;
    this._focus.restore(before);
    if (this._el.viewport.scrollTop !== scrolled) this._list.render();
    this._focus.sync();
    this._categoryOptions([...categories].sort(collator.compare));
    this._el.empty.hidden = keys.length > 0 || !this._feeds.size;
    this._el.empty.textContent = this._rows.size ? this._t("no_match") : this._t("empty");
    this._el.count.textContent = this._t("count", { shown: keys.length, total: this._rows.size });
  }

  /** The category filter lists the categories of the rows; hidden while there is none. */
  _categoryOptions(categories) {
    const joined = categories.join("\n");
    if (joined === this._categories) return;
    this._categories = joined;
    const select = this._el.categoryFilter;
    const options = [["", this._t("all_categories")], ...categories.map((name) => [name, name])];
    if (this._categoryFilter && !categories.includes(this._categoryFilter)) options.push([this._categoryFilter, this._categoryFilter]);
    select.replaceChildren(...options.map(([value, text]) => new Option(text, value)));
    select.value = this._categoryFilter;
    select.hidden = categories.length === 0 && !this._categoryFilter;
    this._panels.categories(categories);
  }

  /** The header: total rates of every feed, whether a daemon does not answer, and the turtle. */
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
    const turtle = this._turtleFeed();
    this._el.turtle.hidden = !turtle;
    if (turtle) this._el.turtle.setAttribute("aria-pressed", String(Boolean(turtle.status?.alternative_speed)));
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
    if (row.kind) parts.push(this._t(`kind_short.${row.kind}`));
    if (this._feeds.size > 1) parts.push(this._feeds.get(row.entry)?.title ?? "");
    if (row.category && !row.kind && row.category !== "folder" && row.category !== "device") parts.push(row.category);
    parts.push(this._describeTags(row));
    return parts.filter(Boolean).join(" · ");
  }

  _describeTags(row) {
    return (row.tags ?? [])
      .map((tag) => {
        const linked = this._rows.get(`${row.entry}|${tag}`);
        return linked ? linked.name : `#${plainText(tag)}`;
      })
      .join(" · ");
  }

  // ------------------------------------------------------------------ acting

  _rowClick(event) {
    const key = this._list.keyOf(event.target);
    const row = key && this._rows.get(key);
    if (!row) return;
    const button = event.target.closest("button[data-action]");
    this._focus.activate(key, 0);
    if (!button) {
      if (!this._el.fullname.hidden) return; // the end of a long press that showed the whole name
      this._open(key);
      return;
    }
    const action = button.dataset.action === "delete" ? "delete" : "toggle";
    this._focus.activate(key, action === "delete" ? 2 : 1);
    // The grid keeps the focus, not the button: the button's element is recycled when the list scrolls.
    if (action === "toggle") this._el.viewport.focus({ preventScroll: true });
    this._press(key, action);
  }

  _canPress(key, action) {
    const row = this._rows.get(key);
    if (!row || row.gone || this._pending.has(key)) return false;
    const capability = action === "delete" ? "remove" : row.state === "paused" ? "resume" : "pause";
    return Boolean(this._feeds.get(row.entry)?.capabilities?.[capability]) && this._view.columns.has("actions");
  }

  /** A row's button, by mouse or keyboard: the toggle acts at once, delete asks first. */
  _press(key, action) {
    const row = this._rows.get(key);
    if (!row || !this._canPress(key, action)) return;
    if (action === "delete") {
      this._deleting = key;
      const feed = this._feeds.get(row.entry) ?? {};
      fillDeleteDialog(this._el, this._t, row, feed.capabilities ?? {}, feed.daemon);
      this._el.dialog.showModal();
      this._el.dialog.querySelector(".cancel").focus();
      return;
    }
    this._act(row.state === "paused" ? "resume" : "pause", key);
  }

  _open(key) {
    const row = this._rows.get(key);
    if (row) showDetails(this, row);
  }

  _deleteConfirmed() {
    const key = this._deleting;
    this._deleting = null;
    if (key && this._el.dialog.returnValue === "delete") {
      const extra = this._el.withData.hidden ? {} : { delete_data: this._el.deleteData.checked };
      this._act("remove", key, extra);
    }
    this._el.viewport.focus();
  }

  /** A transfer just added: make it the active row once the feed shows it. */
  _showAdded(entryId, id) {
    const key = entryId === undefined ? this._showWhenAdded : `${entryId}|${id}`;
    this._showWhenAdded = key;
    if (!this._rows.has(key)) return;
    this._showWhenAdded = null;
    if (!this._keys.includes(key)) this._relist();
    this._focus.activate(key);
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

Object.assign(PeerdeckTransfersCard.prototype, CardActions);

if (!customElements.get(CARD_TYPE)) {
  customElements.define(CARD_TYPE, PeerdeckTransfersCard);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: CARD_TYPE,
    name: "Peerdeck transfers",
    description:
      "Live list of the transfers of qBittorrent, Syncthing, slskd, SoulSync and Tribler: pause, resume, delete, add and search.",
    preview: true,
    documentationURL: "https://github.com/peerdeck/peerdeck/blob/main/docs/home-assistant.md#the-transfers-card",
  });
}
