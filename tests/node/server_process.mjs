// Starts `qwen3vl serve` on a free loopback port for a test and stops it.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// The tests take both from the environment (CMake sets them); bench passes its own binary.
export const CLI = process.env.QWEN3VL_CLI;
export const FIXTURES = process.env.QWEN3VL_FIXTURES;

export function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "qwen3vl-node-"));
}

// A copy of the tiny checkpoint whose chat template is `templateFile`.
export function modelWithTemplate(templateFile) {
  const dir = tempDir();
  const src = path.join(FIXTURES, "tiny-qwen3vl");
  for (const f of fs.readdirSync(src)) {
    if (f === "golden" || f.startsWith("chat_template")) continue;
    fs.symlinkSync(path.join(src, f), path.join(dir, f));
  }
  fs.copyFileSync(templateFile, path.join(dir, "chat_template.jinja"));
  return dir;
}

export async function startServer(args = [], { cli = CLI, timeoutMs = 30000 } = {}) {
  if (!cli) throw new Error("set QWEN3VL_CLI to the qwen3vl binary");
  const child = spawn(cli, ["serve", "--port", "0", "-q", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = log.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) {
      const url = `http://127.0.0.1:${m[1]}`;
      try {
        const r = await fetch(`${url}/health`);
        if (r.status === 200)
          return {
            url,
            child,
            log: () => log,
            async stop() {
              if (child.exitCode !== null) return;
              const exited = new Promise((resolve) => child.once("exit", resolve));
              child.kill("SIGTERM");
              await exited;
            },
          };
      } catch {}
    }
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error("server did not start:\n" + log);
}

export function scriptFile(answers) {
  const file = path.join(tempDir(), "script.json");
  fs.writeFileSync(file, JSON.stringify(answers));
  return file;
}
