// The Peerdeck card's look and skeleton: one stylesheet and one template, themed by Home Assistant's
// CSS variables. The card narrows to a phone or a ~290 px column through container queries.

import { ROW_HEIGHT } from "./transfer-rows.js";

export const SPARK_SAMPLES = 60;

export const STYLE = `
  :host { display: block; }
  ha-card { display: block; overflow: hidden; color: var(--primary-text-color, #212121); container-type: inline-size;
    background: var(--ha-card-background, var(--card-background-color, #fff)); }
  .header { display: flex; align-items: center; gap: 8px; padding: 12px 16px 4px; }
  .title { flex: 1 1 auto; min-width: 6em; font-size: var(--ha-card-header-font-size, 20px); font-weight: 500;
    white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .totals { display: flex; flex-direction: column; align-items: flex-end; font-size: 13px;
    font-variant-numeric: tabular-nums; white-space: nowrap; }
  .down { color: var(--primary-color, #03a9f4); }
  .up { color: var(--accent-color, #ff9800); }
  svg.spark { width: 120px; height: 32px; flex: none; border-bottom: 1px solid var(--divider-color, #e0e0e0); }
  svg.spark polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
  svg.spark polyline.down { stroke: var(--primary-color, #03a9f4); }
  svg.spark polyline.up { stroke: var(--accent-color, #ff9800); }
  .turtle[hidden] { display: none; }
  .turtle { width: 36px; padding: 0; justify-content: center; flex: none; }
  .turtle[aria-pressed="true"] { background: var(--primary-color, #03a9f4); color: #fff; }
  .turtle[data-pending] { opacity: 0.6; }
  .notice { margin: 4px 16px; color: var(--error-color, #db4437); font-size: 13px; }
  .notice:empty { display: none; }
  .live { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  .toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; padding: 8px 16px; }
  .toolbar input { flex: 1 1 140px; min-width: 100px; }
  .toolbar select { max-width: 100%; }
  input, select, button { font: inherit; font-size: 14px; color: var(--primary-text-color, #212121);
    background: var(--secondary-background-color, #f5f5f5); border: 1px solid var(--divider-color, #e0e0e0);
    border-radius: 8px; height: 36px; padding: 0 8px; box-sizing: border-box; }
  button { cursor: pointer; display: inline-flex; align-items: center; gap: 4px; }
  button[disabled] { cursor: default; opacity: 0.45; }
  button[hidden], select[hidden] { display: none; }
  button:focus-visible, input:focus-visible, select:focus-visible, .viewport:focus-visible {
    outline: 2px solid var(--primary-color, #03a9f4); outline-offset: 1px; }
  .count { margin-left: auto; color: var(--secondary-text-color, #727272); font-size: 13px; white-space: nowrap; }
  .viewport { position: relative; overflow-y: auto; overflow-x: hidden; contain: strict; }
  .viewport:focus-visible { outline-offset: -2px; }
  .spacer { width: 1px; }
  .row { position: absolute; top: 0; left: 0; right: 0; height: ${ROW_HEIGHT}px; box-sizing: border-box;
    display: flex; align-items: center; gap: 12px; padding: 0 8px 0 16px; contain: layout paint;
    border-top: 1px solid var(--divider-color, #e0e0e0); cursor: pointer; }
  .row[hidden] { display: none; }
  .row.active { background: var(--secondary-background-color, #f5f5f5); }
  .viewport:focus .row.active { box-shadow: inset 3px 0 0 var(--primary-color, #03a9f4); }
  .viewport:focus .row.active.on-button { box-shadow: none; }
  .viewport:focus button.active { outline: 2px solid var(--primary-color, #03a9f4); outline-offset: -2px; }
  .row[data-pending] .main, .row[data-gone] .main { opacity: 0.6; }
  .row[data-gone] .name { text-decoration: line-through; }
  ha-icon.state { flex: none; color: var(--state-icon-color, #44739e); }
  .row[data-state="downloading"] ha-icon.state, .row[data-state="checking"] ha-icon.state {
    color: var(--primary-color, #03a9f4); }
  .row[data-state="stalled"] ha-icon.state { color: var(--warning-color, #ffa600); }
  .row[data-state="seeding"] ha-icon.state { color: var(--accent-color, #ff9800); }
  .row[data-state="completed"] ha-icon.state { color: var(--success-color, #43a047); }
  .row[data-state="error"] ha-icon.state { color: var(--error-color, #db4437); }
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
  .row[data-state="completed"] .fill, .row[data-state="seeding"] .fill { background: var(--success-color, #43a047); }
  .row[data-state="stalled"] .fill { background: var(--warning-color, #ffa600); }
  .row[data-state="error"] .fill { background: var(--error-color, #db4437); }
  .row[data-state="paused"] .fill { background: var(--disabled-text-color, #9e9e9e); }
  /* One line; a figure that does not fit wraps onto a hidden second line, whole, rather than being cut
     mid-word: the order is the priority (state, time left, rates, size, ratio). Tags take what is left. */
  .meta { display: flex; flex-wrap: wrap; column-gap: 10px; height: 16px; line-height: 16px; overflow: hidden;
    font-size: 12px; color: var(--secondary-text-color, #727272); white-space: nowrap;
    font-variant-numeric: tabular-nums; }
  .meta span { flex: none; }
  .meta span:empty { display: none; }
  .meta .status { font-weight: 500; }
  .meta .status[data-error] { color: var(--error-color, #db4437); flex: 0 1 auto; min-width: 0; overflow: hidden;
    text-overflow: ellipsis; }
  .meta .tags { flex: 1 1 0; min-width: 0; overflow: hidden; text-overflow: ellipsis; }
  .actions { flex: none; display: flex; gap: 4px; }
  .actions[hidden] { display: none; }
  .actions button { width: 36px; justify-content: center; padding: 0; background: none; border-color: transparent; }
  .actions button:hover:not([disabled]) { background: var(--secondary-background-color, #f5f5f5); }
  .empty { padding: 16px; color: var(--secondary-text-color, #727272); text-align: center; }
  .empty[hidden] { display: none; }
  .fullname { position: absolute; left: 16px; right: 16px; z-index: 2; padding: 8px 12px; border-radius: 8px;
    background: var(--primary-text-color, #212121); color: var(--card-background-color, #fff);
    font-size: 13px; overflow-wrap: anywhere; }
  .fullname[hidden] { display: none; }
  .panel { margin: 0 16px 8px; padding: 12px; border: 1px solid var(--divider-color, #e0e0e0); border-radius: 12px;
    display: flex; flex-direction: column; gap: 8px; }
  .panel[hidden] { display: none; }
  .panel .fields { display: flex; flex-wrap: wrap; gap: 8px; }
  .panel .fields > * { flex: 1 1 160px; min-width: 0; }
  .panel .fields > button { flex: 0 0 auto; }
  .panel .drop { border: 1px dashed var(--divider-color, #bdbdbd); border-radius: 8px; padding: 8px;
    font-size: 13px; color: var(--secondary-text-color, #727272); text-align: center; }
  .panel .drop.over { border-color: var(--primary-color, #03a9f4); }
  .panel .drop input { display: none; }
  .panel .drop label { cursor: pointer; text-decoration: underline; }
  .panel .result { font-size: 13px; min-height: 1em; }
  .panel .result[data-error] { color: var(--error-color, #db4437); }
  .hits { list-style: none; margin: 0; padding: 0; max-height: 320px; overflow-y: auto; }
  .hits li { display: flex; align-items: center; gap: 8px; padding: 6px 0;
    border-top: 1px solid var(--divider-color, #e0e0e0); }
  .hits .hit-main { flex: 1 1 auto; min-width: 0; display: flex; flex-direction: column; }
  .hits .hit-title { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 14px; }
  .hits .hit-meta { font-size: 12px; color: var(--secondary-text-color, #727272); white-space: nowrap;
    overflow: hidden; text-overflow: ellipsis; }
  .hits button { flex: none; }
  dialog { border: none; border-radius: 12px; padding: 20px; max-width: min(90vw, 460px);
    background: var(--card-background-color, #fff); color: var(--primary-text-color, #212121); }
  dialog::backdrop { background: rgba(0, 0, 0, 0.4); }
  /* A name of thousands of characters scrolls inside the title: the buttons below stay on screen. */
  dialog h2 { margin: 0 0 12px; font-size: 18px; font-weight: 500; overflow-wrap: anywhere;
    max-height: 40vh; overflow-y: auto; }
  dialog p { margin: 0 0 12px; font-size: 14px; }
  dialog label { display: flex; gap: 8px; align-items: center; margin: 8px 0 16px; }
  dialog label[hidden] { display: none; }
  dialog input[type="checkbox"] { width: 18px; height: 18px; }
  dialog .buttons { display: flex; justify-content: flex-end; gap: 8px; }
  dialog button.confirm { background: var(--error-color, #db4437); color: #fff; border-color: transparent; }
  dialog dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 12px; margin: 0 0 16px;
    font-size: 14px; }
  dialog dt { color: var(--secondary-text-color, #727272); }
  dialog dd { margin: 0; overflow-wrap: anywhere; }
  @container (max-width: 460px) {
    svg.spark { display: none; }
    .header { flex-wrap: wrap; }
    .toolbar .label { display: none; }
    .row { gap: 8px; padding: 0 4px 0 8px; }
    .meta .size, .meta .ratio { display: none; }
  }
  @container (max-width: 320px) {
    .meta .rates, .meta .tags { display: none; }
    .actions button { width: 32px; }
  }
`;

