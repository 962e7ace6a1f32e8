// The Peerdeck card's dialogs and panels: a row's details, the delete confirmation (which says what
// deleting means on that daemon), adding a magnet / URL / .torrent, and searching with hits streamed
// in. Everything goes through the integration's websocket commands (card_commands.py), which apply
// Home Assistant's own rules for who may do what.

import { formatBytes, formatRatio, formatTime, plainName, plainText } from "./format.js";
import { rowStatus, statusLabel } from "./transfer-rows.js";

// Home Assistant's websocket closes the whole connection (every card and panel) on a message over
// 4 MiB (aiohttp's default max_msg_size); a file goes base64-encoded, 4/3 of its size, with room left
// for the rest of the message.
const MAX_TORRENT_BYTES = 3_000_000;

/** The text of an error from ``callWS`` or ``subscribeMessage``. */
export function errorText(err) {
  return plainText(err?.message || err?.code || String(err));
}

/** The delete dialog: its title and explanation name what deleting does for this kind of row. */
export function fillDeleteDialog(el, t, row, capabilities, daemon) {
  const kind = row.kind ?? "";
  el.dialogTitle.textContent = t(kind ? `delete_${kind}_title` : "delete_title", { name: row.name });
  const explain = kind ? `delete_${kind}_explain` : `delete_explain${daemon === "qbittorrent" ? "_torrent" : ""}`;
  el.dialogExplain.textContent = t(explain, { name: row.name });
  el.withData.hidden = !capabilities.delete_data;
  el.deleteData.checked = false;
  el.dialog.querySelector(".confirm").textContent = t(kind ? `delete_${kind}` : "delete");
  el.dialog.returnValue = "";
}

/** Show a row's details: what the feed row has at once, then what the last refresh knows of it. */
export async function showDetails(card, row) {
  const { t } = card;
  const el = card._el;
  const locale = card._view.locale;
  const key = `${row.entry}|${row.id}`; // two transfers can share a name: the dialog is bound to one transfer
  el.details.dataset.key = key;
  el.detailsTitle.textContent = row.name;
  el.details.querySelector(".close").textContent = t("close");
  const fill = (details) => {
    const status = rowStatus({ ...row, ...details });
    const seeds = details.seeds ?? null;
    const peers = details.peers ?? null;
    const count = (now, total) => (total === null || total === undefined ? String(now) : `${now} (${total})`);
    const entries = [
      ["details.kind", details.kind ? t(`kind.${details.kind}`) : ""],
      ["details.state", statusLabel(t, row, status)],
      ["details.progress", row.size ? `${formatBytes(row.done ?? 0, locale)} / ${formatBytes(row.size, locale)}` : ""],
      ["details.path", details.path ?? row.path],
      ["details.category", details.category ?? (row.kind ? "" : row.category)],
      ["details.tags", card._describeTags(row)],
      ["details.ratio", details.ratio !== null && details.ratio !== undefined ? formatRatio(details.ratio, locale) : ""],
      ["details.seeds", seeds === null ? "" : count(seeds, details.seeds_total)],
      ["details.peers", peers === null ? "" : count(peers, details.peers_total)],
      ["details.added", formatTime(details.added_at ?? row.added_at, locale)],
      ["details.completed", formatTime(details.completed_at ?? row.completed_at, locale)],
      ["details.tracker", details.tracker],
      ["details.source", details.source],
      ["details.folder_type", details.folder_type],
      ["details.address", details.address],
      ["details.connected", details.connected === null || details.connected === undefined ? "" : t(details.connected ? "yes" : "no")],
      ["details.error", details.error],
    ];
    el.detailsList.replaceChildren(
      ...entries
        .filter(([, value]) => value !== null && value !== undefined && value !== "")
        .flatMap(([label, value]) => {
          const term = document.createElement("dt");
          term.textContent = t(label);
          const description = document.createElement("dd");
          description.textContent = plainText(value);
          return [term, description];
        }),
    );
  };
  fill({});
  if (!el.details.open) el.details.showModal();
  el.details.querySelector(".close").focus();
  try {
    const details = await card._hass.callWS({ type: "peerdeck/transfers/details", entry_id: row.entry, transfer_id: row.id });
    if (el.details.open && el.details.dataset.key === key) fill(details);
  } catch (err) {
    // Gone meanwhile, or a card older than its integration: the feed's own fields stay shown.
  }
}

