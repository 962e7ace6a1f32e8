// The visual editor of the Peerdeck transfers card: pick the entry (or all merged), the columns,
// the states shown, the sort and the height. Built on Home Assistant's own ha-form.

import { CARD_TYPE, COLUMNS, MAX_ROWS, SORTS, STATUSES, normaliseConfig } from "./card-config.js";
import { translator } from "./translations.js";

function schema(t) {
  const options = (values, prefix) => values.map((value) => ({ value, label: t(`${prefix}.${value}`) }));
  return [
    { name: "entry", selector: { config_entry: { integration: "peerdeck" } } },
    { name: "title", selector: { text: {} } },
    { name: "columns", selector: { select: { multiple: true, mode: "list", options: options(COLUMNS, "column") } } },
    { name: "states", selector: { select: { multiple: true, mode: "list", options: options(STATUSES, "state") } } },
    { name: "sort", selector: { select: { mode: "dropdown", options: options(SORTS, "sort") } } },
    { name: "descending", selector: { boolean: {} } },
    { name: "rows", selector: { number: { min: 1, max: MAX_ROWS, mode: "box" } } },
  ];
}

const LABELS = {
  entry: "editor.entry",
  title: "editor.title",
  columns: "editor.columns",
  states: "editor.states",
  sort: "editor.sort",
  descending: "editor.descending",
  rows: "editor.rows",
};

/** Make sure Home Assistant's ha-form is defined: the frontend loads it lazily, with its own card editors. */
async function haFormReady() {
  if (customElements.get("ha-form")) return;
  const helpers = await window.loadCardHelpers?.();
  const entities = await helpers?.createCardElement({ type: "entities", entities: [] });
  await entities?.constructor?.getConfigElement?.();
  await customElements.whenDefined("ha-form");
}

class PeerdeckTransfersCardEditor extends HTMLElement {
  setConfig(config) {
    this._config = config;
    this._render();
  }

  set hass(hass) {
    this._hass = hass;
    this._render();
  }

  async _render() {
    if (!this._hass || !this._config) return;
    if (!this._form) {
      this._form = document.createElement("ha-form");
      this._form.addEventListener("value-changed", (event) => this._changed(event.detail.value));
      await haFormReady();
      this.append(this._form);
    }
    const t = translator(this._hass);
    const shown = normaliseConfig(this._config);
    this._form.hass = this._hass;
    this._form.schema = schema(t);
    this._form.computeLabel = (field) => t(LABELS[field.name]);
    this._form.data = { ...shown, entry: shown.entry ?? "" };
  }

  /** Keep only what differs from the defaults, so a config with no setting stays empty. */
  _changed(value) {
    const defaults = { ...normaliseConfig({}), descending: normaliseConfig({ sort: value.sort }).descending };
    const config = { type: this._config.type ?? `custom:${CARD_TYPE}` };
    for (const [key, setting] of Object.entries(value)) {
      if (key === "type" || setting === "" || setting === undefined || setting === null) continue;
      if (JSON.stringify(setting) === JSON.stringify(defaults[key])) continue;
      config[key] = setting;
    }
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }
}

if (!customElements.get(`${CARD_TYPE}-editor`)) {
  customElements.define(`${CARD_TYPE}-editor`, PeerdeckTransfersCardEditor);
}
