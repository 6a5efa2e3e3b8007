import { test, expect } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

// Product polish (issue 12): not-found answers, copy, and sign-in that
// returns people where they were going.

test("missing and hidden namespace and repository pages answer 404 on the server", async ({ request }) => {
  for (const path of ["/u/doesnotexist", "/r/fluentorg/nope", "/r/fluentorg/fluent-benchmark"]) {
    const res = await request.get(path);
    expect(res.status(), path).toBe(404);
    expect(await res.text()).toContain("not found");
  }
  expect((await request.get("/u/fluentorg")).status()).toBe(200);
});

test("copy: articles, plurals, and nothing that only makes sense signed in", async ({ page, request }) => {
  const repo = await (await request.get("/r/fluentorg/fluentd")).text();
  expect(repo).not.toContain("your access");
  const personal = await (await request.get("/u/alice")).text();
  expect(personal).not.toMatch(/\d+ members?\b/);
  const org = await (await request.get("/u/fluentorg")).text();
  expect(org).toMatch(/\d+ members?\b/);
  const home = await (await request.get("/")).text();
  expect(home).not.toContain("square");
  expect(home).toContain("120 to 1000 pixels on each side");

  await signIn(page, "alice");
  await page.goto("/u/fluentorg");
  await expect(page.getByTestId("logo-camera").first()).toHaveAttribute("title", /^Upload an organization logo/);
  await page.goto("/r/fluentorg/fluentd");
  await expect(page.locator("main, body").first()).toContainText("your access: admin");
});

test("a sign-in wall returns you to the page you wanted", async ({ page }) => {
  await page.context().clearCookies();
  await page.goto("/review");
  await hydrated(page);
  await page.getByTestId("signin-first").click();
  await expect(page).toHaveURL(/\/signin\?next=%2Freview$/);
  await hydrated(page);
  await page.fill("#name", "reviewer");
  await page.fill("#password", "demo-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/review$/);
  await expect(page.getByRole("heading", { name: "Program review queue" })).toBeVisible();

  // "Get started" on the program page: create an account, land on Settings.
  await page.context().clearCookies();
  await page.goto("/program");
  await hydrated(page);
  await page.getByTestId("get-started").click();
  await expect(page).toHaveURL(/\/signup\?next=%2Fsettings$/);
  await hydrated(page);
  await page.fill("#name", "starter1");
  await page.fill("#password", "a-long-password-1");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/settings$/);
  // An outside address is never followed.
  await page.context().clearCookies();
  await page.goto("/signin?next=//evil.example/");
  await hydrated(page);
  await page.fill("#name", "dave");
  await page.fill("#password", "demo-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/u\/dave$/);
});

test("a repository of a namespace that is not sponsored: tidy header, no badge offer, a pull command for this hub", async ({ page }) => {
  // bobby owns tinyproj (not sponsored; tags 0.4.0 and latest).
  await signIn(page, "bobby");
  await page.goto("/r/tinyproj/tiny-http");
  const title = page.getByTestId("repo-name");
  const note = page.getByTestId("logo-locked");
  await expect(note).toBeVisible();
  // The perk note sits under the title, not beside it in the logo's column.
  const [t, n] = [await title.boundingBox(), await note.boundingBox()];
  expect(n!.y).toBeGreaterThanOrEqual(t!.y + t!.height - 1);
  expect(t!.x).toBeLessThan(200);
  await expect(page.getByTestId("badge-markdown")).toHaveCount(0);
  const host = new URL(page.url()).host;
  await expect(page.getByTestId("pull-command")).toHaveText(`docker pull ${host}/tinyproj/tiny-http:latest`);
  // No tags: no pull command.
  await page.goto("/r/acmecorp/worker");
  await expect(page.getByTestId("repo-name")).toBeVisible();
  await expect(page.getByTestId("pull-command")).toHaveCount(0);
});
