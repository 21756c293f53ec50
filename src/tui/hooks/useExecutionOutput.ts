// The open execution's output: read once, then followed over the output
// socket, or by polling the execution every second when there is none.
import { useEffect } from "react";
import type { TuiApi } from "../api.js";
import { isRunning } from "../state/select.js";
import type { Action } from "../state/actions.js";
import type { Streams } from "./useClusterData.js";

export const OUTPUT_POLL_MS = 1000;

export function useExecutionOutput(
  api: TuiApi,
  target: { job: string; id: string } | undefined,
  dispatch: (a: Action) => void,
  streams: Streams | null,
  pollMs = OUTPUT_POLL_MS,
): void {
  const job = target?.job;
  const id = target?.id;
  useEffect(() => {
    if (!job || !id) return;
    let stopped = false;
    let poller: NodeJS.Timeout | undefined;
    let flushTimer: NodeJS.Timeout | undefined;
    let pending = "";
    let sub: { close(): void } | undefined;
    const source = (s: "socket" | "polling" | "done") => dispatch({ type: "outputSource", job, id, source: s });

    /** Reads the execution; true once it has finished. */
    const read = async (): Promise<boolean> => {
      const e = await api.execution(job, id);
      if (stopped) return true;
      dispatch({ type: "execution", execution: e });
      dispatch({ type: "output", job, id, data: e.output, replace: true });
      if (!isRunning(e)) {
        source("done");
        return true;
      }
      return false;
    };
    const poll = () => {
      if (stopped || poller) return;
      source("polling");
      const step = async () => {
        let done = false;
        try {
          done = await read();
        } catch {
          // Transient: the next step tries again.
        }
        if (!done && !stopped) poller = setTimeout(() => void step(), pollMs);
      };
      void step();
    };
    const flush = () => {
      flushTimer = undefined;
      if (pending && !stopped) dispatch({ type: "output", job, id, data: pending, replace: false });
      pending = "";
    };

    void (async () => {
      let done: boolean;
      try {
        done = await read();
      } catch {
        return poll();
      }
      if (done || stopped) return;
      if (!streams) return poll();
      sub = streams.output({
        address: api.address,
        ...(api.token ? { token: api.token } : {}),
        job,
        id,
        onOpen() {
          // The socket replays the output so far: start from it rather than from the GET.
          dispatch({ type: "output", job, id, data: "", replace: true });
          source("socket");
        },
        onData(chunk) {
          pending += chunk;
          flushTimer ??= setTimeout(flush, 40);
        },
        onEnd() {
          flush();
          void read().catch(() => poll());
        },
        onUnavailable() {
          flush();
          poll();
        },
      });
    })();
    return () => {
      stopped = true;
      sub?.close();
      clearTimeout(poller);
      clearTimeout(flushTimer);
    };
  }, [api, job, id, dispatch, streams, pollMs]);
}
