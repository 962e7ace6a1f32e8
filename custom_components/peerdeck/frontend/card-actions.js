// What the Peerdeck card does when a user acts: a row's pause, resume or delete, pause or resume all,
// and the turtle. Each shows at once (pending on the row, the turtle dimmed), then what the daemon did,
// read back by the integration; a failure shows on the row, and a screen reader hears the outcome.
// Mixed into the card's class (peerdeck-transfers-card.js).

import { errorText } from "./card-panels.js";
import { rowStatus, statusLabel } from "./transfer-rows.js";

const ROW_ERROR_MS = 15000;

export const CardActions = {
  /** Act on one row: pending at once, then the daemon's answer (the feed's diff) or the error, on the row. */
  async _act(action, key, extra = {}) {
    const row = this._rows.get(key);
    if (!row) return;
    this._pending.set(key, action);
    this._errors.delete(key);
    this._list.update(new Set([key]));
    let outcome;
    try {
      await this._hass.callWS({ type: "peerdeck/transfers/act", entry_id: row.entry, action, ids: [row.id], ...extra });
      const now = this._rows.get(key);
      outcome = now && !now.gone ? statusLabel(this._t, now, rowStatus(now)) : this._t("removed");
    } catch (err) {
      outcome = this._t("action_failed", { error: errorText(err) });
      this._errors.set(key, outcome);
      setTimeout(() => {
        if (this._errors.delete(key)) this._list.update(new Set([key]));
      }, ROW_ERROR_MS);
    }
    this._pending.delete(key);
    this._list.update(new Set([key]));
    this._el.live.textContent = `${row.name}: ${outcome}`; // what a screen reader hears
  },

  /** Pause or resume every transfer of every entry that can. */
  async _all(action) {
    for (const [entryId, feed] of this._feeds) {
      if (!feed.capabilities?.[action]) continue;
      try {
        await this._hass.callWS({ type: "peerdeck/transfers/act", entry_id: entryId, action });
      } catch (err) {
        this._notice(this._t("action_failed", { error: errorText(err) }));
      }
    }
  },

  /** The entry whose alternative speed limits the turtle toggles (the first that has them). */
  _turtleFeed() {
    for (const feed of this._feeds.values()) {
      if (feed.alternative_speed_entity && feed.status?.alternative_speed !== null && feed.status?.alternative_speed !== undefined) return feed;
    }
    return null;
  },

  /** Turn qBittorrent's alternative speed limits on or off through its switch entity. */
  async _toggleTurtle() {
    const feed = this._turtleFeed();
    if (!feed || this._el.turtle.hasAttribute("data-pending")) return;
    this._el.turtle.setAttribute("data-pending", "");
    try {
      const service = feed.status.alternative_speed ? "turn_off" : "turn_on";
      await this._hass.callService("switch", service, { entity_id: feed.alternative_speed_entity });
    } catch (err) {
      this._notice(this._t("action_failed", { error: errorText(err) }));
    }
    this._el.turtle.removeAttribute("data-pending");
  },
};
