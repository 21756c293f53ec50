// Carries out what the reducer asked for, through the API, and reports back
// as actions. The only place user commands touch the network.
import type { TuiApi } from "./api.js";
import type { Action, Effect } from "./state/actions.js";
import { failureOf } from "./state/reducer.js";

export type Dispatch = (action: Action) => void;

export async function runEffect(effect: Effect, api: TuiApi, dispatch: Dispatch, now: () => number = Date.now): Promise<void> {
  try {
    switch (effect.kind) {
      case "run":
        dispatch({ type: "effectDone", effect, job: await api.run(effect.job), now: now() });
        return;
      case "toggle":
        dispatch({ type: "effectDone", effect, job: await api.toggle(effect.job), now: now() });
        return;
      case "delete":
        await api.remove(effect.job);
        dispatch({ type: "effectDone", effect, now: now() });
        return;
      case "kill":
        await api.kill(effect.job, effect.id);
        dispatch({ type: "effectDone", effect, now: now() });
        return;
      case "save":
        dispatch({ type: "effectDone", effect, job: await api.save(effect.body), now: now() });
        return;
      case "quit":
        return;
    }
  } catch (err) {
    dispatch({ type: "effectFailed", effect, error: failureOf(err), now: now() });
  }
}
