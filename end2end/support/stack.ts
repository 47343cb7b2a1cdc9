// Starts the product for the browser tests, each part real and on a free port:
// redis-server, the SMTP capture, `worker seed`, the worker and the server. Returns the
// teardown that stops them and removes the temporary folder.
//
// Binaries come from YT_BIN_DIR (default target/debug); the site from target/site. With
// YT_E2E_STORAGE=s3 archives go to moto (an S3 emulator, installed by scripts/setup) and
// downloads answer with a 302 to a signed URL.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${seconds} s`);
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((done) => {
    createInterface({ input: child.stdout! }).once("line", done);
  });
}

/** The tool folder scripts/setup installs the storage emulators into. */
function toolsDir(): string {
  if (process.env.YT_TOOLS_DIR) return process.env.YT_TOOLS_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "yt-export-tools");
}

/** Starts moto with one bucket; returns the storage variables that point at it. */
async function startS3(start: (cmd: string, args: string[]) => ChildProcess) {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  start(join(toolsDir(), "venv/bin/moto_server"), ["-H", "127.0.0.1", "-p", String(port)]);
  await waitFor("moto_server", async () => (await fetch(`${endpoint}/`)).ok);
  const bucket = "yt-exports-e2e";
  const created = await fetch(`${endpoint}/${bucket}`, { method: "PUT" });
  if (!created.ok) throw new Error(`moto did not create the bucket: ${created.status}`);
  return {
    YT_EXPORT_STORAGE_BACKEND: "s3",
    YT_S3_BUCKET: bucket,
    YT_S3_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  };
}

export default async function globalSetup() {
  const dir = mkdtempSync(join(tmpdir(), "yt-e2e-"));
  const bin = process.env.YT_BIN_DIR ?? join(root, "target/debug");
  const children: ChildProcess[] = [];
  const start = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.push(child);
    return child;
  };
  // Stops the server and worker first, Redis last, each before the next.
  const teardown = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const redisPort = await freePort();
    start("redis-server", [
      "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--dir", dir,
    ]);
    await waitFor("redis-server", async () => {
      execFileSync("redis-cli", ["-p", String(redisPort), "ping"], { stdio: "ignore" });
      return true;
    });

    const mailDir = join(dir, "mail");
    const smtp = start("node", [join(root, "end2end/support/smtp-capture.mjs"), "--dir", mailDir]);
    const smtpPort = Number((await firstLine(smtp)).replace("listening ", ""));

    const storage = process.env.YT_E2E_STORAGE === "s3" ? await startS3(start) : {};

    const webPort = await freePort();
    const workerMetricsPort = await freePort();
    const base = `http://127.0.0.1:${webPort}`;
    const env = {
      YT_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      YT_DATABASE_URL: `sqlite://${join(dir, "app.db")}`,
      YT_EXPORT_LOCAL_PATH: join(dir, "exports"),
      YT_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      YT_MAIL_FROM: "YouTube Feed Aggregator <exports@feeds.test>",
      YT_LISTEN_ADDR: `127.0.0.1:${webPort}`,
      YT_WORKER_METRICS_ADDR: `127.0.0.1:${workerMetricsPort}`,
      YT_EXPORT_URL_BASE: base,
      YT_SITE_ROOT: join(root, "target/site"),
      // Small pages with a pause between them make the progress bar visible.
      YT_EXPORT_BATCH_SIZE: "100",
      YT_EXPORT_PAGE_PAUSE_MS: "100",
      // Low enough for tests/rate-limit.spec.ts to reach; the demo user needs two.
      YT_RATE_LIMIT_EXPORTS_PER_HOUR: "2",
      YT_LOG: "warn",
      ...storage,
    };

    execFileSync(join(bin, "worker"), ["seed"], { env: { ...process.env, ...env }, stdio: "inherit" });
    start(join(bin, "worker"), [], env);
    start(join(bin, "server"), [], env);
    await waitFor("the server", async () => (await fetch(`${base}/login`)).ok);

    process.env.BASE_URL = base;
    process.env.MAIL_DIR = mailDir;
    return teardown;
  } catch (error) {
    await teardown();
    throw error;
  }
}
