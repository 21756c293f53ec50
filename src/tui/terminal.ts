// A full-screen frame writer between Ink and the terminal. Ink (in debug
// mode) hands over each whole frame; this writes only the lines that changed,
// at absolute positions on the alternate screen, inside one synchronized
// update. No erase-and-redraw (no flicker with 1,000 jobs ticking), no
// cursor-relative bookkeeping to drift (Ink 6.8's incremental mode is off by a
// line), and frames also render when CI=true (where Ink's normal mode prints
// only the last one).
import { EventEmitter } from "node:events";

const ESC = "\x1b[";
export const ALT_SCREEN_ON = `${ESC}?1049h${ESC}?25l${ESC}H${ESC}2J`;
export const ALT_SCREEN_OFF = `${ESC}?25h${ESC}?1049l`;
const SYNC_ON = `${ESC}?2026h`;
const SYNC_OFF = `${ESC}?2026l`;
/** Anything but SGR (colours, bold): a frame has none of these. */
const NOT_A_FRAME = /\x1b\[[0-9;?]*[A-HJKSTfhlsu]/;

/** The changes that turn `prev` into `next`: each changed line rewritten in place. */
export function diffFrame(prev: readonly string[], next: readonly string[], rows: number): string {
  let out = "";
  const n = Math.min(rows, Math.max(prev.length, next.length));
  for (let i = 0; i < n; i++) {
    const line = next[i];
    if (line === prev[i]) continue;
    // Erase first: erasing after a full-width line would take its last character with it.
    out += `${ESC}${i + 1};1H${ESC}2K${line ?? ""}`;
  }
  return out;
}

export interface TerminalOut {
  write(chunk: string): unknown;
  columns?: number;
  rows?: number;
  on(event: "resize", fn: () => void): unknown;
  off(event: "resize", fn: () => void): unknown;
}

/** What Ink is given as stdout. */
export class FrameWriter extends EventEmitter {
  readonly isTTY = true;
  private prev: string[] = [];
  private pending: string | undefined;
  private clear = true;
  private timer: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private lastFlush = 0;
  private readonly onResize = () => {
    this.prev = [];
    this.clear = true;
    this.emit("resize");
  };

  constructor(
    private readonly out: TerminalOut,
    private readonly minIntervalMs = 16,
  ) {
    super();
    out.on("resize", this.onResize);
  }

  get columns(): number {
    return this.out.columns || 80;
  }

  get rows(): number {
    return this.out.rows || 24;
  }

  write(chunk: string | Uint8Array, cb?: (err?: Error | null) => void): boolean {
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (!NOT_A_FRAME.test(text)) {
      this.pending = text;
      this.schedule();
    }
    cb?.();
    return true;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = this.lastFlush + this.minIntervalMs - Date.now();
    const run = () => {
      this.timer = undefined;
      this.flush();
    };
    this.timer = wait > 0 ? setTimeout(run, wait) : setImmediate(run);
  }

  /** Writes the latest frame now. */
  flush(): void {
    const frame = this.pending;
    if (frame === undefined) return;
    this.pending = undefined;
    this.lastFlush = Date.now();
    const next = frame.replace(/\n$/, "").split("\n");
    const body = diffFrame(this.clear ? [] : this.prev, next, this.rows);
    const head = this.clear ? `${ESC}H${ESC}2J` : "";
    this.clear = false;
    this.prev = next;
    if (head || body) this.out.write(`${SYNC_ON}${head}${body}${ESC}${Math.min(this.rows, next.length)};1H${SYNC_OFF}`);
  }

  close(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.flush();
    this.out.off("resize", this.onResize);
  }
}
