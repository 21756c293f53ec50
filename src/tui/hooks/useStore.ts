// useReducer with effects: update() returns the next state and the effects to
// run, which are handed to `run` after the state is stored. Keys render at
// once; data (events, polls, the clock) at most every DATA_FRAME_MS, since a
// busy cluster can send more updates than anyone can read.
import { useCallback, useEffect, useRef, useState } from "react";
import type { Action, Effect } from "../state/actions.js";
import { update } from "../state/reducer.js";
import type { State } from "../state/types.js";

export const DATA_FRAME_MS = 200;

export interface Store {
  state: State;
  /** The latest state, for timers and callbacks that outlive a render. */
  ref: { readonly current: State };
  dispatch(action: Action): void;
}

const IMMEDIATE = new Set<Action["type"]>(["key", "resize", "effectDone", "effectFailed"]);

export function useStore(init: () => State, run: (effect: Effect, dispatch: (a: Action) => void) => void): Store {
  const [state, setState] = useState(init);
  const ref = useRef(state);
  const runRef = useRef(run);
  runRef.current = run;
  const timer = useRef<NodeJS.Timeout | undefined>(undefined);
  const lastCommit = useRef(0);
  const commit = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = undefined;
    lastCommit.current = Date.now();
    setState(ref.current);
  }, []);
  useEffect(() => () => clearTimeout(timer.current), []);
  const dispatch = useCallback(
    (action: Action) => {
      const prev = ref.current;
      const r = update(prev, action);
      if (r.state !== prev) {
        ref.current = r.state;
        // The first data is worth showing at once.
        if (IMMEDIATE.has(action.type) || (!prev.loaded && r.state.loaded)) commit();
        else timer.current ??= setTimeout(commit, Math.max(0, lastCommit.current + DATA_FRAME_MS - Date.now()));
      }
      for (const e of r.effects) runRef.current(e, dispatch);
    },
    [commit],
  );
  return { state, ref, dispatch };
}