/** The entries of the card that can do ``capability``, as options of ``select``; false when none can. */
function entryOptions(card, select, capability) {
  const entries = [...card._feeds].filter(([, feed]) => feed.capabilities?.[capability]);
  const previous = select.value;
  select.replaceChildren(...entries.map(([entryId, feed]) => new Option(feed.title, entryId)));
  if (entries.some(([entryId]) => entryId === previous)) select.value = previous;
  select.hidden = entries.length < 2;
  return entries.length > 0;
}

/** The add and search panels: which entries can do them, and their labels. */
export class Panels {
  constructor(card) {
    this.card = card;
    this.el = card._el;
    this.search = null; // the running search's unsubscribe promise
    this.hits = [];
    const el = this.el;
    el.openAdd.addEventListener("click", () => this._toggle(el.addPanel, el.openAdd, el.addLink));
    el.openSearch.addEventListener("click", () => this._toggle(el.searchPanel, el.openSearch, el.searchQuery));
    el.addPanel.addEventListener("submit", (event) => {
      event.preventDefault();
      this._addLink();
    });
    el.addFile.addEventListener("change", () => this._addFiles(el.addFile.files));
    const drop = el.addPanel.querySelector(".drop");
    drop.addEventListener("dragover", (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      drop.classList.remove("over");
      this._addFiles(event.dataTransfer?.files);
    });
    el.searchPanel.addEventListener("submit", (event) => {
      event.preventDefault();
      this._search();
    });
    el.hits.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-hit]");
      if (button) this._addHit(button);
    });
  }

  /** Labels in the user's language, and which panels the entries allow. */
  label() {
    const { t } = this.card;
    const el = this.el;
    el.openAdd.querySelector("span").textContent = t("add");
    el.openAdd.setAttribute("aria-label", t("add_title"));
    el.openAdd.title = t("add_title");
    el.openSearch.querySelector("span").textContent = t("search");
    el.openSearch.setAttribute("aria-label", t("search_title"));
    el.openSearch.title = t("search_title");
    el.addLink.placeholder = t("add_link");
    el.addLink.setAttribute("aria-label", t("add_link"));
    el.addPanel.querySelector(".drop-text").textContent = t("add_drop");
    el.addPanel.querySelector(".drop-pick").textContent = t("add_pick");
    el.addCategory.placeholder = t("add_category");
    el.addCategory.setAttribute("aria-label", t("add_category"));
    el.addPath.placeholder = t("add_path");
    el.addPath.setAttribute("aria-label", t("add_path"));
    el.addSubmit.textContent = t("add");
    el.addEntry.setAttribute("aria-label", t("editor.entry"));
    el.searchEntry.setAttribute("aria-label", t("editor.entry"));
    el.searchQuery.placeholder = t("search_query");
    el.searchQuery.setAttribute("aria-label", t("search_query"));
    el.searchSubmit.textContent = t("search");
    el.hits.setAttribute("aria-label", t("search_hits"));
    this.entries();
  }

  /** Show the add and search buttons only where an entry of the card can add or search. */
  entries() {
    const el = this.el;
    el.openAdd.hidden = !entryOptions(this.card, el.addEntry, "add_links");
    el.openSearch.hidden = !entryOptions(this.card, el.searchEntry, "search");
    if (el.openAdd.hidden) this._close(el.addPanel, el.openAdd);
    if (el.openSearch.hidden) this._close(el.searchPanel, el.openSearch);
  }

  /** Categories seen in the list, offered when adding. */
  categories(names) {
    const list = this.card.shadowRoot.querySelector("#pd-categories");
    list.replaceChildren(...names.map((name) => new Option(name)));
  }

  _toggle(panel, button, first) {
    if (panel.hidden) {
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      first.focus();
    } else {
      this._close(panel, button);
    }
  }

  _close(panel, button) {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
  }

  _result(panel, text, error = false) {
    const result = panel.querySelector(".result");
    result.textContent = text;
    result.toggleAttribute("data-error", error);
  }

  _options() {
    const options = {};
    const category = this.el.addCategory.value.trim();
    const path = this.el.addPath.value.trim();
    if (category) options.category = category;
    if (path) options.save_path = path;
    return options;
  }

  async _addLink() {
    const link = this.el.addLink.value.trim();
    if (!link) {
      this._result(this.el.addPanel, this.card.t("add_nothing"), true);
      return;
    }
    const target = link.startsWith("magnet:") ? { magnet: link } : { url: link };
    if (await this._add(this.el.addEntry.value, target, this.el.addPanel)) this.el.addLink.value = "";
  }

  async _addFiles(files) {
    const file = files?.[0];
    if (!file) return;
    if (file.size > MAX_TORRENT_BYTES) {
      this._result(this.el.addPanel, this.card.t("add_too_big"), true);
      return;
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (let at = 0; at < bytes.length; at += 0x8000) binary += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
    await this._add(this.el.addEntry.value, { torrent: btoa(binary), filename: file.name }, this.el.addPanel);
    this.el.addFile.value = "";
  }

  /** Add through ``peerdeck/transfers/add``; the new row is made active once the feed shows it. */
  async _add(entryId, target, panel, options = this._options()) {
    const { t } = this.card;
    this._result(panel, t("adding"));
    try {
      const answer = await this.card._hass.callWS({ type: "peerdeck/transfers/add", entry_id: entryId, ...target, ...options });
      const ids = answer?.ids ?? [];
      this._result(panel, ids.length ? t("added") : t("added_untracked"));
      if (ids.length) this.card._showAdded(entryId, ids[0]);
      return true;
    } catch (err) {
      this._result(panel, t("add_failed", { error: errorText(err) }), true);
      return false;
    }
  }

  /** Search through ``peerdeck/search/subscribe``: hits are listed as they stream in. */
  async _search() {
    const { t } = this.card;
    const el = this.el;
    const query = el.searchQuery.value.trim();
    if (!query) return;
    this.stop();
    this.hits = [];
    el.hits.replaceChildren();
    this._result(el.searchPanel, t("searching"));
    const entryId = el.searchEntry.value;
    const feed = this.card._feeds.get(entryId);
    const subscription = this.card._hass.connection.subscribeMessage(
      (message) => this._hitsCame(entryId, feed, message, subscription),
      { type: "peerdeck/search/subscribe", entry_id: entryId, query },
    );
    this.search = subscription;
    try {
      await subscription;
    } catch (err) {
      if (this.search === subscription) this._result(el.searchPanel, t("search_failed", { error: errorText(err) }), true);
    }
  }

  _hitsCame(entryId, feed, message, subscription) {
    if (this.search !== subscription) return;
    const { t } = this.card;
    const locale = this.card._view.locale;
    const el = this.el;
    for (const hit of message.hits ?? []) {
      this.hits.push(hit);
      const name = plainName(hit.title, t("no_name"));
      const item = document.createElement("li");
      const main = document.createElement("div");
      main.className = "hit-main";
      const title = document.createElement("span");
      title.className = "hit-title";
      title.textContent = name;
      title.title = name;
      const meta = document.createElement("span");
      meta.className = "hit-meta";
      meta.textContent = [
        hit.size ? formatBytes(hit.size, locale) : "",
        hit.seeders !== null && hit.seeders !== undefined ? t("hit_seeders", { count: hit.seeders }) : "",
        plainText(hit.source),
      ].filter(Boolean).join(" · ");
      main.append(title, meta);
      const add = document.createElement("button");
      add.type = "button";
      add.dataset.hit = hit.id;
      add.dataset.entry = entryId;
      add.textContent = t("add");
      add.setAttribute("aria-label", `${t("add")}: ${name}`);
      item.append(main, add);
      el.hits.append(item);
    }
    const count = t("search_count", { count: this.hits.length, daemon: feed?.title ?? "" });
    if (message.error) this._result(el.searchPanel, t("search_failed", { error: plainText(message.error) }), true);
    else this._result(el.searchPanel, message.done ? count : `${t("searching")} ${count}`);
    if (message.done) this.stop();
  }

  async _addHit(button) {
    const { t } = this.card;
    button.disabled = true;
    button.textContent = t("adding");
    const added = await this._add(button.dataset.entry, { hit: button.dataset.hit }, this.el.searchPanel, {});
    button.textContent = added ? t("added_short") : t("add");
    button.disabled = added;
  }

  /** End the running search (a new one, the panel closed, the card removed). */
  stop() {
    const running = this.search;
    this.search = null;
    if (running) {
      Promise.resolve(running)
        .then((unsubscribe) => unsubscribe?.())
        .catch(() => {});
    }
  }
}
