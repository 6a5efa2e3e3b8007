import { test, expect, Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";
import * as path from "path";

const fixtures = path.join(__dirname, "..", ".fixtures");

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
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("home-greeting")).toContainText("dave");
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

test("the logo dialog is a real modal: focus moves in, Escape closes it, the camera shows focus", async ({ page }) => {
  await signIn(page, "alice");
  await page.goto("/r/fluentorg/fluent-operator");
  await hydrated(page);
  // Keyboard focus on the (visually hidden) file input outlines the camera.
  await page.getByTestId("logo-input").focus();
  await expect(page.getByTestId("logo-camera")).toHaveCSS("outline-style", "solid");
  const dialog = page.getByTestId("logo-dialog");
  await expect(dialog).toBeHidden();
  await page.getByTestId("logo-input").setInputFiles(path.join(fixtures, "1000x1000.png"));
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId("logo-verdict")).toHaveAttribute("data-code", "ok");
  // Focus is inside the dialog, and the page behind is inert.
  expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
  expect(await dialog.evaluate((d) => (d as HTMLDialogElement).open && d.matches(":modal"))).toBe(true);
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("logo-img")).not.toHaveAttribute("data-source", "repository");
});

test("the bell names its unread count, marks what it shows as read, and fits the screen", async ({ page }) => {
  // carol got a renewal reminder for openlens from the demo's first job run.
  await signIn(page, "carol");
  const bell = page.getByTestId("bell");
  await expect(bell).toHaveAccessibleName(/^Notifications, \d+ unread$/);
  await bell.click();
  await expect(bell).toHaveAttribute("aria-expanded", "true");
  const menu = page.getByTestId("bell-menu");
  await expect(menu.locator("li.unread").first()).toBeVisible();
  const box = (await menu.boundingBox())!;
  const width = page.viewportSize()!.width;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(width);
  // Opening recorded them read: the count is gone, here and after a reload.
  await expect(bell).toHaveAccessibleName("Notifications");
  await expect(page.getByTestId("unread-count")).toBeHidden();
  await page.reload();
  await expect(page.getByTestId("bell")).toHaveAccessibleName("Notifications");
});

test("the audit log: one-line dates, logo changes as thumbnails, a way back", async ({ page }) => {
  await signIn(page, "alice");
  await page.goto("/u/fluentorg");
  await hydrated(page);
  await page.getByTestId("logo-input").first().setInputFiles(path.join(fixtures, "1000x1000.png"));
  await page.getByTestId("logo-upload").click();
  await expect(page.getByTestId("logo-dialog")).toBeHidden();
  await page.goto("/u/fluentorg/audit");
  const table = page.getByTestId("audit-table");
  const row = table.locator("tr", { hasText: "logo set" }).first();
  await expect(row).toContainText("logo changed");
  await expect(row.locator("img.audit-logo")).toHaveCount(1);
  expect(await row.innerText()).not.toMatch(/[0-9a-f]{64}/);
  const when = row.locator("td.when");
  const lineHeight = await when.evaluate((td) => parseFloat(getComputedStyle(td).lineHeight) || 24);
  expect((await when.boundingBox())!.height).toBeLessThan(lineHeight * 2.2);
  await page.getByTestId("audit-crumbs").getByRole("link", { name: "fluentorg" }).click();
  await expect(page).toHaveURL(/\/u\/fluentorg$/);
});

test.describe("on a phone (390 px)", () => {
  test.use({ viewport: { width: 390, height: 844 } });
  test("the header folds into a menu and no page scrolls sideways", async ({ page }) => {
    await page.context().clearCookies();
    for (const path of ["/", "/search?q=fluent", "/program", "/r/fluentorg/fluent-bit", "/u/fluentorg", "/signin"]) {
      await page.goto(path);
      await hydrated(page);
      const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
      expect(scroll, path).toBeLessThanOrEqual(390);
    }
    const toggle = page.getByTestId("menu-toggle");
    await expect(toggle).toBeVisible();
    await expect(toggle).toHaveAttribute("aria-expanded", "false");
    await expect(page.getByRole("link", { name: "Explore" })).toBeHidden();
    await toggle.click();
    await expect(toggle).toHaveAttribute("aria-expanded", "true");
    await page.getByRole("link", { name: "Explore" }).click();
    await expect(page).toHaveURL(/\/search/);
    await expect(page.getByTestId("menu-toggle")).toHaveAttribute("aria-expanded", "false");
  });
});

