// The export flow as a user lives it: sign in, export, watch progress, get the email,
// follow its link through the login page, download and open the ZIP.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, Page, test } from "@playwright/test";

const DEMO = { email: "demo@example.com", password: "demo-export-123" };
const OTHER = { email: "other@example.com", password: "other-export-123" };

/** Fails the test on any console error, page error or failed request. */
function watchForErrors(page: Page, allowedStatus: number[] = []) {
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400 && !allowedStatus.includes(r.status())) {
      problems.push(`HTTP ${r.status()} ${r.url()}`);
    }
  });
  return problems;
}

async function hydrated(page: Page) {
  await expect(page.locator("#root")).toHaveAttribute("data-hydrated", "true");
}

async function signIn(page: Page, who: { email: string; password: string }) {
  await hydrated(page);
  await page.fill("#email", who.email);
  await page.fill("#password", who.password);
  await page.click("#login-submit");
}

/** The captured email that mentions `jobId`, decoded enough to read links. */
async function mailFor(jobId: string): Promise<string> {
  const dir = process.env.MAIL_DIR!;
  let found = "";
  await expect
    .poll(
      () => {
        const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".eml")) : [];
        const texts = files.map((f) =>
          readFileSync(join(dir, f), "utf8").replace(/=\r?\n/g, "").replace(/=3D/g, "="),
        );
        found = texts.find((t) => t.includes(jobId)) ?? "";
        return found !== "";
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  return found;
}

function unzipEntry(zip: string, name: string): string {
  return execFileSync("unzip", ["-p", zip, name], { encoding: "utf8", maxBuffer: 64 << 20 });
}

test("demo user exports, watches progress, and downloads from the emailed link", async ({
  page,
  browser,
}, testInfo) => {
  const problems = watchForErrors(page);

  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount$/);
  await signIn(page, DEMO);
  await expect(page).toHaveURL(/\/account$/);
  await hydrated(page);
  await expect(page.locator("#profile-email")).toHaveText(DEMO.email);
  await expect(page.locator("#profile-subscriptions")).toHaveText("50");
  await expect(page.locator("#profile-watched")).toHaveText("2,000");

  await page.click("#export-button");
  await expect(page.locator("#export-button")).toBeDisabled();

  // Sample the bar until the job completes: it must show several distinct values.
  const percents = new Set<string>();
  const labels = new Set<string>();
  await expect
    .poll(
      async () => {
        const seen = await page.evaluate(() => ({
          status: document.querySelector("#job-status")?.getAttribute("data-status"),
          percent: document.querySelector("#export-progress")?.getAttribute("value"),
          label: document.querySelector("#export-progress-label")?.textContent,
        }));
        if (seen.percent) percents.add(seen.percent);
        if (seen.label) labels.add(seen.label);
        return seen.status;
      },
      { timeout: 30_000, intervals: [100] },
    )
    .toBe("completed");
  expect(percents.size, `percents seen: ${[...percents]}`).toBeGreaterThanOrEqual(3);
  expect([...labels].some((l) => /Writing watch history: [\d,]+ of 2,000/.test(l))).toBe(true);

  // Polling stops once the job is finished.
  let polls = 0;
  page.on("request", (r) => r.url().includes("/api/fn/export_status") && polls++);
  await page.waitForTimeout(2_500);
  expect(polls).toBe(0);

  const link = page.locator("#download-link");
  const href = (await link.getAttribute("href"))!;
  const jobId = (await page.locator("#job").getAttribute("data-job-id"))!;
  expect(href).toContain(`yt-export-${jobId}.zip`);
  await expect(page.locator("#export-button")).toBeEnabled();

  // The emailed link is the same, and works from a fresh browser through the login page.
  const mail = await mailFor(jobId);
  expect(mail).toContain(`To: ${DEMO.email}`);
  expect(mail).toContain(href);

  const context = await browser.newContext({ acceptDownloads: true });
  const fresh = await context.newPage();
  await fresh.goto(href, { waitUntil: "domcontentloaded" });
  await expect(fresh).toHaveURL(/\/login\?next=/);
  const downloading = fresh.waitForEvent("download");
  await signIn(fresh, DEMO);
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/^youtube-feed-export-\d{4}-\d{2}-\d{2}\.zip$/);
  const zip = testInfo.outputPath("export.zip");
  await download.saveAs(zip);
  if (process.env.YT_E2E_STORAGE === "s3") {
    // Our endpoint answered with a 302 to a URL signed for the S3 store, minted per request.
    expect(download.url()).toContain("X-Amz-Signature=");
    // Signatures carry the time to the second: in a later second a new URL is minted.
    await fresh.waitForTimeout(1_100);
    const answer = await fresh.request.get(href, { maxRedirects: 0 });
    expect(answer.status()).toBe(302);
    expect(answer.headers()["location"]).toContain("X-Amz-Expires=3600");
    expect(answer.headers()["location"]).not.toBe(download.url());
  }
  await context.close();

  execFileSync("unzip", ["-t", zip]);
  const profile = JSON.parse(unzipEntry(zip, "profile.json"));
  const subscriptions = JSON.parse(unzipEntry(zip, "subscriptions.json"));
  const watched = JSON.parse(unzipEntry(zip, "watched_videos.json"));
  expect(profile.email).toBe(DEMO.email);
  expect(subscriptions).toHaveLength(50);
  expect(watched).toHaveLength(2000);
  expect(subscriptions.map((s: { channel_title: string }) => s.channel_title)).toContain(
    "日本の音楽 🎵 Channel",
  );
  expect(unzipEntry(zip, "README.txt")).toContain("watched_videos.json");

  expect(problems).toEqual([]);
});

test("another user can neither see nor download the demo user's export", async ({
  page,
  playwright,
  baseURL,
}) => {
  // The demo user exports through the JSON API.
  const demo = await playwright.request.newContext({ baseURL });
  expect((await demo.post("/api/auth/login", { data: DEMO })).status()).toBe(204);
  const requested = await demo.post("/api/account/export");
  expect(requested.status()).toBe(202);
  const { job_id: jobId } = await requested.json();
  await expect
    .poll(async () => (await (await demo.get(`/api/account/export/status/${jobId}`)).json()).status, {
      timeout: 30_000,
    })
    .toBe("completed");
  await demo.dispose();

  // The other user signs in to the page and tries the same job.
  await page.goto("/login");
  await signIn(page, OTHER);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("#profile-email")).toHaveText(OTHER.email);
  await expect(page.locator(`[data-job-id="${jobId}"]`)).toHaveCount(0);

  const status = await page.request.get(`/api/account/export/status/${jobId}`);
  expect(status.status()).toBe(404);
  const download = await page.request.get(`/api/account/export/download/yt-export-${jobId}.zip`);
  expect(download.status()).toBe(404);
  expect(download.headers()["content-type"]).toContain("application/json");
});
