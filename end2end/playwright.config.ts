import { defineConfig } from "@playwright/test";
import * as os from "os";
import * as path from "path";
import * as fs from "fs";

// The server under test: built by scripts/test.sh, started here on its own
// port with a fresh SQLite data directory and the demo data.
const bin = process.env.HUB_SERVER_BIN ?? path.join(__dirname, "..", "target", "debug", "server");
const port = Number(process.env.HUB_E2E_PORT ?? 3100);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-e2e-"));

export default defineConfig({
  testDir: "./tests",
  globalSetup: require.resolve("./global-setup"),
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "off",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `"${bin}" serve --addr 127.0.0.1:${port} --data-dir "${dataDir}" --demo`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
  },
});