export const SHELL = `
  <ha-card>
    <div class="header">
      <div class="title"></div>
      <svg class="spark" viewBox="0 0 ${SPARK_SAMPLES - 1} 100" preserveAspectRatio="none" role="img">
        <title></title>
        <polyline class="down" points=""></polyline>
        <polyline class="up" points=""></polyline>
      </svg>
      <div class="totals"><span class="down"></span><span class="up"></span></div>
      <button class="turtle" aria-pressed="false" hidden><ha-icon icon="mdi:turtle" aria-hidden="true"></ha-icon></button>
    </div>
    <div class="notice" role="status"></div>
    <div class="live" role="status"></div>
    <div class="toolbar">
      <input class="filter" type="search" />
      <select class="state-filter"></select>
      <select class="category-filter" hidden></select>
      <select class="sort"></select>
      <button class="direction"><ha-icon aria-hidden="true"></ha-icon></button>
      <button class="pause-all"><ha-icon icon="mdi:pause" aria-hidden="true"></ha-icon><span class="label"></span></button>
      <button class="resume-all"><ha-icon icon="mdi:play" aria-hidden="true"></ha-icon><span class="label"></span></button>
      <button class="open-add" aria-expanded="false" hidden><ha-icon icon="mdi:plus" aria-hidden="true"></ha-icon><span class="label"></span></button>
      <button class="open-search" aria-expanded="false" hidden><ha-icon icon="mdi:magnify" aria-hidden="true"></ha-icon><span class="label"></span></button>
      <span class="count"></span>
    </div>
    <form class="panel add-panel" hidden>
      <div class="fields">
        <select class="add-entry"></select>
        <input class="add-link" type="text" autocomplete="off" spellcheck="false" />
      </div>
      <div class="drop"><span class="drop-text"></span> <label><input class="add-file" type="file" accept=".torrent,application/x-bittorrent" /><span class="drop-pick"></span></label></div>
      <div class="fields">
        <input class="add-category" type="text" list="pd-categories" autocomplete="off" />
        <input class="add-path" type="text" autocomplete="off" spellcheck="false" />
        <button class="add-submit" type="submit"></button>
      </div>
      <datalist id="pd-categories"></datalist>
      <div class="result" role="status"></div>
    </form>
    <form class="panel search-panel" hidden role="search">
      <div class="fields">
        <select class="search-entry"></select>
        <input class="search-query" type="search" autocomplete="off" />
        <button class="search-submit" type="submit"></button>
      </div>
      <div class="result" role="status"></div>
      <ul class="hits"></ul>
    </form>
    <div class="fullname" role="tooltip" hidden></div>
    <div class="viewport" role="grid" tabindex="0" aria-readonly="true" aria-colcount="2"></div>
    <div class="empty" hidden></div>
    <dialog class="confirm-delete">
      <form method="dialog">
        <h2></h2>
        <p class="explain"></p>
        <label class="with-data"><input type="checkbox" class="delete-data" /><span></span></label>
        <div class="buttons">
          <button value="cancel" class="cancel"></button>
          <button value="delete" class="confirm"></button>
        </div>
      </form>
    </dialog>
    <dialog class="details">
      <form method="dialog">
        <h2></h2>
        <dl></dl>
        <div class="buttons"><button value="close" class="close"></button></div>
      </form>
    </dialog>
  </ha-card>`;
