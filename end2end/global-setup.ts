import { execFileSync } from "child_process";
import * as path from "path";

// Writes the generated logo fixtures (and their native verdicts) for logo.spec.ts.
export default function globalSetup() {
  const bin = process.env.HUB_SERVER_BIN ?? path.join(__dirname, "..", "target", "debug", "server");
  execFileSync(bin, ["fixtures", path.join(__dirname, ".fixtures")], { stdio: "inherit" });
}
