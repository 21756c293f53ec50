// Target selection (Dkron's rule, DESIGN.md "Execution"): every job tag must
// match the node's tag; "value:N" picks N matching nodes at random, the lowest
// N winning; no tags = every live node. Pure: `random` is a parameter.

export interface Candidate {
  name: string;
  tags: Record<string, string>;
}

export interface Selection {
  nodes: string[];
  /** Why nothing matched, when nothing did. */
  reason?: string;
}

export function parseTagValue(v: string): { value: string; count: number | undefined } {
  const m = /^(.*):(\d+)$/.exec(v);
  return m ? { value: m[1]!, count: Number(m[2]) } : { value: v, count: undefined };
}

export function selectTargets(jobTags: Record<string, string>, live: Candidate[], random: () => number = Math.random): Selection {
  const wanted = Object.entries(jobTags).map(([k, v]) => ({ key: k, ...parseTagValue(v) }));
  const matching = live.filter((n) => wanted.every((w) => n.tags[w.key] === w.value));
  if (matching.length === 0) {
    const what = wanted.length ? `tags ${wanted.map((w) => `${w.key}=${w.value}`).join(", ")}` : "any node";
    return { nodes: [], reason: `no live node matches ${what}` };
  }
  const counts = wanted.map((w) => w.count).filter((c): c is number => c !== undefined);
  const limit = counts.length ? Math.min(...counts) : matching.length;
  if (limit <= 0) return { nodes: [], reason: "tag cardinality is 0" };
  const pool = matching.map((n) => n.name).sort();
  // Fisher–Yates on the first `limit` positions.
  for (let i = 0; i < Math.min(limit, pool.length - 1); i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return { nodes: pool.slice(0, limit).sort() };
}
