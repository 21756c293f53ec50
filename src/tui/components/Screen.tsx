// The whole frame from the state: header, body (jobs + detail, members,
// output, help or form), status bar. Exactly layout().total rows tall.
import { Box } from "ink";
import { modeOf } from "../state/keys.js";
import { layout } from "../state/layout.js";
import { connMode } from "../state/reducer.js";
import { executionsOf, selectedIndex, visibleJobs } from "../state/select.js";
import type { State } from "../state/types.js";
import { ExecutionView } from "./ExecutionView.js";
import { Header } from "./Header.js";
import { HelpOverlay } from "./HelpOverlay.js";
import { JobDetail } from "./JobDetail.js";
import { JobForm } from "./JobForm.js";
import { JobsTable } from "./JobsTable.js";
import { MembersView } from "./MembersView.js";
import { StatusBar } from "./StatusBar.js";

function Body({ s }: { s: State }) {
  const l = layout(s.size, s.pane);
  if (s.overlay.kind === "help") return <HelpOverlay width={l.columns} height={l.body} />;
  if (s.overlay.kind === "form") return <JobForm form={s.overlay.form} width={l.columns} height={l.body} />;
  if (s.view === "execution" && s.execView) return <ExecutionView view={s.execView} width={l.columns} height={l.body} now={s.now} />;
  if (s.view === "members") {
    return (
      <MembersView
        members={s.members}
        leader={s.leader}
        cursor={s.memberCursor}
        scroll={s.memberScroll}
        width={l.columns}
        height={l.body}
        now={s.now}
      />
    );
  }
  const jobs = visibleJobs(s);
  const job = s.selected ? s.jobs.get(s.selected) : undefined;
  const table = l.table.height > 0 ? (
    <JobsTable
      jobs={jobs}
      total={s.jobs.size}
      cursor={selectedIndex(s, jobs)}
      scroll={s.scroll}
      rows={l.table.rows}
      width={l.table.width}
      now={s.now}
      running={s.running}
      focused={s.pane === "table"}
      sort={s.sort}
      filter={s.filter}
      loaded={s.loaded}
      {...(s.conn.httpError ? { error: s.conn.httpError } : {})}
    />
  ) : null;
  const detail = l.detail.height > 0 ? (
    <JobDetail
      {...(job ? { job } : {})}
      jobs={s.jobs}
      executions={job ? executionsOf(s, job.name) : []}
      cursor={s.execCursor}
      focused={s.pane === "detail"}
      width={l.detail.width}
      height={l.detail.height}
      now={s.now}
      running={job ? s.running[job.name]?.length ?? 0 : 0}
    />
  ) : null;
  return (
    <Box flexDirection={l.side ? "row" : "column"} height={l.body}>
      {table}
      {l.side ? <Box width={1} /> : null}
      {detail}
    </Box>
  );
}

export function Screen({ state: s }: { state: State }) {
  const l = layout(s.size, s.pane);
  const retry = s.conn.retryAt === undefined ? undefined : Math.max(0, Math.ceil((s.conn.retryAt - s.now) / 1000));
  const alive = s.members.filter((m) => (m.statusText ?? "alive") === "alive").length;
  const running = Object.values(s.running).reduce((n, ids) => n + ids.length, 0);
  return (
    <Box flexDirection="column" width={l.columns} height={l.total}>
      <Header
        width={l.columns}
        address={s.address}
        node={s.node}
        leader={s.leader}
        {...(s.dc ? { dc: s.dc } : {})}
        nodes={s.members.length}
        alive={alive}
        {...(s.paused !== undefined ? { paused: s.paused } : {})}
        mode={connMode(s)}
        socketError={s.conn.link === "connecting" ? "connecting…" : s.conn.socketError ?? "down"}
        {...(retry !== undefined ? { retryInS: retry } : {})}
        view={s.view}
        jobs={s.jobs.size}
        running={running}
      />
      <Body s={s} />
      <StatusBar
        width={l.columns}
        mode={modeOf(s)}
        {...(s.filterDraft !== undefined ? { filterDraft: s.filterDraft } : {})}
        {...(s.overlay.kind === "confirmDelete" ? { confirmJob: s.overlay.job } : {})}
        {...(s.flash ? { flash: s.flash } : {})}
      />
    </Box>
  );
}
