import { test, expect, Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

// Program flows without traps (issue 12, defects 1–3): each review card owns
// its form, a refused application keeps what was typed, and the program page
// agrees with itself after a renewal.

/** A REST call with the page's session (and the Origin the hub requires). */
async function api(page: Page, method: "POST" | "PUT", path: string, data: object) {
  const origin = new URL(page.url()).origin;
  const r = await page.request.fetch(path, { method, data, headers: { Origin: origin } });
  expect(r.status(), `${method} ${path}: ${await r.text()}`).toBeLessThan(300);
  return r;
}

/** An organization of dave's with a public repository pushed today. */
async function orgWithRepo(page: Page, name: string) {
  await api(page, "POST", "/api/v1/orgs", { name });
  await api(page, "POST", "/api/v1/repositories", { namespace: name, name: "app", description: "An app", is_private: false });
  await api(page, "PUT", `/api/v1/repositories/${name}/app/tags/1.0.0`, { digest: "sha256:" + "ab".repeat(32) });
}

const form = (name: string) => ({
  project_name: `Project ${name}`,
  website: `https://${name}.example.org`,
  source_url: `https://github.com/${name}/${name}`,
  license: "MIT",
  description: `${name}: an open-source project for the review queue test.`,
  attest_public: true,
  attest_osd: true,
  attest_noncommercial: true,
});

test("each review card keeps its own message and decision; nothing reaches the wrong applicant", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const [one, two] = ["queueone", "queuetwo"];
  await signIn(page, "dave");
  for (const ns of [one, two]) {
    await orgWithRepo(page, ns);
    await api(page, "POST", `/api/v1/namespaces/${ns}/program/applications`, form(ns));
  }

  await signIn(page, "reviewer");
  await page.goto("/review");
  const first = page.getByTestId(`review-${one}`);
  const second = page.getByTestId(`review-${two}`);
  await expect(first).toBeVisible();
  await expect(second).toBeVisible();
  // No decision is pre-selected.
  await expect(first.locator('input[name="decision"]:checked')).toHaveCount(0);

  // Requesting changes needs a message: the browser says so at the field.
  await hydrated(page);
  await first.getByLabel("Request changes").check();
  await expect(first.locator("textarea")).toHaveAttribute("required", "");
  await first.getByTestId("decide").click();
  await expect(first.locator("textarea")).toBeFocused();
  await first.locator("textarea").fill("Please link the source of queueone.");
  await first.getByTestId("decide").click();
  await expect(page.getByTestId("decision-notice")).toContainText(`${one}'s application`);
  await expect(page.getByTestId("decision-notice")).toContainText("sent back for changes");
  await expect(first).toHaveCount(0);

  // The next card starts clean: no message, no decision.
  await expect(second.locator("textarea")).toHaveValue("");
  await expect(second.locator('input[name="decision"]:checked')).toHaveCount(0);
  // Submitting without a decision is stopped in the browser.
  await second.getByTestId("decide").click();
  await expect(second.locator('input[name="decision"]').first()).toBeFocused();
  await expect(second).toBeVisible();
  await second.getByLabel("Reject").check();
  await second.locator("textarea").fill("Not a fit for queuetwo.");
  await second.getByTestId("decide").click();
  await expect(page.getByTestId("decision-notice")).toContainText(`${two}'s application`);
  await expect(page.getByTestId("decision-notice")).toContainText("rejected");

  // Each applicant got their own message, and only theirs.
  await signIn(page, "dave");
  await page.goto(`/u/${one}/program`);
  await expect(page.getByTestId("messages").first()).toContainText("Please link the source of queueone.");
  await expect(page.locator("main")).not.toContainText("Not a fit");
  await page.goto(`/u/${two}/program`);
  await expect(page.locator("main")).toContainText("Not a fit for queuetwo.");
  await expect(page.locator("main")).not.toContainText("Please link the source");
  // The bell tells each organization's story under its own name.
  await page.getByTestId("bell").click();
  await expect(page.getByTestId("bell-menu")).toContainText("queuetwo: your program application was rejected: Not a fit for queuetwo.");
  await expect(page.getByTestId("bell-menu")).toContainText("queueone: the reviewer asked for changes to your program application: Please link the source of queueone.");
  expect(errors).toEqual([]);
});

test("a refused application keeps what was typed and shows the error at its field", async ({ page }) => {
  const ns = "formkeeps";
  await signIn(page, "dave");
  await orgWithRepo(page, ns);
  await page.goto(`/u/${ns}/program`);
  await expect(page.locator("#website")).toHaveAttribute("type", "url");
  // The shared address rule runs as the user types.
  await hydrated(page);
  await page.fill("#website", "http://a.b");
  await expect(page.getByTestId("hint-website")).toContainText("full http(s) address");
  await page.fill("#website", "https://formkeeps.example.org");
  await expect(page.getByTestId("hint-website")).toHaveCount(0);
  await page.fill("#project_name", "Form Keeps");
  await page.fill("#source_url", "https://github.com/form/keeps");
  await page.fill("#license", "MIT");
  // Too short for the server's rule (the browser lets it through).
  await page.fill("#description", "Short");
  for (const label of ["images are public", "Open Source Definition", "no pathway to commercialization"]) {
    await page.getByLabel(label).check();
  }
  await page.getByTestId("submit-application").click();
  await expect(page.getByTestId("error-description")).toContainText("10 to 1000 characters");
  await expect(page.locator("#description")).toBeFocused();
  await expect(page.locator("#project_name")).toHaveValue("Form Keeps");
  await expect(page.locator("#website")).toHaveValue("https://formkeeps.example.org");
  await expect(page.locator("#description")).toHaveValue("Short");
  await expect(page.getByLabel("Open Source Definition")).toBeChecked();
  // Fixed, it goes through.
  await page.fill("#description", "Long enough to describe the project.");
  await page.getByTestId("submit-application").click();
  await expect(page.getByTestId("application-status")).toContainText("Submitted");
});

test("after Renew the program page says a renewal is waiting and offers no second one", async ({ page }) => {
  // openlens (carol) is due for renewal in the demo.
  await signIn(page, "carol");
  await page.goto("/u/openlens/program");
  await expect(page.getByTestId("renew-banner")).toContainText("Owners can renew now");
  await hydrated(page);
  await page.getByTestId("renew").click();
  await expect(page.getByTestId("application-status")).toContainText("Submitted");
  const banner = page.getByTestId("renew-banner");
  await expect(banner).toContainText("A renewal is waiting for review");
  await expect(banner.getByRole("link", { name: "Renew" })).toHaveCount(0);
  await expect(page.getByTestId("renew")).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId("renew-banner")).toContainText("A renewal is waiting for review");

  // Approving it says renewal, to the owner.
  await signIn(page, "reviewer");
  await page.goto("/review");
  const card = page.getByTestId("review-openlens");
  await expect(card).toContainText("renewal");
  await hydrated(page);
  await card.getByLabel("Approve (one-year membership)").check();
  await card.getByTestId("decide").click();
  await expect(page.getByTestId("decision-notice")).toContainText(/openlens.s renewal #\d+ was approved/);
  await signIn(page, "carol");
  await page.getByTestId("bell").click();
  await expect(page.getByTestId("bell-menu")).toContainText("openlens: your renewal was approved");
});
