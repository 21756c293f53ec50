// WebSocket side of the API: `/v1/events` pushes job, execution, member and
// leader changes as they happen; `/v1/jobs/:job/executions/:id/output`
// streams the output of a running execution. What the TUI and
// `dkron logs -f` use instead of polling.
import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../logger.js";

export type ServerEvent =
  | { type: "hello"; node: string; leader: string | null }
  | { type: "job"; op: "put"; job: unknown }
  | { type: "job"; op: "delete"; name: string }
  | { type: "execution"; execution: unknown }
  | { type: "member"; member: unknown }
  | { type: "leader"; leader: string | null };

export interface OutputSource {
  /** Output so far; undefined when the execution is unknown. */
  current(job: string, id: string): Promise<{ output: string; finished: boolean } | undefined>;
  /** Calls back with each new chunk and once when it finished; returns an unsubscribe. */
  follow(job: string, id: string, onChunk: (text: string) => void, onEnd: () => void): () => void;
}

export interface EventHubOptions {
  node: string;
  leader(): string | null;
  output: OutputSource;
  log: Logger;
  /** Refuses an upgrade (e.g. a missing token); return an error message to refuse. */
  authorize?(req: IncomingMessage): string | undefined;
}

const OUTPUT_PATH = /^\/v1\/jobs\/([^/]+)\/executions\/([^/]+)\/output\/?$/;

export class EventHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly clients = new Set<WebSocket>();

  constructor(private readonly o: EventHubOptions) {}

  attach(http: Server): void {
    http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const refused = this.o.authorize?.(req);
      if (refused) return reject(socket, 401, refused);
      if (path === "/v1/events" || path === "/v1/events/") {
        this.wss.handleUpgrade(req, socket, head, (ws) => this.onEvents(ws));
        return;
      }
      const m = OUTPUT_PATH.exec(path);
      if (m) {
        this.wss.handleUpgrade(req, socket, head, (ws) => void this.onOutput(ws, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)));
        return;
      }
      reject(socket, 404, `no WebSocket route ${path}`);
    });
  }

  get connections(): number {
    return this.clients.size;
  }

  publish(e: ServerEvent): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify(e);
    for (const ws of this.clients) {
      // A client that cannot keep up is dropped rather than buffered without bound.
      if (ws.bufferedAmount > 8 * 1024 * 1024) {
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  }

  private onEvents(ws: WebSocket): void {
    this.clients.add(ws);
    ws.on("close", () => this.clients.delete(ws));
    ws.on("error", () => this.clients.delete(ws));
    ws.send(JSON.stringify({ type: "hello", node: this.o.node, leader: this.o.leader() } satisfies ServerEvent));
  }

  private async onOutput(ws: WebSocket, job: string, id: string): Promise<void> {
    const send = (v: unknown) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(v));
    const cur = await this.o.output.current(job, id);
    if (!cur) {
      send({ type: "error", error: { code: "not_found", message: `execution ${JSON.stringify(id)} of job ${JSON.stringify(job)} not found` } });
      ws.close(4404, "not found");
      return;
    }
    if (cur.output) send({ type: "output", data: cur.output });
    if (cur.finished) {
      send({ type: "end" });
      ws.close(1000);
      return;
    }
    const stop = this.o.output.follow(job, id, (data) => send({ type: "output", data }), () => {
      send({ type: "end" });
      ws.close(1000);
    });
    ws.on("close", stop);
    ws.on("error", stop);
  }

  close(): void {
    for (const ws of this.clients) ws.terminate();
    this.wss.close();
  }
}

function reject(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: status === 401 ? "unauthorized" : "not_found", message } });
  socket.end(`HTTP/1.1 ${status} ${status === 401 ? "Unauthorized" : "Not Found"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
