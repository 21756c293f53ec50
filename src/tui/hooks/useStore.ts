// useReducer with effects: update() returns the next state and the effects to
// run, which are handed to `run` after the state is stored.
import { useCallback, useRef, useState } from "react";
import type { Action, Effect } from "../state/actions.js";
import { update } from "../state/reducer.js";
import type { State } from "../state/types.js";

export interface Store {
  state: State;
  /** The latest state, for timers and callbacks that outlive a render. */
  ref: { readonly current: State };
  dispatch(action: Action): void;
}

export function useStore(init: () => State, run: (effect: Effect, dispatch: (a: Action) => void) => void): Store {
  const [state, setState] = useState(init);
  const ref = useRef(state);
  const runRef = useRef(run);
  runRef.current = run;
  const dispatch = useCallback((action: Action) => {
    const r = update(ref.current, action);
    if (r.state !== ref.current) {
      ref.current = r.state;
      setState(r.state);
    }
    for (const e of r.effects) runRef.current(e, dispatch);
  }, []);
  return { state, ref, dispatch };
}
