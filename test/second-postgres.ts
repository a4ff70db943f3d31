/**
 * A second, throwaway PostgreSQL cluster for tests that need a database server other than Weft's own (the
 * operator-declared db_write connections): initdb into .state/, started on a free port, trust auth on loopback.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { resolve } from "node:path";

function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => `${root}/${v}/bin`).find((dir) => existsSync(`${dir}/initdb`));
  if (!found) throw new Error("initdb not found under /usr/lib/postgresql/*/bin");
  return found;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export interface SecondPostgres {
  port: number;
  /** postgres://<role>@127.0.0.1:<port>/<db> */
  url: (role: string, db?: string) => string;
  stop: () => void;
}

export async function startSecondPostgres(): Promise<SecondPostgres> {
  const bin = postgresBin();
  const dir = resolve(`.state/pg-second-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // initdb refuses to run as root: as root, the cluster belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const ids = execFileSync("id", ["-u", "postgres"]).toString().trim();
    chownSync(dir, Number(ids), Number(execFileSync("id", ["-g", "postgres"]).toString().trim()));
  }
  const run = (cmd: string, args: string[]) =>
    execFileSync(
      asRoot ? "runuser" : `${bin}/${cmd}`,
      asRoot ? ["-u", "postgres", "--", `${bin}/${cmd}`, ...args] : args,
      {
        stdio: "pipe",
      },
    );
  run("initdb", ["-D", `${dir}/data`, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  run("pg_ctl", [
    "-D",
    `${dir}/data`,
    "-w",
    "-l",
    `${dir}/log`,
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    "start",
  ]);
  return {
    port,
    url: (role, db = "postgres") => `postgres://${role}@127.0.0.1:${port}/${db}`,
    stop: () => {
      try {
        run("pg_ctl", ["-D", `${dir}/data`, "-m", "immediate", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
