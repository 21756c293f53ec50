// The WebSocket client (src/client/events.ts) against a real ws server on port 0.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import {
  backoffDelay,
  followOutput,
  parseClusterEvent,
  parseOutputEvent,
  subscribeEvents,
  wsUrl,
  type ClusterEvent,
  type LinkStatus,
} from "../../src/client/events.js";
import { until } from "../helpers/until.js";

interface TestServer {
  address: string;
  http: Server;
  sockets: WebSocket[];
  upgrades: IncomingMessage[];
  /** Paths answered with this status instead of an upgrade. */
  refuse: Map<string, number>;
  onConnect?: (ws: WebSocket, path: string) => void;
  close(): Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(port = 0): Promise<TestServer> {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const t: TestServer = {
    address: "",
    http,
    sockets: [],
    upgrades: [],
    refuse: new Map(),
    async close() {
      for (const ws of t.sockets) ws.terminate();
      wss.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
  http.on("upgrade", (req, socket, head) => {
    t.upgrades.push(req);
    const path = req.url ?? "/";
    const status = t.refuse.get(path);
    if (status) {
      socket.end(`HTTP/1.1 ${status} No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      t.sockets.push(ws);
      t.onConnect?.(ws, path);
    });
  });
  await new Promise<void>((r) => http.listen(port, "127.0.0.1", r));
  t.address = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  servers.push(t);
  return t;
}

const FAST = { initialMs: 20, maxMs: 100 };

describe("parsing", () => {
  it("types every event of the contract and ignores the rest", () => {
    expect(parseClusterEvent('{"type":"hello","node":"n1","leader":"n1"}')).toEqual({ type: "hello", node: "n1", leader: "n1" });
    expect(parseClusterEvent('{"type":"hello","node":"n1","leader":null}')).toEqual({ type: "hello", node: "n1", leader: "" });
    expect(parseClusterEvent('{"type":"job","op":"put","job":{"name":"a"}}')).toMatchObject({ type: "job", op: "put", job: { name: "a" } });
    expect(parseClusterEvent('{"type":"job","op":"delete","name":"a"}')).toEqual({ type: "job", op: "delete", name: "a" });
    expect(parseClusterEvent('{"type":"execution","execution":{"id":"1","job_name":"a"}}')).toMatchObject({ type: "execution" });
    expect(parseClusterEvent('{"type":"member","member":{"Name":"n2"}}')).toMatchObject({ type: "member" });
    expect(parseClusterEvent('{"type":"leader","leader":"n2"}')).toEqual({ type: "leader", leader: "n2" });
    expect(parseClusterEvent('{"type":"leader","leader":null}')).toEqual({ type: "leader", leader: "" });
    expect(parseClusterEvent('{"type":"job","op":"put"}')).toBeUndefined();
    expect(parseClusterEvent('{"type":"future-thing"}')).toBeUndefined();
    expect(parseClusterEvent("not json")).toBeUndefined();
    expect(parseClusterEvent("[1,2]")).toBeUndefined();
    expect(parseOutputEvent('{"type":"output","data":"hi\\n"}')).toEqual({ type: "output", data: "hi\n" });
    expect(parseOutputEvent('{"type":"end"}')).toEqual({ type: "end" });
    expect(parseOutputEvent('{"type":"error"}')).toBeUndefined();
  });

  it("builds ws:// and wss:// URLs from the API address", () => {
    expect(wsUrl("http://h:8080", "/v1/events")).toBe("ws://h:8080/v1/events");
    expect(wsUrl("https://h/prefix", "/v1/events")).toBe("wss://h/prefix/v1/events");
  });

  it("backs off exponentially, capped, with jitter", () => {
    const b = { initialMs: 500, maxMs: 15_000, jitter: 0.2 };
    expect(backoffDelay(1, b, () => 0.5)).toBe(500);
    expect(backoffDelay(2, b, () => 0.5)).toBe(1000);
    expect(backoffDelay(4, b, () => 0.5)).toBe(4000);
    expect(backoffDelay(20, b, () => 0.5)).toBe(15_000);
    expect(backoffDelay(1, b, () => 0)).toBe(400);
    expect(backoffDelay(1, b, () => 1)).toBe(600);
  });
});

describe("subscribeEvents", () => {
  it("delivers typed events, sends the token, and reconnects after the server drops it", async () => {
    const srv = await startServer();
    srv.onConnect = (ws) => ws.send(JSON.stringify({ type: "hello", node: "n1", leader: "n1" }));
    const events: ClusterEvent[] = [];
    const statuses: LinkStatus[] = [];
    const sub = subscribeEvents({ address: srv.address, token: "s3cret", backoff: FAST, onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s) });
    try {
      await until(() => events.length === 1, { message: "hello" });
      expect(srv.upgrades[0]!.url).toBe("/v1/events");
      expect(srv.upgrades[0]!.headers.authorization).toBe("Bearer s3cret");
      srv.sockets[0]!.send(JSON.stringify({ type: "job", op: "delete", name: "gone" }));
      srv.sockets[0]!.send("garbage");
      await until(() => events.length === 2, { message: "job event" });
      expect(events[1]).toEqual({ type: "job", op: "delete", name: "gone" });
      srv.sockets[0]!.terminate();
      await until(() => events.length === 3, { message: "hello after reconnect" });
      expect(statuses.map((s) => s.state)).toEqual(["connecting", "open", "down", "connecting", "open"]);
    } finally {
      sub.close();
    }
  });

  it("reports why it is down and keeps retrying until the endpoint appears", async () => {
    const srv = await startServer();
    srv.refuse.set("/v1/events", 404);
    const statuses: LinkStatus[] = [];
    const sub = subscribeEvents({ address: srv.address, backoff: FAST, onEvent: () => {}, onStatus: (s) => statuses.push(s) });
    try {
      await until(() => statuses.filter((s) => s.state === "down").length >= 2, { message: "two failed attempts" });
      const down = statuses.find((s) => s.state === "down")!;
      expect(down.error).toContain("404");
      expect(down.retryInMs).toBeGreaterThan(0);
      srv.refuse.delete("/v1/events");
      await until(() => statuses.at(-1)?.state === "open", { message: "open once the route exists" });
    } finally {
      sub.close();
    }
  });

  it("survives a server that is not there yet", async () => {
    const probe = await startServer();
    const port = Number(new URL(probe.address).port);
    await probe.close();
    servers.splice(servers.indexOf(probe), 1);
    const statuses: LinkStatus[] = [];
    const events: ClusterEvent[] = [];
    const sub = subscribeEvents({ address: `http://127.0.0.1:${port}`, backoff: FAST, onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s) });
    try {
      await until(() => statuses.some((s) => s.state === "down"), { message: "down" });
      expect(statuses.find((s) => s.state === "down")!.error).toMatch(/refused/);
      const srv = await startServer(port);
      srv.onConnect = (ws) => ws.send(JSON.stringify({ type: "leader", leader: "n9" }));
      await until(() => events.length > 0, { message: "event after the server came up" });
      expect(events[0]).toEqual({ type: "leader", leader: "n9" });
    } finally {
      sub.close();
    }
  });

  it("stops for good on close", async () => {
    const srv = await startServer();
    const sub = subscribeEvents({ address: srv.address, backoff: FAST, onEvent: () => {} });
    await until(() => srv.sockets.length === 1, { message: "connected" });
    sub.close();
    await until(() => srv.sockets[0]!.readyState === srv.sockets[0]!.CLOSED, { message: "closed" });
    expect(srv.upgrades).toHaveLength(1);
  });
});

describe("followOutput", () => {
  it("streams chunks until end", async () => {
    const srv = await startServer();
    srv.onConnect = (ws) => {
      ws.send(JSON.stringify({ type: "output", data: "so far\n" }));
      ws.send(JSON.stringify({ type: "output", data: "more\n" }));
      ws.send(JSON.stringify({ type: "end" }));
    };
    let text = "";
    let opened = false;
    let ended = false;
    let unavailable: string | undefined;
    const sub = followOutput({
      address: srv.address, job: "a b", id: "1-n1", onOpen: () => (opened = true), onData: (d) => (text += d),
      onEnd: () => (ended = true), onUnavailable: (r) => (unavailable = r),
    });
    await until(() => ended, { message: "end" });
    sub.close();
    expect(srv.upgrades[0]!.url).toBe("/v1/jobs/a%20b/executions/1-n1/output");
    expect(opened).toBe(true);
    expect(text).toBe("so far\nmore\n");
    expect(unavailable).toBeUndefined();
  });

  it("says unavailable when there is no such endpoint, or the socket drops before the end", async () => {
    const srv = await startServer();
    srv.refuse.set("/v1/jobs/a/executions/1/output", 404);
    let reason: string | undefined;
    followOutput({ address: srv.address, job: "a", id: "1", onData: () => {}, onEnd: () => {}, onUnavailable: (r) => (reason = r) });
    await until(() => reason, { message: "unavailable" });
    expect(reason).toContain("404");

    srv.onConnect = (ws) => {
      ws.send(JSON.stringify({ type: "output", data: "x" }));
      ws.terminate();
    };
    let dropped: string | undefined;
    let got = "";
    followOutput({ address: srv.address, job: "a", id: "2", onData: (d) => (got += d), onEnd: () => {}, onUnavailable: (r) => (dropped = r) });
    await until(() => dropped, { message: "dropped" });
    expect(got).toBe("x");
  });
});
