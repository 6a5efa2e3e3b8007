import { expect, Page } from "@playwright/test";

/** Signs in a demo user (password `demo-password`), retrying until the page has hydrated. */
export async function signIn(page: Page, name: string) {
  await page.context().clearCookies();
  await page.goto("/signin");
  await expect(async () => {
    await page.fill("#name", name);
    await page.fill("#password", "demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("whoami")).toHaveText(name, { timeout: 2000 });
  }).toPass({ timeout: 15_000 });
}

/** Waits until the wasm has hydrated the current page. */
export async function hydrated(page: Page) {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 15_000 });
}
