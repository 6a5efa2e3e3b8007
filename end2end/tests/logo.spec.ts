import { test, expect, Page } from "@playwright/test";
import { signIn } from "./helpers";
import * as fs from "fs";
import * as path from "path";

type Fixture = { name: string; file_name: string; expect: { outcome: "accept" | "header" | "server"; code?: string } };
const dir = path.join(__dirname, "..", ".fixtures");
const manifest = (): Fixture[] => JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8"));


async function choose(page: Page, file: string) {
  await page.getByTestId("logo-input").setInputFiles(path.join(dir, file));
  const verdict = page.getByTestId("logo-verdict");
  await expect(verdict).not.toHaveAttribute("data-code", "reading");
  return verdict;
}

async function closeDialog(page: Page) {
  const close = page.getByRole("button", { name: /^(Close|Cancel)$/ });
  await close.first().click();
  await expect(page.getByTestId("logo-dialog")).toBeHidden();
}

test("every fixture gets the same verdict in wasm as natively; corrupt data is refused by the server", async ({ page }) => {
  test.setTimeout(120_000);
  await signIn(page, "alice");
  await page.goto("/r/fluentorg/fluent-operator");
  await expect(page.getByTestId("logo-camera")).toBeVisible();
  // Hydrated before choosing files.
  await expect(async () => {
    await page.getByTestId("logo-input").setInputFiles(path.join(dir, "gif.png"));
    await expect(page.getByTestId("logo-verdict")).toHaveAttribute("data-code", "unsupported_type", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await closeDialog(page);

  for (const f of manifest()) {
    const verdict = await choose(page, f.file_name);
    if (f.expect.outcome === "header") {
      await expect(verdict, f.name).toHaveAttribute("data-code", f.expect.code!);
      await expect(verdict, f.name).toHaveAttribute("data-by-server", "false");
      await expect(verdict).not.toBeEmpty();
      await closeDialog(page);
    } else if (f.expect.outcome === "server") {
      // The header rule passes (as natively); the server's full decode refuses.
      await expect(verdict, f.name).toHaveAttribute("data-code", "ok");
      await page.getByTestId("logo-upload").click();
      await expect(page.getByTestId("logo-verdict"), f.name).toHaveAttribute("data-code", f.expect.code!);
      await expect(page.getByTestId("logo-verdict")).toHaveAttribute("data-by-server", "true");
      await expect(page.getByTestId("logo-verdict")).toContainText("server could not read");
      await closeDialog(page);
    } else {
      await expect(verdict, f.name).toHaveAttribute("data-code", "ok");
      await expect(page.locator(".logo-preview")).toBeVisible();
      await closeDialog(page);
    }
  }
  // Refusals name the rule and the value.
  const v = await choose(page, "1001x1001.png");
  await expect(v).toHaveText("This image is 1001×1001 pixels; the largest allowed is 1000×1000.");
  await closeDialog(page);
});

test("an admin sets, sees, replaces and clears a logo; others see no camera", async ({ page }) => {
  await signIn(page, "alice");
  await page.goto("/r/fluentorg/fluent-plugin-s3");
  const img = page.getByTestId("logo-img");
  await expect(img).toHaveAttribute("data-source", /default|organization/);
  await expect(async () => {
    await page.getByTestId("logo-input").setInputFiles(path.join(dir, "1000x1000.png"));
    await expect(page.getByTestId("logo-verdict")).toHaveAttribute("data-code", "ok", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await page.getByTestId("logo-upload").click();
  await expect(page.getByTestId("logo-dialog")).toBeHidden();
  await expect(img).toHaveAttribute("data-source", "repository");
  const first = await img.getAttribute("src");
  expect(first).toMatch(/\/logos\/[0-9a-f]{64}\.png$/);
  const served = await page.request.get(first!);
  expect(served.headers()["content-type"]).toBe("image/png");
  expect(served.headers()["x-content-type-options"]).toBe("nosniff");

  // Replace with a JPEG, then reload: it persists.
  await choose(page, "progressive.jpg");
  await page.getByTestId("logo-upload").click();
  await expect(img).toHaveAttribute("src", /\.jpg$/);
  await page.reload();
  await expect(page.getByTestId("logo-img")).toHaveAttribute("src", /\.jpg$/);

  // Clear after confirmation: the fallback shows at once.
  await expect(async () => {
    await page.getByTestId("logo-clear").click();
    await expect(page.getByTestId("logo-clear-confirm")).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await page.getByTestId("logo-clear-confirm").click();
  await expect(page.getByTestId("logo-img")).toHaveAttribute("data-source", /default|organization/);
  await expect(page.getByTestId("logo-clear")).toHaveCount(0);

  // dave has write (not admin) on fluentd: no camera.
  await signIn(page, "dave");
  await page.goto("/r/fluentorg/fluentd");
  await expect(page.getByTestId("logo-img")).toBeVisible();
  await expect(page.getByTestId("logo-camera")).toHaveCount(0);
});
