// Screen geometry from the terminal size: shared by the reducer (paging,
// scrolling) and the components (what to draw). Pure.
import type { Pane } from "./types.js";

export const HEADER_ROWS = 2;
export const STATUS_ROWS = 1;
/** At least this wide, the detail pane sits beside the table instead of below it. */
export const SIDE_BY_SIDE_COLUMNS = 150;
/** Below this body height only the focused pane is shown. */
const MIN_SPLIT_BODY = 12;

export interface Layout {
  columns: number;
  /** Rows drawn: the whole terminal (FrameWriter positions every line itself). */
  total: number;
  body: number;
  side: boolean;
  /** Table pane: title + column header + job rows. */
  table: { width: number; height: number; rows: number };
  /** Detail pane (height 0 = hidden): title + content. */
  detail: { width: number; height: number; lines: number };
}

export function layout(size: { columns: number; rows: number }, pane: Pane): Layout {
  const columns = Math.max(40, size.columns);
  const total = Math.max(8, size.rows);
  const body = Math.max(3, total - HEADER_ROWS - STATUS_ROWS);
  const side = columns >= SIDE_BY_SIDE_COLUMNS && body >= 6;
  let tableH: number;
  let detailH: number;
  let tableW = columns;
  let detailW = columns;
  if (side) {
    tableH = detailH = body;
    tableW = Math.floor(columns * 0.58);
    detailW = columns - tableW - 1;
  } else if (body < MIN_SPLIT_BODY) {
    tableH = pane === "table" ? body : 0;
    detailH = body - tableH;
  } else {
    tableH = Math.floor(body / 2);
    detailH = body - tableH;
  }
  return {
    columns,
    total,
    body,
    side,
    table: { width: tableW, height: tableH, rows: Math.max(0, tableH - 2) },
    detail: { width: detailW, height: detailH, lines: Math.max(0, detailH - 1) },
  };
}

/** Rows of a full-body list (members, output): body minus a title and a column header. */
export const listRows = (size: { columns: number; rows: number }, headerRows = 2): number =>
  Math.max(1, layout(size, "table").body - headerRows);

/** Keeps `index` inside the window [scroll, scroll + height). */
export function scrollFor(index: number, scroll: number, height: number, count: number): number {
  if (height <= 0) return 0;
  let s = Math.min(scroll, Math.max(0, count - height));
  if (index < s) s = index;
  if (index >= s + height) s = index - height + 1;
  return Math.max(0, s);
}
