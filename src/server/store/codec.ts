const enc = new TextEncoder();
const dec = new TextDecoder();

export const encodeJson = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));
export const decodeJson = <T>(b: Uint8Array): T => JSON.parse(dec.decode(b)) as T;

/** nats.js reports a failed compare-and-set this way (create on an existing key, update at a stale revision). */
export function isWrongLastSequence(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number }; message?: string } | undefined;
  if (!e) return false;
  if (e.api_error?.err_code === 10071) return true;
  return typeof e.message === "string" && e.message.includes("wrong last sequence");
}
