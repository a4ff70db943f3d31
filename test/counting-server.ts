/** The counting HTTP server the chaos and timeout benches call: every request's run, node and open/close time. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Hit {
  run: string;
  node: string;
  opened: number;
  closed?: number;
}

/** The counting HTTP server: every request's run, node and open/close time; answers after `delayMs`. */
export class Counter {
  hits: Hit[] = [];
  url = "";
  private server!: Server;
  constructor(private readonly delayMs: number) {}
  async start() {
    this.server = createServer((req, res) => {
      const u = new URL(req.url!, "http://x");
      const hit: Hit = { run: u.searchParams.get("run") ?? "", node: u.pathname.slice(1), opened: Date.now() };
      this.hits.push(hit);
      res.once("close", () => (hit.closed ??= Date.now()));
      // /hang… never answers (bench/timeouts.ts): the attempt's timeout must close it.
      if (hit.node.startsWith("hang")) return;
      setTimeout(() => {
        res.end(JSON.stringify({ ok: true }));
        hit.closed = Date.now();
      }, this.delayMs);
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close() {
    this.server.closeAllConnections();
    this.server.close();
  }
}
