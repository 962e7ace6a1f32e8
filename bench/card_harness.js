// A page that runs the real Peerdeck card against a scripted Home Assistant: the benchmark and the
// browser tests hand it feed messages and read back what the card did (DOM, action calls, timings).

import { CARD_TYPE } from "/peerdeck_frontend/card-config.js";
import "/peerdeck_frontend/peerdeck-transfers-card.js";

const WORDS = ["ubuntu", "debian", "album", "lecture", "podcast", "backup", "photos", "dataset", "concert", "archive"];
const STATES = ["active", "active", "queued", "paused", "completed"];
const STATUSES = { active: ["downloading", "stalled"], queued: ["queued"], paused: ["paused"], completed: ["seeding", "completed"] };

/** ``count`` transfers like a daemon reports them, the same for the same ``seed``. */
function transfers(count, seed = 1) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const rows = [];
  for (let index = 0; index < count; index += 1) {
    const size = Math.floor(random() * 8e9) + 1e6;
    const transferState = STATES[index % STATES.length];
    const progress = transferState === "completed" ? 1 : Math.round(random() * 1000) / 1000;
    const active = transferState === "active";
    rows.push({
      id: `t${String(index).padStart(5, "0")}`,
      name: `${WORDS[index % WORDS.length]}-${index} ${"long name ".repeat(index % 4)}[${Math.floor(random() * 1e6)}].iso`,
      state: transferState,
      status: STATUSES[transferState][Math.floor(index / 5) % STATUSES[transferState].length],
      progress,
      size,
      done: Math.floor(size * progress),
      path: "/downloads",
      category: index % 3 ? "linux" : null,
      tags: index % 2 ? ["hd"] : [],
      download_rate: active ? Math.floor(random() * 5e6) : 0,
      upload_rate: active ? Math.floor(random() * 1e6) : 0,
      eta: active ? Math.floor(random() * 90000) : null,
      added_at: new Date(Date.UTC(2026, 0, 1) + index * 60000).toISOString(),
      completed_at: null,
      ratio: transferState === "completed" ? Math.round(random() * 300) / 100 : null,
      kind: null,
      detail: null,
    });
  }
  return rows;
}

class FakeConnection {
  constructor() {
    this.subscribers = new Map();
    this.unsubscribed = [];
    this.searches = [];
  }

  subscribeMessage(callback, message) {
    if (message.type === "peerdeck/search/subscribe") {
      this.searches.push({ message, callback, stopped: false });
      const search = this.searches[this.searches.length - 1];
      return Promise.resolve(() => {
        search.stopped = true;
      });
    }
    this.subscribers.set(message.entry_id, callback);
    return Promise.resolve(() => {
      this.subscribers.delete(message.entry_id);
      this.unsubscribed.push(message.entry_id);
    });
  }
}

class FakeHass {
  constructor(language, entries) {
    this.language = language;
    this.locale = { language };
    this.entries = entries;
    this.connection = new FakeConnection();
    this.calls = [];
    this.commands = [];
    this.answers = {
      "peerdeck/transfers/act": () => ({ confirmed: true }),
    };
  }

  callService(domain, service, data) {
    this.calls.push({ domain, service, data });
    return Promise.resolve();
  }

  /** The card's websocket commands: recorded, and answered by ``answers[type]`` (a function) when set. */
  callWS(message) {
    if (message.type === "peerdeck/entries") return Promise.resolve(this.entries);
    this.commands.push(message);
    const answer = this.answers[message.type];
    if (answer) return Promise.resolve().then(() => answer(message));
    return Promise.reject({ code: "unknown_command", message: message.type });
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

window.harness = {
  transfers,

  /** A fresh card with ``config`` in ``language``, subscribed to the entries given. */
  async mount({ config = { entry: "e1" }, language = "en", entries = [{ entry_id: "e1", title: "qBittorrent", daemon: "qbittorrent" }] } = {}) {
    document.body.replaceChildren();
    const card = document.createElement(CARD_TYPE);
    card.setConfig(config);
    const hass = new FakeHass(language, entries);
    card.hass = hass;
    document.body.append(card);
    for (let tries = 0; tries < 50 && hass.connection.subscribers.size < (config.entry ? 1 : entries.length); tries += 1) {
      await settle();
    }
    this.card = card;
    this.hass = hass;
    return [...hass.connection.subscribers.keys()];
  },

  /** The first message of a feed: the whole list. */
  full(entryId, rows, extra = {}) {
    return {
      full: true,
      entry_id: entryId,
      title: extra.title ?? "qBittorrent",
      daemon: "qbittorrent",
      capabilities: { pause: true, resume: true, remove: true, delete_data: true, ...(extra.capabilities ?? {}) },
      status: { available: true, download_rate: 1234567, upload_rate: 23456 },
      transfers: rows,
    };
  },

  /** Hand ``message`` to the card and force style and layout; returns the milliseconds it took. */
  deliver(entryId, message) {
    const started = performance.now();
    this.hass.connection.subscribers.get(entryId)(message);
    this.card.shadowRoot.querySelector(".viewport").getBoundingClientRect();
    void document.body.offsetHeight;
    return performance.now() - started;
  },

  /** Milliseconds from ``deliver`` to the next painted frame. */
  async deliverToFrame(entryId, message) {
    const started = performance.now();
    this.deliver(entryId, message);
    await nextFrame();
    return performance.now() - started;
  },

  nextFrame,
  settle,

  /** Wait (a frame at a time, at most ~200) until ``predicate()`` holds; returns whether it did. */
  async until(predicate) {
    for (let frames = 0; frames < 200; frames += 1) {
      if (predicate()) return true;
      await nextFrame();
    }
    return predicate();
  },

  /** The rows the card has in the DOM and shows, top to bottom. */
  shownRows() {
    const rows = [...this.card.shadowRoot.querySelectorAll(".row")].filter((row) => !row.hidden);
    rows.sort((a, b) => a._index - b._index);
    return rows.map((row) => ({
      index: row._index,
      name: row.querySelector(".name").textContent,
      title: row.querySelector(".name").title,
      percent: row.querySelector(".percent").textContent,
      state: row.dataset.state,
      status: row.querySelector(".status").textContent,
      label: row.getAttribute("aria-label"),
      active: row.classList.contains("active"),
      pending: row.dataset.pending ?? null,
      meta: row.querySelector(".meta").textContent.replace(/\s+/g, " ").trim(),
      toggle: row.querySelector(".toggle").dataset.action,
      toggleLabel: row.querySelector(".toggle").getAttribute("aria-label"),
    }));
  },

  /** Run ``change`` and return the indexes of the row elements whose subtree the DOM changed in. */
  async mutatedRows(change) {
    const root = this.card.shadowRoot;
    const touched = new Set();
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        const node = record.target.nodeType === Node.ELEMENT_NODE ? record.target : record.target.parentElement;
        const row = node?.closest(".row");
        touched.add(row ? row._index : "outside rows");
      }
    });
    observer.observe(root, { subtree: true, childList: true, attributes: true, characterData: true });
    change();
    await settle();
    observer.disconnect();
    return [...touched];
  },

  text(selector) {
    return this.card.shadowRoot.querySelector(selector).textContent;
  },
};
window.dispatchEvent(new Event("harness-ready"));
