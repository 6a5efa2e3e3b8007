import { test, expect } from "@playwright/test";

test("home page is rendered on the server, without JavaScript", async ({ request }) => {
  const res = await request.get("/");
  expect(res.status()).toBe(200);
  const html = await res.text();
  expect(html).toContain("Sponsored Open Source program");
  // The server function's numbers are in the HTML itself (blocking resource).
  expect(html).toMatch(/data-testid="hub-stats"/);
  expect(html).toMatch(/\/pkg\/hub\.[0-9a-f]{16}\.js/);
});

test("home page hydrates and the live name check works", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Container images");
  const stats = page.getByTestId("hub-stats");
  await expect(stats).toContainText("namespaces");
  await expect(stats).not.toContainText(/^0 namespaces/);
  // Typing only changes the verdict once the wasm has hydrated the page.
  const input = page.getByTestId("ns-check");
  const verdict = page.getByTestId("ns-verdict");
  await expect(async () => {
    await input.fill("");
    await input.fill("ab");
    await expect(verdict).toContainText("needs at least 4", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await input.fill("myproject");
  await expect(verdict).toContainText("“myproject” is available");
  await input.fill("fluentorg");
  await expect(verdict).toContainText("“fluentorg” is taken");
  await input.fill("MyProject");
  await expect(verdict).toContainText("lowercase");
  expect(errors).toEqual([]);
});

test("unknown page answers 404 with a way home", async ({ request }) => {
  const res = await request.get("/no/such/page");
  expect(res.status()).toBe(404);
  expect(await res.text()).toContain("Page not found");
});
