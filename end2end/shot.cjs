const { chromium } = require("@playwright/test");
(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  const base = process.env.BASE || "http://127.0.0.1:3999";
  for (const [w, scheme] of [[1280, "light"], [390, "light"], [1280, "dark"]]) {
    const ctx = await browser.newContext({ viewport: { width: w, height: 900 }, colorScheme: scheme });
    const page = await ctx.newPage();
    await page.goto(base + "/signin");
    for (let i = 0; i < 20; i++) {
      await page.fill("#name", "alice"); await page.fill("#password", "demo-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      try { await page.getByTestId("whoami").waitFor({ timeout: 1500 }); break; } catch (e) {}
    }
    await page.goto(base + (process.env.PATHQ || "/u/fluentorg/insights?span=90d&g=week"));
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `/tmp/shots/ins-${w}-${scheme}.png`, fullPage: true });
    await ctx.close();
  }
  await browser.close();
})();
