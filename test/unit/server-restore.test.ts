// POST /v1/restore's body parsing (api/restore.ts): the `file` part of Dkron's multipart form —
// built by hand (CRLF, quoted and unquoted boundaries, other fields around it) and by fetch's own
// FormData encoder — or a plain JSON array; malformed or missing content is a typed 400.
import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { multipartFile, parseRestoreBody } from "../../src/server/api/restore.js";
import { DkronError } from "../../src/shared/errors.js";

const CRLF = "\r\n";
const jobs = [{ name: "child", parent_job: "parent" }, { name: "parent", schedule: "@manually", displayname: "héllo ✓" }];

function multipart(boundary: string, parts: { headers: string[]; body: string | Buffer }[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}${CRLF}${p.headers.join(CRLF)}${CRLF}${CRLF}`));
    chunks.push(Buffer.isBuffer(p.body) ? p.body : Buffer.from(p.body));
    chunks.push(Buffer.from(CRLF));
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return Buffer.concat(chunks);
}

/** An IncomingMessage stand-in: a readable body with headers. */
function request(body: Buffer | Buffer[], contentType?: string): IncomingMessage {
  const stream = Readable.from(Array.isArray(body) ? body : [body]);
  return Object.assign(stream, { headers: contentType ? { "content-type": contentType } : {} }) as unknown as IncomingMessage;
}

async function rejection(p: Promise<unknown>): Promise<DkronError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(DkronError);
  return err as DkronError;
}

describe("multipartFile", () => {
  it("returns the `file` part (without its trailing CRLF) among other fields", () => {
    const text = JSON.stringify(jobs);
    const body = multipart("XyZ", [
      { headers: ['Content-Disposition: form-data; name="note"'], body: "first" },
      { headers: ['Content-Disposition: form-data; name="file"; filename="backup.json"', "Content-Type: application/json"], body: text },
      { headers: ['Content-Disposition: form-data; name="after"'], body: "last" },
    ]);
    expect(multipartFile(body, "multipart/form-data; boundary=XyZ")?.toString("utf8")).toBe(text);
    expect(multipartFile(body, 'multipart/form-data; boundary="XyZ"')?.toString("utf8")).toBe(text);
    expect(multipartFile(body, "multipart/form-data; boundary=XyZ", "note")?.toString("utf8")).toBe("first");
  });

  it("keeps the content byte for byte (CRLF inside, UTF-8, a trailing newline of the file itself)", () => {
    const text = `[\r\n  {"name": "a", "displayname": "ünï ✓"}\r\n]\n`;
    const body = multipart("b0undary", [{ headers: ['Content-Disposition: form-data; name="file"; filename="x"'], body: text }]);
    expect(multipartFile(body, "multipart/form-data; boundary=b0undary")?.toString("utf8")).toBe(text);
  });

  it("is undefined without a boundary or without a `file` part", () => {
    const body = multipart("B", [{ headers: ['Content-Disposition: form-data; name="other"'], body: "[]" }]);
    expect(multipartFile(body, "multipart/form-data; boundary=B")).toBeUndefined();
    expect(multipartFile(body, "multipart/form-data")).toBeUndefined();
    expect(multipartFile(Buffer.from("[]"), "multipart/form-data; boundary=B")).toBeUndefined();
  });

  it("does not take a part whose filename (not name) is \"file\"", () => {
    const body = multipart("B", [
      { headers: ['Content-Disposition: form-data; name="other"; filename="file"'], body: "wrong" },
      { headers: ['Content-Disposition: form-data; name="file"; filename="jobs.json"'], body: "[]" },
    ]);
    expect(multipartFile(body, "multipart/form-data; boundary=B")?.toString("utf8")).toBe("[]");
  });

  it("reads what fetch's FormData encoder produces (Blob with a filename)", async () => {
    const form = new FormData();
    form.append("file", new Blob([JSON.stringify(jobs)], { type: "application/json" }), "backup.json");
    const req = new Request("http://localhost/v1/restore", { method: "POST", body: form });
    const body = Buffer.from(await req.arrayBuffer());
    const file = multipartFile(body, req.headers.get("content-type")!);
    expect(JSON.parse(file!.toString("utf8"))).toEqual(jobs);
  });
});

describe("parseRestoreBody", () => {
  it("multipart: the jobs array from the `file` part, body in several chunks", async () => {
    const body = multipart("QQ", [{ headers: ['Content-Disposition: form-data; name="file"; filename="a.json"'], body: JSON.stringify(jobs) }]);
    const chunks = [body.subarray(0, 10), body.subarray(10, 57), body.subarray(57)];
    expect(await parseRestoreBody(request(chunks, "multipart/form-data; boundary=QQ"))).toEqual(jobs);
  });

  it("a plain JSON array body is accepted too (any content type)", async () => {
    expect(await parseRestoreBody(request(Buffer.from(JSON.stringify(jobs)), "application/json"))).toEqual(jobs);
    expect(await parseRestoreBody(request(Buffer.from("[]")))).toEqual([]);
  });

  it("multipart without a `file` part: invalid_argument naming the field", async () => {
    const body = multipart("QQ", [{ headers: ['Content-Disposition: form-data; name="jobs"'], body: "[]" }]);
    const err = await rejection(parseRestoreBody(request(body, "multipart/form-data; boundary=QQ")));
    expect(err.code).toBe("invalid_argument");
    expect(err.status).toBe(400);
    expect(err.field).toBe("file");
    expect(err.message).toMatch(/file/);
  });

  it("malformed JSON or something other than an array: invalid_argument", async () => {
    const bad = multipart("QQ", [{ headers: ['Content-Disposition: form-data; name="file"'], body: "[{" }]);
    expect((await rejection(parseRestoreBody(request(bad, "multipart/form-data; boundary=QQ")))).message).toMatch(/malformed JSON/);
    const obj = await rejection(parseRestoreBody(request(Buffer.from('{"name":"a"}'), "application/json")));
    expect(obj.code).toBe("invalid_argument");
    expect(obj.message).toMatch(/array/);
  });

  it("a body over 32 MiB: payload_too_large", async () => {
    const mib = Buffer.alloc(1024 * 1024, 0x20);
    const err = await rejection(parseRestoreBody(request(Array.from({ length: 33 }, () => mib), "application/json")));
    expect(err.code).toBe("payload_too_large");
    expect(err.status).toBe(413);
  });
});
