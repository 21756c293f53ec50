// POST /v1/restore takes Dkron's multipart form (field `file` holding a JSON
// array of jobs); a plain JSON array body is accepted too.
import type { IncomingMessage } from "node:http";
import { DkronError } from "../../shared/errors.js";

const LIMIT = 32 * 1024 * 1024;

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > LIMIT) throw new DkronError("payload_too_large", `body: larger than ${LIMIT} bytes`, "body");
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The `file` part of a multipart/form-data body. */
export function multipartFile(body: Buffer, contentType: string, field = "file"): Buffer | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) return undefined;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  let pos = body.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    const next = body.indexOf(boundary, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString("utf8");
      // `name="file"`, not `filename="file"`.
      if (new RegExp(`(?:^|;)\\s*name="${field}"`, "im").test(headers)) {
        let content = part.subarray(headerEnd + 4);
        if (content.subarray(-2).toString() === "\r\n") content = content.subarray(0, -2);
        return content;
      }
    }
    pos = next;
  }
  return undefined;
}

export async function parseRestoreBody(req: IncomingMessage): Promise<unknown[]> {
  const body = await readAll(req);
  const type = req.headers["content-type"] ?? "";
  const raw = /multipart\/form-data/i.test(type) ? multipartFile(body, type) : body;
  if (!raw) throw new DkronError("invalid_argument", "file: a multipart field named \"file\" with a JSON array of jobs is required", "file");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new DkronError("invalid_argument", `file: malformed JSON: ${(err as Error).message}`, "file");
  }
  if (!Array.isArray(parsed)) throw new DkronError("invalid_argument", "file: must be a JSON array of jobs", "file");
  return parsed;
}
