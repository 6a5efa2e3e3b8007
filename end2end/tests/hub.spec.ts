import { test, expect, Page } from "@playwright/test";

// Waits until the page is hydrated: the live name hint only appears once wasm runs.
async function hydrated(page: Page, input: string, junk: string, hint: RegExp) {
  await expect(async () => {
    await page.fill(input, "");
    await page.fill(input, junk);
    await expect(page.locator(".verdict.bad").first()).toContainText(hint, { timeout: 500 });
  }).toPass({ timeout: 15_000 });
}

test("a newcomer signs up, creates an organization and a repository, and sees it listed", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const suffix = Date.now().toString(36).slice(-6);
  const user = `new${suffix}`;
  const org = `org${suffix}`;

  await page.goto("/signup");
  await hydrated(page, "#name", "AB", /lowercase/);
  await page.fill("#name", user);
  await page.fill("#password", "short");
  await expect(page.locator(".verdict.bad")).toContainText("at least 8");
  await page.fill("#password", "a-long-enough-password");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(new RegExp(`/u/${user}$`));
  await expect(page.getByTestId("whoami")).toHaveText(user);

  await page.goto("/settings");
  await page.fill("#org-name", org);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page.locator(".notice")).toContainText(`Created ${org}`);
  await expect(page.getByTestId("my-namespaces")).toContainText(org);

  // A duplicate name is refused with a clear message, not a crash.
  await page.fill("#org-name", org);
  await page.getByRole("button", { name: "Create organization" }).click();
  await expect(page.getByTestId("action-error")).toContainText("already taken");

  await page.goto(`/new?namespace=${org}`);
  await hydrated(page, "#repo-name", "-bad", /starts and ends/);
  await page.fill("#repo-name", "web-app");
  await page.fill("#description", "Our web application");
  await page.getByRole("button", { name: "Create repository" }).click();
  await expect(page).toHaveURL(new RegExp(`/r/${org}/web-app$`));
  await expect(page.getByTestId("repo-name")).toHaveText(`${org}/web-app`);

  await page.fill("#tag", "1.0.0");
  await page.fill("#digest", "sha256:" + "ab".repeat(32));
  await page.getByRole("button", { name: "Save tag" }).click();
  await expect(page.getByTestId("tag-table")).toContainText("1.0.0");

  await page.goto(`/u/${org}`);
  await expect(page.getByTestId("repo-list")).toContainText(`${org}/web-app`);
  await expect(page.getByTestId("repo-list")).toContainText("Our web application");
  expect(errors).toEqual([]);
});

test("demo pages render on the server and hydrate", async ({ page, request }) => {
  for (const [path, text] of [
    ["/u/fluentorg", "fluent-bit"],
    ["/r/fluentorg/fluent-bit", "4.0.3"],
    ["/u/acmecorp", "api-gateway"],
  ]) {
    const res = await request.get(path);
    expect(res.status()).toBe(200);
    expect(await res.text()).toContain(text);
  }
  // Sign in as the demo owner; the team page's live check needs hydration.
  await page.goto("/signin");
  await expect(async () => {
    await page.fill("#name", "alice");
    await page.fill("#password", "demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/$/, { timeout: 2000 });
  }).toPass({ timeout: 15_000 });
  await page.goto("/u/fluentorg/settings");
  await expect(page.getByTestId("team-maintainers")).toContainText("bobby");
  await hydrated(page, "#team-name", "X", /2 to 30|not allowed/);
  await page.fill("#team-name", "docs");
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page.getByTestId("team-docs")).toBeVisible();
});

test("a wrong password is refused with a message", async ({ page }) => {
  await page.goto("/signin");
  await expect(async () => {
    await page.fill("#name", "carol");
    await page.fill("#password", "not-the-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("action-error")).toContainText("not right", { timeout: 2000 });
  }).toPass({ timeout: 15_000 });
});
