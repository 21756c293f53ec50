// Keeps the store out of the scheduler's failure domain (DESIGN.md,
// Leadership): on nats-server 2.9.10 a kill of the server that leads a
// replicated stream stalls its writes for ~5–7 s. If the leader's own embedded
// server also led the lease, claims, status or executions streams, a kill -9 of
// the leader would freeze the store exactly when a new leader needs it. So the
// leader asks its server to hand those leaderships to another replica.
import type { JetStreamManager, NatsConnection } from "nats";
import type { Logger } from "../logger.js";
import { BUCKET, EXECUTIONS_STREAM, STATUS_CONSUMER } from "../store/names.js";

export const SCHEDULING_STREAMS = [`KV_${BUCKET.leader}`, `KV_${BUCKET.ticks}`, `KV_${BUCKET.status}`, EXECUTIONS_STREAM];

/** Returns what was moved away from `serverName`. */
export async function stepDownStoreLeaders(nc: NatsConnection, jsm: JetStreamManager, serverName: string, log: Logger): Promise<string[]> {
  const moved: string[] = [];
  for (const stream of SCHEDULING_STREAMS) {
    try {
      const info = await jsm.streams.info(stream);
      // Only hand over to replicas that are current: never make a lagging one leader.
      if (info.cluster?.leader === serverName && (info.cluster.replicas?.length ?? 0) > 0 &&
          info.cluster.replicas!.every((r) => r.current && !r.offline)) {
        await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, undefined, { timeout: 2_000 });
        moved.push(stream);
      }
    } catch (err) {
      log.debug({ err: (err as Error).message, stream }, "stream leader step-down failed");
    }
  }
  try {
    const c = await jsm.consumers.info(EXECUTIONS_STREAM, STATUS_CONSUMER);
    if (c.cluster?.leader === serverName && (c.cluster.replicas?.length ?? 0) > 0 &&
        c.cluster.replicas!.every((r) => r.current && !r.offline)) {
      await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${EXECUTIONS_STREAM}.${STATUS_CONSUMER}`, undefined, { timeout: 2_000 });
      moved.push(`${EXECUTIONS_STREAM}/${STATUS_CONSUMER}`);
    }
  } catch (err) {
    log.debug({ err: (err as Error).message }, "consumer leader step-down failed");
  }
  if (moved.length) log.info({ moved }, "moved store leadership away from the scheduler's server");
  return moved;
}
