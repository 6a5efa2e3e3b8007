import { test, expect } from "@playwright/test";
import * as fs from "fs";
import AxeBuilder from "@axe-core/playwright";
import { signIn } from "./helpers";

const num = (s: string | null) => Number((s ?? "").replace(/[^0-9]/g, ""));

test("the sponsored organization's Insights tab charts a year of pulls, keeps its view in the URL, and exports what it shows", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await signIn(page, "alice");
  await page.goto("/u/fluentorg");
  await page.getByTestId("insights-link").click();
  await expect(page).toHaveURL(/\/u\/fluentorg\/insights$/);
  const chart = page.getByTestId("time-chart");
  await expect(chart).toBeVisible();
  await expect(chart.locator("rect").first()).toBeVisible();
  await expect(page.getByTestId("span-label")).toContainText("30 days");
  // Thirty daily periods by default, with a tooltip per bar.
  await expect(chart).toHaveAttribute("data-periods", "30");
  await expect(chart.locator("rect title").first()).toContainText("pulls");

  // Switching granularity and tag/digest is computed in the browser and lands in the URL.
  await page.getByTestId("granularity-links").locator('[data-granularity="week"]').click();
  await expect(page).toHaveURL(/g=week/);
  const weeks = Number(await chart.getAttribute("data-periods"));
  expect(weeks).toBeGreaterThanOrEqual(5);
  expect(weeks).toBeLessThanOrEqual(6);
  await page.getByTestId("by-links").locator('[data-by="digest"]').click();
  await expect(page).toHaveURL(/by=digest/);
  await expect(page.getByRole("heading", { name: "Pulls by digest" })).toBeVisible();

  // A longer span loads once; the view is shareable: a reload shows the same.
  await page.getByTestId("span-links").locator('[data-span="12m"]').click();
  await expect(page).toHaveURL(/span=12m/);
  await expect(page.getByTestId("span-label")).toContainText("365 days");
  await page.reload();
  await expect(page.getByTestId("span-label")).toContainText("365 days");
  await expect(page.getByRole("heading", { name: "Pulls by digest" })).toBeVisible();
  expect(Number(await chart.getAttribute("data-periods"))).toBeGreaterThanOrEqual(52);

  // The summary export's totals match the page.
  const byTag = num(await page.getByTestId("total-pulls-by-tag").textContent());
  const byDigest = num(await page.getByTestId("total-pulls-by-digest").textContent());
  const checks = num(await page.getByTestId("total-version-checks").textContent());
  expect(byTag).toBeGreaterThan(1000);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("export-summary").click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^fluentorg-pulls-summary-\d{4}-\d{2}-\d{2}_\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = fs.readFileSync(await download.path(), "utf8").trim().split("\n");
  expect(csv[0]).toBe("period_start,period_end,namespace,repository,unique_ips,pulls_by_tag,pulls_by_digest,version_checks");
  const sum = (col: number) => csv.slice(1).reduce((n, l) => n + Number(l.split(",")[col]), 0);
  expect([sum(5), sum(6), sum(7)]).toEqual([byTag, byDigest, checks]);
  expect(errors).toEqual([]);
});

test("a repository's page links to its own insights", async ({ page }) => {
  await signIn(page, "alice");
  await page.goto("/r/fluentorg/fluent-bit");
  await page.getByTestId("repo-insights-link").click();
  await expect(page).toHaveURL(/\/u\/fluentorg\/insights\?repo=fluent-bit$/);
  await expect(page.getByRole("link", { name: "fluent-bit", exact: true })).toHaveAttribute("aria-current", "true");
  await expect(page.getByTestId("time-chart")).toBeVisible();
  await expect(page.getByTestId("export-raw")).toContainText("rows");
  // axe-core finds nothing to fix on the Insights page.
  const a11y = await new AxeBuilder({ page }).analyze();
  expect(a11y.violations.map((v) => `${v.impact} ${v.id}`)).toEqual([]);
});

test("a signed-in outsider is told insights are for members", async ({ page }) => {
  await signIn(page, "carol");
  const r = await page.goto("/u/fluentorg/insights");
  expect(r?.status()).toBe(200);
  await expect(page.getByTestId("insights-gate")).toContainText("members only");
});
