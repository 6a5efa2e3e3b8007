import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, signIn } from "./helpers";

// axe-core on every main page, in both themes and at both widths: no serious
// or critical violations. Pages are grouped by who may see them.
const pages: { who: string | null; paths: string[] }[] = [
  { who: null, paths: ["/", "/search?q=fluent", "/program", "/r/fluentorg/fluent-bit", "/u/fluentorg", "/signin", "/signup"] },
  { who: "alice", paths: ["/u/fluentorg/insights", "/u/fluentorg/audit", "/u/fluentorg/program", "/settings", "/u/fluentorg/settings", "/new"] },
  { who: "reviewer", paths: ["/review"] },
];

async function audit(page: Page, label: string) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${label}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | ")}`);
  return bad;
}

for (const scheme of ["light", "dark"] as const) {
  for (const width of [1280, 390]) {
    test(`axe: main pages, ${scheme} theme, ${width} px`, async ({ page }) => {
      test.setTimeout(120_000);
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 900 });
      const found: string[] = [];
      for (const group of pages) {
        if (group.who) {
          await page.setViewportSize({ width: 1280, height: 900 });
          await signIn(page, group.who);
          await page.setViewportSize({ width, height: 900 });
        } else {
          await page.context().clearCookies();
        }
        for (const path of group.paths) {
          await page.goto(path);
          await hydrated(page);
          found.push(...(await audit(page, path)));
        }
      }
      expect(found).toEqual([]);
    });
  }
}

test("the theme toggle is remembered and the server paints the first frame in it", async ({ page, request }) => {
  await page.context().clearCookies();
  await page.goto("/");
  await hydrated(page);
  const toggle = page.getByTestId("theme-toggle");
  await expect(toggle).toHaveAccessibleName(/follows your system/);
  await toggle.click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  // The toggle answers clicks once the page is hydrated.
  await hydrated(page);
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  expect(bg).toBe("rgb(14, 19, 27)");
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await page.getByTestId("theme-toggle").click();
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /./);
  // Without JavaScript the cookie alone decides the server's render.
  const html = await (await request.get("/", { headers: { Cookie: "theme=dark" } })).text();
  expect(html).toMatch(/<html[^>]*data-theme="dark"/);
});

test("a skip link leads past the header to the page", async ({ page }) => {
  await page.goto("/program");
  await hydrated(page);
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press("Enter");
  await expect(page.locator("main")).toBeFocused();
});
