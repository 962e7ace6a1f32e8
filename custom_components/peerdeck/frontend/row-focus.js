// The keyboard of the transfer list: the WAI-ARIA grid pattern with ``aria-activedescendant``.
// The list is one tab stop; the arrow keys, Page Up/Down and Home/End move an active row, which is
// scrolled into view; Left/Right walk its buttons; Enter or Space opens the row or presses the
// button; Delete asks to delete the row. The active row is held by its transfer (entry|id), never by
// a slot of the recycled pool, so a re-sort or a diff never moves it to another transfer: the list
// keeps the active row where it was on screen and the other rows move around it.

import { ROW_CELLS, ROW_HEIGHT } from "./transfer-rows.js";

export class RowFocus {
  /**
   * @param {HTMLElement} viewport the grid element (the tab stop)
   * @param {TransferRows} list the virtual list
   * @param {object} handlers ``open(key)`` for Enter on a row, ``press(key, action)`` for a button,
   *   ``canPress(key, action)`` whether the row shows that button now
   */
  constructor(viewport, list, handlers) {
    this.viewport = viewport;
    this.list = list;
    this.handlers = handlers;
    this.key = null;
    this.cell = 0;
    viewport.addEventListener("keydown", (event) => this._keydown(event));
    viewport.addEventListener("focus", () => this._focused());
    viewport.addEventListener("blur", () => this.sync());
  }

  /** Before the list is re-ordered: where the active row sits on screen, to keep it there after. */
  remember() {
    const index = this.key === null ? -1 : this.list.keys.indexOf(this.key);
    if (index < 0) return null;
    return { index, offset: index * ROW_HEIGHT - this.viewport.scrollTop };
  }

  /**
   * After the list was re-ordered: scroll so the active row keeps its place on screen (when it was
   * in view), or, when its transfer left the list, make the row now at its old place active.
   */
  restore(before) {
    if (!before) return;
    const keys = this.list.keys;
    const index = keys.indexOf(this.key);
    if (index < 0) {
      this.key = keys.length ? keys[Math.min(before.index, keys.length - 1)] : null;
      this.cell = 0;
      return;
    }
    const inView = before.offset > -ROW_HEIGHT && before.offset < this.viewport.clientHeight;
    if (inView && index !== before.index) this.viewport.scrollTop = index * ROW_HEIGHT - before.offset;
  }

  /** Make ``key`` the active row (a click, a new transfer) and show it. */
  activate(key, cell = 0) {
    this.key = key;
    this.cell = cell;
    const index = this.list.keys.indexOf(key);
    if (index >= 0) this.list.scrollToIndex(index);
    this.sync();
  }

  /** Point ``aria-activedescendant`` and the highlight at the active row or button (after every render). */
  sync() {
    const element = this.key === null ? undefined : this.list.elementOf(this.key);
    if (this._shown && this._shown !== element) this._clear(this._shown);
    this._shown = element;
    if (!element) {
      this.viewport.removeAttribute("aria-activedescendant");
      return;
    }
    const cell = ROW_CELLS[this.cell] ?? "row";
    const target = cell === "row" ? element : element._parts[cell === "toggle" ? "toggle" : "remove"];
    element.classList.add("active");
    element.classList.toggle("on-button", target !== element);
    element._parts.toggle.classList.toggle("active", target === element._parts.toggle);
    element._parts.remove.classList.toggle("active", target === element._parts.remove);
    if (this.viewport.getAttribute("aria-activedescendant") !== target.id) {
      this.viewport.setAttribute("aria-activedescendant", target.id);
    }
  }

  _clear(element) {
    element.classList.remove("active", "on-button");
    element._parts.toggle.classList.remove("active");
    element._parts.remove.classList.remove("active");
  }

  /** Tabbing in makes the top row in view active, unless an active row is still in view. */
  _focused() {
    const keys = this.list.keys;
    const index = this.key === null ? -1 : keys.indexOf(this.key);
    const top = Math.ceil(this.viewport.scrollTop / ROW_HEIGHT);
    const bottom = top + this.list.pageSize - 1;
    if (keys.length && (index < top || index > bottom)) {
      this.key = keys[Math.min(top, keys.length - 1)];
      this.cell = 0;
    }
    this.sync();
  }

  _keydown(event) {
    const keys = this.list.keys;
    if (!keys.length || event.altKey || event.metaKey) return;
    let index = this.key === null ? -1 : keys.indexOf(this.key);
    if (index < 0) index = Math.min(Math.ceil(this.viewport.scrollTop / ROW_HEIGHT), keys.length - 1);
    const page = this.list.pageSize;
    let next = null;
    switch (event.key) {
      case "ArrowDown":
        next = index + 1;
        break;
      case "ArrowUp":
        next = index - 1;
        break;
      case "PageDown":
        next = index + page;
        break;
      case "PageUp":
        next = index - page;
        break;
      case "Home":
        next = 0;
        break;
      case "End":
        next = keys.length - 1;
        break;
      case "ArrowRight":
      case "ArrowLeft":
        this.key = keys[index];
        this.cell = this._nextCell(event.key === "ArrowRight" ? 1 : -1);
        this.list.scrollToIndex(index);
        this.sync();
        event.preventDefault();
        return;
      case "Enter":
      case " ":
        this.key = keys[index];
        this._press();
        event.preventDefault();
        return;
      case "Delete":
        this.key = keys[index];
        if (this.handlers.canPress(this.key, "delete")) this.handlers.press(this.key, "delete");
        event.preventDefault();
        return;
      default:
        return;
    }
    event.preventDefault();
    next = Math.max(0, Math.min(keys.length - 1, next));
    if (keys[next] !== this.key) this.cell = 0;
    this.key = keys[next];
    this.list.scrollToIndex(next);
    this.sync();
  }

  /** The next cell of the active row in ``step`` direction that the row shows (a hidden button is skipped). */
  _nextCell(step) {
    let cell = this.cell;
    for (let tries = 0; tries < ROW_CELLS.length; tries += 1) {
      cell += step;
      if (cell < 0 || cell >= ROW_CELLS.length) return this.cell;
      if (cell === 0 || this.handlers.canPress(this.key, ROW_CELLS[cell])) return cell;
    }
    return this.cell;
  }

  _press() {
    const cell = ROW_CELLS[this.cell] ?? "row";
    if (cell === "row") this.handlers.open(this.key);
    else if (this.handlers.canPress(this.key, cell)) this.handlers.press(this.key, cell);
  }
}
