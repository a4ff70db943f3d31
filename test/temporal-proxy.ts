/**
 * A proxy in front of Temporal's HTTP API for fault tests: it forwards everything, and can stop a run's
 * workflow start at a chosen step — hold the request before Temporal sees it, or let Temporal start the
 * workflow and hold the answer — or refuse starts as an unreachable server would. The test then kills the API
 * from outside while its start is parked at exactly that step.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type StartMode = "pass" | "hold-request" | "hold-response" | "refuse";

export interface TemporalProxy {
  url: string;
  mode: StartMode;
  /** Resolves when a start is parked (with the workflow id it was for). */
  parked: () => Promise<string>;
  starts: number;
  close: () => Promise<void>;
}

const isRunStart = (req: IncomingMessage) =>
  req.method === "POST" && /\/workflows\/weft-run-[0-9a-f-]+\?/.test(req.url ?? "");

export async function startTemporalProxy(target: string): Promise<TemporalProxy> {
  let onParked: ((workflowId: string) => void) | undefined;
  const proxy: TemporalProxy = {
    url: "",
    mode: "pass",
    starts: 0,
    parked: () => new Promise((resolve) => (onParked = resolve)),
    close: async () => {},
  };
  const forward = async (req: IncomingMessage, body: Buffer) =>
    await fetch(target + req.url, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !["host", "connection", "content-length"].includes(k)),
      ) as Record<string, string>,
      body: body.length ? new Uint8Array(body) : undefined,
    });
  const reply = async (res: ServerResponse, upstream: Response) => {
    const text = await upstream.text();
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/json" });
    res.end(text);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      try {
        if (!isRunStart(req) || proxy.mode === "pass") return await reply(res, await forward(req, body));
        proxy.starts++;
        const workflowId = /\/workflows\/(weft-run-[0-9a-f-]+)/.exec(req.url!)![1];
        if (proxy.mode === "refuse") return req.socket.destroy();
        if (proxy.mode === "hold-response") await (await forward(req, body)).text();
        // Parked: no answer until the caller's connection goes away with it.
        onParked?.(workflowId);
      } catch {
        res.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  proxy.url = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return proxy;
}
