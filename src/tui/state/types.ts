// The dashboard's state. Everything the screen shows is derived from this.
import type { LinkState } from "../../client/events.js";
import type { Execution } from "../../shared/execution.js";
import type { Job } from "../../shared/job.js";
import type { Member } from "../../shared/member.js";
import type { FormState } from "./form.js";

export type View = "jobs" | "members" | "execution";
export type Pane = "table" | "detail";
export type SortKey = "name" | "next" | "last" | "status" | "success" | "errors";

/** live: the event socket is up; polling: it is down and GETs every 2 s keep the screen fresh. */
export type ConnMode = "connecting" | "live" | "polling" | "offline";

export interface Connection {
  /** The event socket. */
  link: LinkState;
  /** Why the socket is down (shown dimmed). */
  socketError?: string;
  /** When the socket's next attempt is due. */
  retryAt?: number;
  /** Last failed HTTP refresh: the API itself cannot be reached. */
  httpError?: string;
}

export interface ExecView {
  job: string;
  id: string;
  execution?: Execution;
  output: string;
  /** Stick to the end as output grows. */
  follow: boolean;
  /** First output line shown when not following. */
  scroll: number;
  source: "loading" | "socket" | "polling" | "done";
}

export type Overlay =
  | { kind: "none" }
  | { kind: "help" }
  | { kind: "confirmDelete"; job: string }
  | { kind: "form"; form: FormState };

export interface Flash {
  kind: "info" | "error";
  text: string;
  at: number;
}

export interface State {
  now: number;
  size: { columns: number; rows: number };
  address: string;
  node: string;
  leader: string;
  dc?: string;
  paused?: boolean;
  conn: Connection;
  /** A first snapshot arrived. */
  loaded: boolean;
  jobs: ReadonlyMap<string, Job>;
  members: readonly Member[];
  /** Recent executions of jobs whose detail was looked at, newest first. */
  executions: Readonly<Record<string, readonly Execution[]>>;
  /** Running execution ids per job. */
  running: Readonly<Record<string, readonly string[]>>;
  view: View;
  pane: Pane;
  /** The job under the cursor, by name, so it stays put when rows re-sort. */
  selected?: string;
  /** Last known row of the selection: where it lands when its job disappears. */
  cursor: number;
  /** First row shown in the jobs table. */
  scroll: number;
  execCursor: number;
  memberCursor: number;
  memberScroll: number;
  sort: { key: SortKey; desc: boolean };
  filter: string;
  /** Set while the filter is being typed. */
  filterDraft?: string;
  overlay: Overlay;
  execView?: ExecView;
  flash?: Flash;
  /** Where the last `c` went, so the next one visits the following sibling. */
  childJump?: { parent: string; child: string };
  /** Bumped to ask the data layer for an immediate refresh. */
  refreshSeq: number;
  quit: boolean;
}

export function initialState(opts: { address: string; now: number; columns: number; rows: number }): State {
  return {
    now: opts.now,
    size: { columns: opts.columns, rows: opts.rows },
    address: opts.address,
    node: "",
    leader: "",
    conn: { link: "connecting" },
    loaded: false,
    jobs: new Map(),
    members: [],
    executions: {},
    running: {},
    view: "jobs",
    pane: "table",
    cursor: 0,
    scroll: 0,
    execCursor: 0,
    memberCursor: 0,
    memberScroll: 0,
    sort: { key: "name", desc: false },
    filter: "",
    overlay: { kind: "none" },
    refreshSeq: 0,
    quit: false,
  };
}
