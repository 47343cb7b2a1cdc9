// A user over the export limit is told when they can ask again, not shown an error.
// The stack allows two exports an hour (support/stack.ts); this test uses them up for the
// other user, then asks once more from the account page.
import { expect, test } from "@playwright/test";

const OTHER = { email: "other@example.com", password: "other-export-123" };

test("the account page says when the next export can be requested", async ({
  page,
  playwright,
  baseURL,
}) => {
  // Use up the other user's exports through the JSON API, letting each one finish.
  const api = await playwright.request.newContext({ baseURL });
  expect((await api.post("/api/auth/login", { data: OTHER })).status()).toBe(204);
  let limited: { retry_at: string; retry_after: number } | undefined;
  for (let n = 0; n < 5 && !limited; n++) {
    const requested = await api.post("/api/account/export");
    if (requested.status() === 429) {
      expect(Number(requested.headers()["retry-after"])).toBeGreaterThan(0);
      limited = await requested.json();
      break;
    }
    expect(requested.status()).toBe(202);
    const { job_id: jobId } = await requested.json();
    await expect
      .poll(async () => (await (await api.get(`/api/account/export/status/${jobId}`)).json()).status, {
        timeout: 30_000,
      })
      .toBe("completed");
  }
  await api.dispose();
  expect(limited, "the export limit was never reached").toBeDefined();
  const retryAt = new Date(limited!.retry_at);
  const clock = retryAt.toISOString().slice(11, 16);

  // The page asks once more and shows the time instead of an error.
  await page.goto("/login");
  await expect(page.locator("#root")).toHaveAttribute("data-hydrated", "true");
  await page.fill("#email", OTHER.email);
  await page.fill("#password", OTHER.password);
  await page.click("#login-submit");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator("#root")).toHaveAttribute("data-hydrated", "true");
  await expect(page.locator("#job-status")).toHaveAttribute("data-status", "completed");

  await page.click("#export-button");
  await expect(page.locator("#export-error")).toHaveText(
    `You can request another export at ${clock} UTC.`,
  );
});
