import { test, expect, Page } from "@playwright/test";
import { signIn } from "./helpers";


test("an owner applies, a reviewer approves in the queue, the badge appears", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  // carol owns acmecorp, which is not sponsored yet.
  await signIn(page, "carol");
  await page.goto("/u/acmecorp");
  await expect(page.getByTestId("sponsored-badge")).toHaveCount(0);
  await page.getByTestId("program-link").click();
  await expect(page).toHaveURL(/\/u\/acmecorp\/program$/);

  // The live checklist runs the shared rules in wasm while the form is filled.
  const checklist = page.getByTestId("checklist");
  await expect(async () => {
    await page.fill("#license", "");
    await page.fill("#license", "BUSL-1.1");
    await expect(checklist.locator('[data-check="OsiLicense"]')).toContainText("BUSL-1.1 is not an OSI-approved", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("submit-application")).toBeDisabled();
  await page.fill("#license", "MIT OR Apache-2.0");
  await expect(checklist.locator('[data-check="OsiLicense"]')).toHaveAttribute("data-passed", "true");
  await page.fill("#project_name", "Acme Storefront");
  await page.fill("#website", "https://acme.example.org");
  await page.fill("#source_url", "https://github.com/acme/storefront");
  await page.fill("#description", "An open-source storefront for small shops.");
  await expect(checklist.locator('[data-check="Attestations"]')).toHaveAttribute("data-passed", "false");
  for (const label of ["images are public", "Open Source Definition", "no pathway to commercialization"]) {
    await page.getByLabel(label).check();
  }
  await expect(checklist.locator('[data-passed="false"]')).toHaveCount(0);
  await page.getByTestId("submit-application").click();
  await expect(page.getByTestId("application-status")).toContainText("Submitted");

  // The reviewer approves it in the queue.
  await signIn(page, "reviewer");
  await page.goto("/review");
  const card = page.getByTestId("review-acmecorp");
  await expect(card).toContainText("Acme Storefront");
  await expect(card.getByTestId("checklist")).toBeVisible();
  await card.getByLabel("Approve (one-year membership)").check();
  await card.getByTestId("decide").click();
  await expect(page.getByTestId("decision-notice")).toContainText("approved");
  await expect(page.getByTestId("review-acmecorp")).toHaveCount(0);

  // The badge shows on the repository page, explains itself, and the search filter finds it.
  await page.goto("/r/acmecorp/web");
  const badge = page.getByTestId("sponsored-badge").first();
  await expect(badge).toBeVisible();
  await badge.focus();
  await expect(badge.locator(".tooltip")).toBeVisible();
  await expect(page.getByTestId("badge-markdown")).toHaveValue(/badge\/acmecorp\/web\.svg/);
  await page.goto("/search?q=web&image_filter=open_source");
  const results = page.getByTestId("search-results");
  await expect(results).toContainText("acmecorp/web");
  await expect(results.locator("li").filter({ hasText: "acmecorp/web" }).getByTestId("sponsored-badge")).toBeVisible();
  await expect(page.getByTestId("filter-open-source")).toBeChecked();
  const svg = await page.request.get("/badge/acmecorp/web.svg");
  expect(await svg.text()).toContain("sponsored OSS");

  // carol is told in the bell menu.
  await signIn(page, "carol");
  await expect(page.getByTestId("unread-count")).not.toHaveText("0");
  await page.getByTestId("bell").click();
  await expect(page.getByTestId("bell-menu")).toContainText("approved");
  expect(errors).toEqual([]);
});
