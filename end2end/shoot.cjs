// Dev helper: screenshots of pages. Usage: node shoot.cjs BASE out-dir [sign-in-user]
const { chromium } = require("@playwright/test");
(async () => {
  const [base, out, user] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--headless", "--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on("pageerror", (e) => console.log("pageerror", e.message));
  page.on("console", (m) => { if (m.type() === "error") console.log("console", m.text()); });
  if (user) {
    await page.goto(base + "/signin");
    await page.waitForTimeout(1500);
    await page.fill("#name", user);
    await page.fill("#password", "demo-password");
    await page.click("button[type=submit]");
    await page.waitForTimeout(2000);
  }
  const paths = (process.env.PATHS || "/,/u/fluentorg,/r/fluentorg/fluent-bit,/settings,/u/fluentorg/settings,/new").split(",");
  for (const p of paths) {
    await page.goto(base + p);
    await page.waitForTimeout(1200);
    const name = (p.replace(/[\/?=&]/g, "_") || "_root") + (user ? "-" + user : "");
    await page.screenshot({ path: `${out}/${name}.png`, fullPage: true });
    console.log("shot", p);
  }
  await browser.close();
})();
