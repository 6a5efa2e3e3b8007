import { execFileSync } from "child_process";
import * as path from "path";

// Writes the generated logo fixtures (and their native verdicts) for logo.spec.ts.
// They come from the app's test scaffolding (feature `testing`), which the
// production server binary does not contain.
export default function globalSetup() {
  execFileSync(
    "cargo",
    ["run", "--quiet", "-p", "app", "--features", "testing", "--example", "logo_fixtures", "--",
      path.join(__dirname, ".fixtures")],
    { stdio: "inherit", cwd: path.join(__dirname, "..") },
  );
}