test("sign-up says a name is taken before you submit, and that a free one is free", async ({ page }) => {
  await page.context().clearCookies();
  await page.goto("/signup");
  await hydrated(page);
  await page.fill("#name", "alice");
  const verdict = page.getByTestId("name-hint");
  await expect(verdict).toContainText("“alice” is taken");
  await expect(verdict).toHaveClass(/bad/);
  await page.fill("#name", "freshname7");
  await expect(verdict).toContainText("“freshname7” is available");
  await expect(verdict).toHaveClass(/ok/);
});

test("signing in lands on a home with your namespaces, their program status and what to do next", async ({ page }) => {
  await page.context().clearCookies();
  await page.goto("/signin");
  await hydrated(page);
  await page.fill("#name", "carol");
  await page.fill("#password", "demo-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("home-greeting")).toContainText("carol");
  const list = page.getByTestId("home-namespaces");
  await expect(list.locator("li").first()).toContainText("carol");
  const openlens = page.getByTestId("home-ns-openlens");
  await expect(openlens.getByTestId("ns-status")).toContainText("renewal open");
  await expect(openlens.getByRole("link", { name: "Renew" })).toHaveAttribute("href", "/u/openlens/program");
  await expect(page.getByTestId("home-ns-acmecorp").getByRole("link", { name: "Apply" })).toBeVisible();
  // The top bar's search box works from every page.
  await page.getByTestId("top-search").fill("fluent");
  await page.getByTestId("top-search").press("Enter");
  await expect(page).toHaveURL(/\/search\?q=fluent/);
  await expect(page.getByTestId("search-results")).toContainText("fluentorg/fluent-bit");
});

test("the bundle is served pre-compressed, under content-hashed names cached for a year", async ({ request }) => {
  const html = await (await request.get("/")).text();
  const wasm = html.match(/\/pkg\/hub\.[0-9a-f]{16}\.wasm/)?.[0];
  const js = html.match(/\/pkg\/hub\.[0-9a-f]{16}\.js/)?.[0];
  const css = html.match(/\/pkg\/hub\.[0-9a-f]{16}\.css/)?.[0];
  expect([wasm, js, css].every(Boolean), "hashed names in the page").toBe(true);
  for (const [enc, want] of [["br", "br"], ["gzip", "gzip"], ["identity", undefined]] as const) {
    const r = await request.get(wasm!, { headers: { "Accept-Encoding": enc } });
    expect(r.status()).toBe(200);
    expect(r.headers()["content-type"]).toBe("application/wasm");
    expect(r.headers()["content-encoding"]).toBe(want);
    expect(r.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
  }
  for (const file of [js!, css!]) {
    const r = await request.get(file, { headers: { "Accept-Encoding": "br" } });
    expect(r.status(), file).toBe(200);
    expect(r.headers()["content-encoding"], file).toBe("br");
    expect(r.headers()["cache-control"], file).toBe("public, max-age=31536000, immutable");
  }
  // An old or unhashed name is not cached.
  const old = await request.get("/pkg/hub_bg.wasm");
  expect(old.status()).toBe(404);
  expect(old.headers()["cache-control"]).toBe("no-cache");
});

test("copy buttons put the pull command and digests on the clipboard; times read as ago with the exact time on hover", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.goto("/r/fluentorg/fluent-bit");
  await hydrated(page);
  await page.getByRole("button", { name: "Copy pull command" }).click();
  await expect(page.getByRole("button", { name: "Copy pull command" })).toHaveText("Copied ✓");
  const host = new URL(page.url()).host;
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`docker pull ${host}/fluentorg/fluent-bit:latest`);
  await page.getByRole("button", { name: "Copy digest" }).first().click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/^sha256:[0-9a-f]{64}$/);
  const pushed = page.getByTestId("tag-table").locator("tbody tr").first().locator("time").first();
  await expect(pushed).toHaveText(/ago$|just now/);
  await expect(pushed).toHaveAttribute("title", /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
});

