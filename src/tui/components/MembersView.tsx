// Cluster members: name (★ leader), role, status, address, version, last seen, tags.
import { Box, Text } from "ink";
import { relativeTime } from "../../cli/output.js";
import type { Member } from "../../shared/member.js";
import { fit, memberStatus, rule, tagsText } from "../format.js";
import { timeOf } from "../state/select.js";
import { toneProps, useTheme } from "../theme.js";

export interface MembersViewProps {
  members: readonly Member[];
  leader: string;
  cursor: number;
  scroll: number;
  width: number;
  height: number;
  now: number;
}

const isLeader = (m: Member, leader: string) => (leader ? m.Name === leader : m.leader === true);

export function MembersView(p: MembersViewProps) {
  const theme = useTheme();
  const rows = Math.max(1, p.height - 2);
  const nameW = Math.max(8, Math.min(24, ...p.members.map((m) => [...m.Name].length + 2)));
  const addrW = 21;
  const fixed = 2 + nameW + 1 + 7 + 1 + 8 + 1 + addrW + 1 + 8 + 1 + 9 + 1;
  const tagsW = Math.max(4, p.width - fixed);
  const header = `  ${fit("NAME", nameW)} ${fit("ROLE", 7)} ${fit("STATUS", 8)} ${fit("ADDRESS", addrW)} ${fit("VERSION", 8)} ${fit("SEEN", 9)} TAGS`;
  return (
    <Box flexDirection="column" width={p.width} height={p.height}>
      <Text wrap="truncate" bold>{rule(`Members (${p.members.length}) · ★ leader`, p.width)}</Text>
      <Text wrap="truncate" dimColor>{header}</Text>
      {p.members.length === 0 ? <Text dimColor>  no members reported</Text> : null}
      {p.members.slice(p.scroll, p.scroll + rows).map((m, i) => {
        const selected = p.scroll + i === p.cursor;
        const st = memberStatus(m);
        const lead = isLeader(m, p.leader);
        const seen = timeOf(m.last_seen);
        return (
          <Text key={m.Name} wrap="truncate" inverse={selected}>
            {selected ? "› " : "  "}
            <Text bold={lead}>{fit(`${lead ? "★" : " "} ${m.Name}`, nameW)}</Text> {fit(m.role ?? "", 7)}{" "}
            <Text {...toneProps(theme, st.tone)}>{fit(st.text, 8)}</Text> {fit(`${m.Addr}:${m.Port}`, addrW)} {fit(m.version ?? "", 8)}{" "}
            {fit(seen === null ? "—" : relativeTime(seen, p.now), 9)} <Text dimColor>{fit(tagsText(m.Tags), tagsW)}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