test("a publisher writes a Markdown overview; everyone reads it rendered, without scripts", async ({ page, request }) => {
  // The demo's fluent-bit already has one, rendered on the server.
  const html = await (await request.get("/r/fluentorg/fluent-bit")).text();
  expect(html).toContain("<h2>Fluent Bit</h2>");
  await signIn(page, "alice");
  await page.goto("/r/fluentorg/fluentd");
  await hydrated(page);
  await expect(page.getByTestId("overview-empty")).toBeVisible();
  await page.getByTestId("overview-editor").locator("summary").click();
  await page.fill("#overview", "## Fluentd\n\nCollect **everything**.\n\n<img src=x onerror=alert(1)>");
  await page.getByTestId("save-overview").click();
  const overview = page.getByTestId("overview");
  await expect(overview.locator("h2")).toHaveText("Fluentd");
  await expect(overview.locator("strong")).toHaveText("everything");
  expect(await overview.innerHTML()).not.toContain("onerror");
  await page.context().clearCookies();
  await page.goto("/r/fluentorg/fluentd");
  await expect(page.getByTestId("overview").locator("h2")).toHaveText("Fluentd");
  await expect(page.getByTestId("overview-editor")).toHaveCount(0);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });
  test("sign-in explains a refusal, then lands where you were going", async ({ page }) => {
    await page.goto("/signin?next=%2Fu%2Ffluentorg%2Fprogram");
    await page.fill("#name", "alice");
    await page.fill("#password", "not-her-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByTestId("action-error")).toContainText("user name or password");
    await page.goto("/signin?next=%2Fu%2Ffluentorg%2Fprogram");
    await page.fill("#name", "alice");
    await page.fill("#password", "demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/u\/fluentorg\/program$/);
    const who = await page.request.post("/api/whoami", { headers: { Origin: new URL(page.url()).origin } });
    expect((await who.json()).name).toBe("alice");
  });

  /** Signs in through the plain HTML form (no script runs in these pages). */
  async function signInPlain(page: Page, name: string) {
    // Retried: other tests sign the same demo users in, and the sign-in
    // limit may ask for a few seconds' wait.
    await expect(async () => {
      await page.goto("/signin");
      await page.fill("#name", name);
      await page.fill("#password", "demo-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page).not.toHaveURL(/\/signin/, { timeout: 2000 });
    }).toPass({ timeout: 20_000 });
  }

  /** The page as the server sent it: the user menu, the heading, no placeholder. */
  async function rendered(page: Page, path: string, who: string, text: string) {
    // The HTML itself holds the content in place: no "Loading…" placeholder
    // and no <template> that only a script would swap in.
    const html = await (await page.request.get(path)).text();
    const main = html.slice(html.indexOf("<main"), html.indexOf("</main>"));
    expect(main, path).not.toContain("Loading…");
    expect(html, path).not.toContain("<template");
    expect(html.slice(0, html.indexOf("<main")), path).toContain('data-testid="whoami"');
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(200);
    await expect(page.getByTestId("whoami"), path).toHaveText(who);
    await expect(page.locator("main"), path).toContainText(text);
    await expect(page.locator("main"), path).not.toContainText("Loading…");
  }

  test("signed-in pages render on the server, with their data", async ({ page }) => {
    await signInPlain(page, "alice");
    await rendered(page, "/", "alice", "fluentorg");
    await rendered(page, "/settings", "alice", "Signed in as alice");
    await expect(page.getByTestId("my-namespaces")).toContainText("fluentorg");
    await expect(page.getByTestId("create-token-form")).toBeVisible();
    await rendered(page, "/u/fluentorg/settings", "alice", "Owners");
    await expect(page.getByTestId("teams")).toContainText("maintainers");
    await rendered(page, "/u/fluentorg/program", "alice", "fluentorg");
    await rendered(page, "/u/fluentorg/audit", "alice", "fluentorg");
    await rendered(page, "/u/fluentorg/insights", "alice", "Pulls");
    await rendered(page, "/new", "alice", "Create a repository");
    await expect(page.locator("select#namespace option")).toContainText(["alice", "fluentorg"]);
    await rendered(page, "/r/fluentorg/fluent-bit", "alice", "fluent-bit");
    await page.context().clearCookies();
    await signInPlain(page, "reviewer");
    await rendered(page, "/review", "reviewer", "waiting for review");
    await expect(page.locator("main")).toContainText("tinyproj");
  });
});

test("empty states explain and lead on: no results, no repositories", async ({ page }) => {
  await page.goto("/search?q=zzzznothing&image_filter=open_source");
  await expect(page.getByTestId("no-results")).toContainText("No sponsored repository matches");
  await page.getByTestId("drop-filter").click();
  await expect(page).toHaveURL(/\/search\?q=zzzznothing$/);
  await expect(page.getByTestId("no-results")).toContainText("Nothing matches");
  await signIn(page, "carol");
  await page.goto("/u/carol");
  await expect(page.getByTestId("no-repos")).toContainText("No repositories yet");
  await expect(page.getByTestId("no-repos").getByRole("link", { name: "New repository" })).toHaveAttribute("href", "/new?namespace=carol");
  await page.context().clearCookies();
  await page.goto("/u/carol");
  await expect(page.getByTestId("no-repos")).toContainText("carol has no public repositories yet.");
});

test("a member page's code arrives with it: preloaded on a first visit, fetched on a client-side visit, cached for a year", async ({ page, request }) => {
  const wasm: string[] = [];
  page.on("request", (r) => { if (r.url().endsWith(".wasm")) wasm.push(new URL(r.url()).pathname); });
  await signIn(page, "alice");
  // A public page needs only the main module.
  wasm.length = 0;
  await page.goto("/u/fluentorg");
  await hydrated(page);
  expect(wasm.filter((p) => !/^\/pkg\/hub\.[0-9a-f]{16}\.wasm$/.test(p)), "files besides the main module").toEqual([]);
  // A first visit to a member page: the server's answer lists the page's
  // files as preloads (a Link header), and the page hydrates once they are in.
  const link = (await page.request.get("/u/fluentorg/audit")).headers()["link"] ?? "";
  const preloads = [...link.matchAll(/<(\/pkg\/(?:split|chunk)_[^>]+\.[0-9a-f]{16}\.wasm)>; rel=preload; as=fetch; crossorigin=anonymous/g)].map((m) => m[1]);
  expect(preloads.some((p) => p.includes("audit_view")), "the audit page's own file is preloaded").toBe(true);
  wasm.length = 0;
  await page.goto("/u/fluentorg/audit");
  await hydrated(page);
  expect(wasm.some((p) => p.includes("audit_view"))).toBe(true);
  await page.getByTestId("audit-crumbs").getByRole("link", { name: "fluentorg" }).click();
  await expect(page).toHaveURL(/\/u\/fluentorg$/);
  // A client-side visit to another member page fetches its file then.
  wasm.length = 0;
  await page.locator('header a[href="/settings"]').click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");
  expect(wasm.some((p) => p.includes("settings_view")), "the settings page's file").toBe(true);
  for (const file of preloads) {
    const r = await request.get(file, { headers: { "Accept-Encoding": "br" } });
    expect(r.status(), file).toBe(200);
    expect(r.headers()["content-encoding"], file).toBe("br");
    expect(r.headers()["cache-control"], file).toBe("public, max-age=31536000, immutable");
  }
});

test("when a page's code is gone (a new release replaced it), the page is loaded afresh from the server", async ({ page }) => {
  await signIn(page, "alice");
  await page.goto("/u/fluentorg");
  await hydrated(page);
  // The settings page's files now answer 404, as after a deploy.
  await page.route(/\/pkg\/(split|chunk)_.*\.wasm$/, (route) => route.fulfill({ status: 404, body: "" }));
  const reloaded = page.waitForEvent("load");
  await page.locator('header a[href="/settings"]').click();
  await reloaded;
  await expect(page).toHaveURL(/\/settings$/);
  // Rendered by the server: the page reads complete without its code.
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");
  // Its hydration fails the same way, and the page does not reload again.
  let again = false;
  page.on("load", () => { again = true; });
  await page.waitForTimeout(1500);
  expect(again, "a second reload").toBe(false);
});
