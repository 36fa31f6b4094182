// End-to-end: the studio against a real `garmax serve`.
//
//   GARMAX_URL      base URL of the server, e.g. http://127.0.0.1:8080 (required;
//                   the test is skipped without it)
//   GARMAX_API_KEY  a user's key (`garmax users create --name e2e --credits 100`)
//   GARMAX_PERSON   path of a full-body person photo
//   GARMAX_GARMENT  path of a product photo
//   GARMAX_ADMIN_KEY  an admin's key (`garmax users create --name admin --admin`);
//                   the admin dashboard test needs it
//   GARMAX_SCREENSHOTS  folder for the step screenshots (default test-results/screens)
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const URL = process.env.GARMAX_URL;
const KEY = process.env.GARMAX_API_KEY ?? '';
const ADMIN_KEY = process.env.GARMAX_ADMIN_KEY ?? '';
const PERSON = process.env.GARMAX_PERSON ?? '';
const GARMENT = process.env.GARMAX_GARMENT ?? '';
const SHOTS = process.env.GARMAX_SCREENSHOTS ?? path.join('test-results', 'screens');
const SD_COST = 10;

if (!URL) {
  console.log('studio.spec.ts: skipped — GARMAX_URL is not set (start `garmax serve` and set GARMAX_URL, GARMAX_API_KEY, GARMAX_PERSON, GARMAX_GARMENT).');
}

test.skip(!URL, 'GARMAX_URL is not set: the end-to-end test needs a running garmax serve');
// The admin dashboard's charts need the catalogue generation before them.
test.describe.configure({ mode: 'serial' });

/** Console errors of a page, collected for the end of a test. */
function watchConsole(page: Page): { text: string; url: string }[] {
  const errors: { text: string; url: string }[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push({ text: m.text(), url: m.location().url });
  });
  page.on('pageerror', (e) => errors.push({ text: String(e), url: '' }));
  return errors;
}

async function signIn(page: Page, key: string, at = '/') {
  await page.goto(at);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('user-name')).toBeVisible();
}

/**
 * Console errors less the browser's own "Failed to load resource" line for
 * answers the test provokes on purpose (Chromium logs every non-2xx fetch):
 * the UI shows those errors, which the test checks separately.
 */
function unexpected(errors: { text: string; url: string }[], provoked: string[]) {
  return errors.filter((e) => !(e.text.startsWith('Failed to load resource') && provoked.some((p) => new globalThis.URL(e.url, 'http://x').pathname === p)));
}

/** The page fits its width: nothing scrolls sideways (phone widths). */
async function expectNoSidewaysScroll(page: Page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, 'horizontal overflow in px').toBeLessThanOrEqual(1);
}

/**
 * An axe-core scan of the page as it is now (WCAG 2.1 A and AA rules):
 * serious and critical violations fail the test, milder ones are logged.
 * Every scan's findings are written next to the screenshots.
 */
async function expectAccessible(page: Page, name: string) {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const brief = r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(path.join(SHOTS, `axe-${name}.json`), JSON.stringify({ url: page.url(), passes: r.passes.length, violations: brief }, null, 2));
  const blocking = brief.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = brief.filter((v) => !blocking.includes(v));
  console.log(`axe ${name}: ${r.passes.length} rules pass, ${blocking.length} serious/critical, ${minor.length} minor${minor.length ? ` (${minor.map((v) => v.id).join(', ')})` : ''}`);
  expect(blocking, `serious or critical accessibility violations on ${name}`).toEqual([]);
}

/** Meters coloured by the seed's bands: green ≥ 80, yellow 60–79, red < 60. */
async function expectMeterColours(scope: ReturnType<Page['getByTestId']>) {
  for (const key of ['overall', 'face', 'pose', 'color', 'style', 'branding']) {
    const meter = scope.getByTestId(`meter-${key}`);
    await expect(meter).toBeVisible();
    const value = await meter.getAttribute('data-value');
    const colour = await meter.getAttribute('data-colour');
    if (value) {
      const v = Number(value);
      expect(colour, `meter ${key} at ${v} %`).toBe(v >= 80 ? 'green' : v >= 60 ? 'yellow' : 'red');
    } else {
      expect(colour).toBe('none');
    }
  }
}

// Shared by the tests below (serial): the session confirmed in the first.
let confirmedSession = '';

// Screenshots document the run; one that cannot be taken in time (a busy
// software-rendered WebGL frame) is reported, not a failure.
async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  try {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled', timeout: 20_000 });
  } catch (e) {
    console.warn(`screenshot ${name} skipped: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The balance as the API reports it (the header must agree). */
async function apiBalance(page: Page, key = KEY): Promise<number> {
  const res = await page.request.get('/api/billing/balance', { headers: { Authorization: `Bearer ${key}` } });
  expect(res.status()).toBe(200);
  return ((await res.json()) as { balance: number }).balance;
}

async function credits(page: Page): Promise<number> {
  const text = (await page.getByTestId('user-credits').textContent()) ?? '';
  const n = Number(/-?\d+/.exec(text)?.[0]);
  expect(Number.isFinite(n), `credits in the header: "${text}"`).toBe(true);
  return n;
}

test('sign in, avatar, garment, live session, preview with meters, confirm', async ({ page }) => {
  // The env is required once GARMAX_URL says a server is there: fail loudly.
  expect(KEY, 'GARMAX_API_KEY').not.toBe('');
  expect(existsSync(PERSON), `GARMAX_PERSON (${PERSON}) exists`).toBe(true);
  expect(existsSync(GARMENT), `GARMAX_GARMENT (${GARMENT}) exists`).toBe(true);

  const consoleErrors: { text: string; url: string }[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push({ text: m.text(), url: m.location().url });
  });
  page.on('pageerror', (e) => consoleErrors.push({ text: String(e), url: '' }));

  // 1. Sign in.
  await page.goto('/');
  await expect(page.getByLabel('API key')).toBeEditable();
  await expectAccessible(page, 'sign-in');
  await page.getByLabel('API key').fill(KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('user-name')).toBeVisible();
  await expect(page.getByTestId('user-plan')).not.toBeEmpty();
  expect(await credits(page), 'the header shows the balance').toBe(await apiBalance(page));
  await shot(page, '01-signed-in');

  // 2. Photo → avatar ready → 3D body.
  await page.getByTestId('avatar-drop').locator('input[type=file]').setInputFiles(PERSON);
  const avatar = page.getByTestId('avatar-detail');
  await expect(avatar).toBeVisible();
  await shot(page, '02-avatar-processing');
  await expect(avatar).toHaveAttribute('data-status', 'ready', { timeout: 5 * 60_000 });
  const viewer = page.getByTestId('body-viewer');
  await expect(viewer).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  const canvas = viewer.locator('canvas');
  await expect(canvas).toBeVisible();
  // The body is drawn: the canvas has pixels that differ from its background.
  await expect
    .poll(
      () =>
        canvas.evaluate((c: HTMLCanvasElement) => {
          const probe = document.createElement('canvas');
          probe.width = 96;
          probe.height = 128;
          const ctx = probe.getContext('2d')!;
          ctx.drawImage(c, 0, 0, probe.width, probe.height);
          const d = ctx.getImageData(0, 0, probe.width, probe.height).data;
          const [r0, g0, b0] = [d[0], d[1], d[2]];
          let differ = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (Math.abs(d[i] - r0) + Math.abs(d[i + 1] - g0) + Math.abs(d[i + 2] - b0) > 30) differ++;
          }
          return differ;
        }),
      { timeout: 30_000, message: 'non-background pixels in the 3D canvas' },
    )
    .toBeGreaterThan(100);
  // A guidance map over the photo.
  await page.getByRole('checkbox', { name: 'depth' }).check();
  await expect(avatar.locator('img[data-map="depth"]')).toBeVisible();
  await shot(page, '03-avatar-ready-3d');

  // 3. Garment → analysis.
  await page.getByTestId('garment-drop').locator('input[type=file]').setInputFiles(GARMENT);
  const analysis = page.getByTestId('garment-analysis');
  await expect(analysis).toBeVisible({ timeout: 2 * 60_000 });
  await expect(page.getByTestId('garment-type')).not.toHaveText(/^Unknown/);
  await expect(analysis.getByRole('listitem').first()).toBeVisible(); // palette swatches
  await expect(page.getByTestId('garment-confidence')).toHaveText(/\d+ %/);
  await shot(page, '04-garment-analysis');
  await expectAccessible(page, 'studio');

  // 4. Quality: SD, standard tier, the cost shown.
  await page.getByRole('radio', { name: /SD/ }).check();
  await page.getByRole('radio', { name: /Standard/ }).check();
  await expect(page.getByTestId('cost-summary')).toContainText(`${SD_COST} credits`);

  // Record every stage the modal shows, as it happens.
  await page.evaluate(() => {
    const w = window as unknown as { __stages: string[]; __progress: number[]; __transport: string };
    w.__stages = [];
    w.__progress = [];
    w.__transport = '';
    new MutationObserver(() => {
      const t = document.querySelector('[data-testid="transport"]')?.textContent;
      if (t) w.__transport = t;
      const view = document.querySelector('[data-testid="processing-view"]');
      const stage = view?.getAttribute('data-stage');
      if (stage && w.__stages.at(-1) !== stage) w.__stages.push(stage);
      const p = document.querySelector<HTMLProgressElement>('[data-testid="session-progress"]');
      if (p && w.__progress.at(-1) !== p.value) w.__progress.push(p.value);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-stage', 'value'] });
  });

  // 5. Start; the processing modal shows live progress. The avatar's 5
  // credits were taken when it was made, so the balance is read here, and
  // the header must already show it.
  const before = await apiBalance(page);
  expect(before, 'enough credits for an SD try-on').toBeGreaterThanOrEqual(SD_COST);
  await expect.poll(() => credits(page), { timeout: 10_000 }).toBe(before);
  await page.getByTestId('start-session').click();
  const modal = page.getByTestId('processing-modal');
  await expect(modal).toBeVisible();
  await expect(modal.getByTestId('processing-view')).toBeVisible();
  await shot(page, '05-processing');
  await expect(modal).toHaveAttribute('data-status', 'preview_ready', { timeout: 8 * 60_000 });
  // A fast server may reach the preview before a check could poll the
  // label, so the observer above recorded which live transport was shown.
  const transport = await page.evaluate(() => (window as unknown as { __transport: string }).__transport);
  expect(transport, 'the live transport shown while processing').toMatch(/socket\.io|server-sent events/);
  const shown = await page.evaluate(() => (window as unknown as { __stages: string[] }).__stages);
  const progress = await page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
  // What the live feed delivered: React may draw two updates that arrive
  // milliseconds apart as one frame, so the DOM's stages undercount them;
  // the modal's timeline records each stage as it is received.
  const received = await modal.getByTestId('stage-timeline').locator('li').evaluateAll((items) =>
    items.map((li) => li.getAttribute('data-stage') ?? ''),
  );
  console.log(`live via ${transport}; stages drawn: ${shown.join(' → ')}; received: ${received.join(' → ')}; progress: ${progress.join(', ')}`);
  expect(new Set(received).size, `stages received live: ${received.join(', ')}`).toBeGreaterThanOrEqual(3);
  expect(received.at(-1), 'the last stage received before the preview').toMatch(/ai-complete|finalizing|complete/);
  for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThanOrEqual(progress[i - 1]);

  // 6. Preview with meters.
  const preview = modal.getByTestId('preview-approval');
  await expect(preview).toBeVisible();
  await expect(preview.getByTestId('preview-image')).toBeVisible({ timeout: 30_000 });
  for (const key of ['overall', 'face', 'pose', 'color', 'style', 'branding']) {
    const meter = preview.getByTestId(`meter-${key}`);
    await expect(meter).toBeVisible();
    const value = await meter.getAttribute('data-value');
    const colour = await meter.getAttribute('data-colour');
    if (value) {
      const v = Number(value);
      expect(colour, `meter ${key} at ${v} %`).toBe(v >= 80 ? 'green' : v >= 60 ? 'yellow' : 'red');
    } else {
      expect(colour).toBe('none');
    }
  }
  await expect(preview.getByTestId('meter-overall')).toHaveAttribute('data-value', /\d+/);
  const countdown = preview.getByTestId('countdown');
  if (await countdown.count()) await expect(countdown).toContainText(/Auto-confirm/);
  await page.waitForTimeout(1000); // let the meters animate in for the screenshot
  await shot(page, '06-preview-meters');
  await expectAccessible(page, 'preview');
  // The dialog keeps keyboard focus: Tab from its last control comes back to its first.
  const inDialog = () => modal.evaluate((m) => m.contains(document.activeElement));
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    expect(await inDialog(), `focus inside the preview dialog after ${i + 1} Tab presses`).toBe(true);
  }

  // 7. Confirm → result; the balance dropped by exactly the cost.
  await preview.getByTestId('confirm').click();
  await expect(modal).toHaveAttribute('data-status', 'confirmed', { timeout: 30_000 });
  const result = modal.getByTestId('result-image');
  await expect(result).toBeVisible({ timeout: 30_000 });
  expect(await result.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await expect.poll(() => credits(page), { timeout: 15_000 }).toBe(before - SD_COST);
  await shot(page, '07-confirmed-result');
  confirmedSession = (await modal.getAttribute('data-session-id')) ?? '';
  expect(confirmedSession).not.toBe('');

  // 7b. Rate it 1–5 by keyboard: focus the stars, arrow to 4.
  const rating = modal.getByTestId('rating');
  await expect(rating).toBeVisible();
  await rating.getByRole('radio').first().focus();
  await page.keyboard.press('ArrowRight'); // 2
  await expect(modal.getByTestId('rating-saved')).toHaveAttribute('data-rating', '2');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight'); // 4: rating again replaces it
  await expect(modal.getByTestId('rating-saved')).toHaveAttribute('data-rating', '4');
  await expect(modal.getByTestId('rating-saved')).toContainText('4 of 5');
  await shot(page, '07b-rated');

  // 8. The gallery lists it.
  await modal.getByRole('button', { name: /Close/ }).click();
  await page.getByRole('button', { name: 'Gallery' }).click();
  await expect(page.locator('[data-testid="gallery-item"][data-status="confirmed"]').first()).toBeVisible();
  await shot(page, '08-gallery');
  await expectAccessible(page, 'gallery');

  // 9. Billing: the confirmed session's hold and capture in the ledger.
  await page.getByRole('button', { name: 'Billing' }).click();
  const billing = page.getByTestId('billing-page');
  await expect(billing.getByTestId('billing-balance')).toHaveAttribute('data-balance', String(before - SD_COST));
  const entryOf = (subject: string, kind: string) => billing.locator(`[data-testid="ledger-entry"][data-subject="${subject}"][data-kind="${kind}"]`);
  await expect(entryOf(confirmedSession, 'capture')).toHaveCount(1);
  await expect(entryOf(confirmedSession, 'hold')).toHaveAttribute('data-amount', String(-SD_COST));
  await expect(billing.getByTestId('billing-plan')).toContainText('Try-ons');
  await shot(page, '09-billing-ledger');
  await expectAccessible(page, 'billing');
  // Stripe is not configured on the test server: the upgrade answers a coded error, shown as such.
  const upgrade = billing.getByTestId('upgrade').getByRole('button').first();
  if (await upgrade.count()) {
    await upgrade.click();
    await expect(billing.getByTestId('upgrade').getByRole('alert')).toContainText(/[A-Z]{3}_\d{3}/);
    await shot(page, '09b-upgrade-error');
  }

  // 10. A second session, rejected: the hold is released, the balance is back.
  const beforeSecond = await credits(page);
  await page.getByRole('button', { name: 'Studio' }).click();
  await page.getByRole('radio', { name: /SD/ }).check();
  await page.getByTestId('start-session').click();
  await expect(modal).toHaveAttribute('data-status', 'preview_ready', { timeout: 8 * 60_000 });
  const second = (await modal.getAttribute('data-session-id')) ?? '';
  expect(second).not.toBe(confirmedSession);
  await expect.poll(() => credits(page), { timeout: 15_000 }).toBe(beforeSecond - SD_COST); // held
  await modal.getByTestId('reject').click();
  await expect(modal).toHaveAttribute('data-status', 'rejected', { timeout: 30_000 });
  await expect.poll(() => credits(page), { timeout: 15_000 }).toBe(beforeSecond);
  await shot(page, '10-rejected');
  await modal.getByRole('button', { name: /Close/ }).click();
  await page.getByRole('button', { name: 'Billing' }).click();
  await expect(billing.getByTestId('billing-balance')).toHaveAttribute('data-balance', String(beforeSecond));
  await expect(entryOf(second, 'hold')).toHaveAttribute('data-amount', String(-SD_COST));
  await expect(entryOf(second, 'release')).toHaveAttribute('data-amount', String(SD_COST));
  await expect(entryOf(second, 'capture')).toHaveCount(0);
  await shot(page, '11-billing-released');

  // 11. Phone width: the billing page fits.
  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoSidewaysScroll(page);
  await shot(page, '12-billing-phone');

  // 12. A non-admin at /admin/dashboard is told it is for admins.
  await page.goto('/admin/dashboard');
  await expect(page.getByTestId('admins-only')).toBeVisible();
  await shot(page, '13-admins-only');

  // A server without socket.io leaves the client's failed socket.io requests
  // in the console; the studio then ran on SSE, which is the designed fallback.
  const errors = consoleErrors.filter((e) => !(transport?.includes('server-sent') && e.url.includes('/socket.io/')));
  // The checkout refused (no Stripe on the test server) is provoked above.
  expect(unexpected(errors, ['/api/billing/checkout']), 'no console errors').toEqual([]);
});

test('catalogue: persona and pose, enhanced try-on live, meters, rating', async ({ page }) => {
  expect(existsSync(GARMENT), `GARMAX_GARMENT (${GARMENT}) exists`).toBe(true);
  const consoleErrors = watchConsole(page);
  await signIn(page, KEY);
  await page.getByRole('button', { name: 'Catalogue' }).click();
  const catalogue = page.getByTestId('catalogue-page');
  // A persona whose pose reference is processed (the server seeds config/personas.toml at start).
  await expect(catalogue.locator('[data-testid="poses"] input[type=radio]:checked')).toHaveCount(1, { timeout: 5 * 60_000 });
  const persona = await catalogue.locator('[data-testid="persona"] input:checked').getAttribute('value');
  await expectAccessible(page, 'catalogue');
  await catalogue.getByTestId('product-drop').locator('input[type=file]').setInputFiles(GARMENT);
  await catalogue.getByRole('radio', { name: /Standard/ }).check();
  await shot(page, '14-catalogue');
  await catalogue.getByTestId('generate').click();
  const modal = page.getByTestId('enhanced-modal');
  await expect(modal).toBeVisible();
  await expect(modal).toHaveAttribute('data-status', 'done', { timeout: 8 * 60_000 });
  const result = modal.getByTestId('enhanced-result');
  // The seed's answer: passed, or RET_003 with the best attempt — both carry an image and scores.
  await expect(modal.getByTestId('enhanced-image')).toBeVisible({ timeout: 30_000 });
  expect(await modal.getByTestId('enhanced-image').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  await expectMeterColours(result);
  if ((await result.getAttribute('data-success')) === 'false') await expect(result.getByRole('alert').first()).toContainText('RET_003');
  await modal.getByTestId('rating').getByText('★').nth(4).click();
  await expect(modal.getByTestId('rating-saved')).toHaveAttribute('data-rating', '5');
  await page.waitForTimeout(1000);
  await shot(page, '15-catalogue-result');
  const success = await result.getAttribute('data-success');
  const job = (await modal.getAttribute('data-session-id')) ?? '';
  console.log(`catalogue: persona ${persona}, job ${job}, success ${success}`);
  // RET_003 is answered 422 with the best attempt (the seed's contract), shown above.
  expect(unexpected(consoleErrors, success === 'false' ? [`/api/enhanced-tryon/jobs/${job}`] : []), 'no console errors').toEqual([]);
});

test('admin dashboard: analytics charts, providers, A/B tests, personas, optional panels', async ({ page }) => {
  expect(ADMIN_KEY, 'GARMAX_ADMIN_KEY').not.toBe('');
  const consoleErrors = watchConsole(page);
  await signIn(page, ADMIN_KEY, '/admin/dashboard');
  const dash = page.getByTestId('admin-dashboard');
  await expect(dash).toBeVisible();
  const summary = dash.getByTestId('analytics-summary');
  await expect(summary).toBeVisible({ timeout: 30_000 });
  const generations = Number(await summary.getAttribute('data-generations'));
  expect(generations, 'generations in the analytics (the catalogue test made one)').toBeGreaterThanOrEqual(1);
  // Charts drawn from the data: points for the day's success rate and quality, bars for cost and retries.
  await expect(dash.getByTestId('chart-success').locator('svg circle.point')).not.toHaveCount(0);
  await expect(dash.getByTestId('chart-quality').locator('svg circle.point')).not.toHaveCount(0);
  await expect(dash.getByTestId('chart-cost').locator('svg rect.bar')).not.toHaveCount(0);
  const retryBars = dash.getByTestId('chart-retries').locator('svg rect.bar');
  await expect(retryBars).not.toHaveCount(0);
  const attemptsTotal = await retryBars.evaluateAll((bars) => bars.reduce((n, b) => n + Number(b.getAttribute('data-value')), 0));
  expect(attemptsTotal, 'the attempts distribution counts every generation').toBe(generations);
  // Providers: the local renderer ends every chain.
  await expect(dash.getByTestId('default-chain')).toContainText('local');
  await expect(dash.getByTestId('provider-row').first()).toHaveAttribute('data-breaker', /closed|open|half_open/);
  // Personas from the catalogue.
  await expect(dash.getByTestId('persona-row').first()).toBeVisible();
  // Persona management: create one with a pose, see it listed here and in
  // the users' catalogue, delete it, see it gone from both.
  const personas = dash.getByTestId('personas-panel');
  const personaId = `e2e-${Date.now().toString(36)}`;
  const row = personas.locator(`[data-testid="persona-row"][data-id="${personaId}"]`);
  await personas.getByText('New persona').click();
  const form = personas.getByRole('form', { name: 'New persona' });
  await form.getByLabel('Id', { exact: true }).fill(personaId);
  await form.getByLabel('Name', { exact: true }).fill('E2E Persona');
  await form.getByLabel('Poses (comma-separated)').fill('Standing');
  await form.getByRole('button', { name: 'Create persona' }).click();
  await expect(row).toContainText('E2E Persona');
  await expect(row.locator('[data-pose="Standing"]')).toHaveAttribute('data-status', 'none');
  await page.getByRole('button', { name: 'Catalogue' }).click();
  const inCatalogue = page.getByTestId('catalogue-page').locator(`[data-testid="persona"][data-id="${personaId}"]`);
  await expect(inCatalogue).toContainText('E2E Persona');
  // Without a processed pose reference it is listed but cannot be chosen.
  await expect(inCatalogue.locator('input[type=radio]')).toBeDisabled();
  await page.getByRole('button', { name: 'Admin' }).click();
  await expect(row).toBeVisible();
  await row.getByRole('button', { name: 'Delete persona E2E Persona' }).click();
  await row.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(row).toHaveCount(0);
  await page.getByRole('button', { name: 'Catalogue' }).click();
  await expect(page.getByTestId('catalogue-page').locator('[data-testid="persona"]').first()).toBeVisible();
  await expect(inCatalogue).toHaveCount(0);
  await page.getByRole('button', { name: 'Admin' }).click();
  await expect(dash.getByTestId('analytics-summary')).toBeVisible({ timeout: 30_000 });
  // System stats: the machine's gauges and the API's numbers, live.
  const stats = dash.getByTestId('system-stats-panel');
  await expect(stats).toHaveAttribute('data-available', 'true');
  for (const gauge of ['gauge-cpu', 'gauge-memory', 'gauge-disk']) {
    await expect(stats.getByTestId(gauge)).toHaveAttribute('data-level', /ok|high|critical/);
  }
  await expect(stats.getByTestId('stats-api')).toContainText(/\d+ requests · p50 [\d.]+ ms/);
  // Alerts: scripts/e2e-studio sets a memory threshold every machine is
  // over, so the server's evaluator has a system-health alert firing.
  const alerts = dash.getByTestId('alerts-panel');
  await expect(alerts).toHaveAttribute('data-available', 'true');
  const firing = alerts.getByTestId('firing-alerts').getByTestId('alert');
  await expect(firing.first()).toHaveAttribute('data-severity', 'critical', { timeout: 30_000 });
  await expect(firing.first()).toContainText(/memory/i);
  await expect(alerts.getByTestId('alert-config')).toContainText('Thresholds');
  // The per-day charts come from the server's `daily` series.
  await expect(dash.getByTestId('analytics-panel')).toHaveAttribute('data-days-from', 'daily');
  // A/B tests: create one, see it listed with its (empty) results.
  await dash.getByTestId('ab-panel').getByText('New test').click();
  await dash.getByTestId('ab-panel').getByLabel('Name').fill('e2e tier test');
  await dash.getByTestId('ab-panel').getByRole('button', { name: 'Start test' }).click();
  await expect(dash.getByTestId('ab-test').filter({ hasText: 'e2e tier test' })).toHaveAttribute('data-status', 'running');
  await shot(page, '16-admin-dashboard');
  await expectAccessible(page, 'admin-dashboard');
  await page.setViewportSize({ width: 390, height: 844 });
  await expectNoSidewaysScroll(page);
  await shot(page, '17-admin-phone');
  // A 404 from the routes this server may lack is how the panels learn it.
  expect(unexpected(consoleErrors, ['/api/admin/alerts']), 'no console errors').toEqual([]);
});

test('phone width (375 × 812): the studio and the dashboard fit, nothing scrolls sideways', async ({ page }) => {
  expect(ADMIN_KEY, 'GARMAX_ADMIN_KEY').not.toBe('');
  const consoleErrors = watchConsole(page);
  await page.setViewportSize({ width: 375, height: 812 });
  await page.goto('/');
  await expect(page.getByLabel('API key')).toBeEditable();
  await expectNoSidewaysScroll(page);
  await shot(page, '18-signin-375');
  await page.getByLabel('API key').fill(KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('user-name')).toBeVisible();
  // The first test left an avatar and a garment: the studio with both chosen.
  await page.getByRole('list', { name: 'Your avatars' }).getByRole('button', { name: /^Avatar .*, ready$/ }).first().click();
  await page.getByRole('list', { name: 'Your garments' }).locator('button.thumb-pick').first().click();
  await expect(page.getByTestId('avatar-detail')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('body-viewer')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('garment-analysis')).toBeVisible();
  await expect(page.getByTestId('start-session')).toBeVisible();
  await expectNoSidewaysScroll(page);
  await shot(page, '19-studio-375');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, ADMIN_KEY, '/admin/dashboard');
  await expect(page.getByTestId('analytics-summary')).toBeVisible({ timeout: 30_000 });
  await expectNoSidewaysScroll(page);
  await shot(page, '20-admin-375');
  expect(unexpected(consoleErrors, ['/api/admin/alerts']), 'no console errors').toEqual([]);
});

test('performance: navigation start to an interactive sign-in form, cold cache', async ({ browser }) => {
  // Five fresh contexts (no cache): the moment the API key field is in the
  // DOM and enabled, in ms since navigation start (performance.now()).
  const runs: { interactive: number; domContentLoaded: number; load: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as { __interactive?: number };
      const check = () => {
        const input = document.querySelector<HTMLInputElement>('main.signin input');
        if (input && !input.disabled && w.__interactive == null) w.__interactive = performance.now();
      };
      new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true });
    });
    await page.goto('/');
    await expect(page.getByLabel('API key')).toBeEditable();
    await page.waitForLoadState('load');
    runs.push(
      await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return {
          interactive: Math.round((window as unknown as { __interactive: number }).__interactive),
          domContentLoaded: Math.round(nav.domContentLoadedEventEnd),
          load: Math.round(nav.loadEventEnd),
        };
      }),
    );
    await context.close();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = {
    interactiveMs: median(runs.map((r) => r.interactive)),
    domContentLoadedMs: median(runs.map((r) => r.domContentLoaded)),
    loadMs: median(runs.map((r) => r.load)),
    runs,
  };
  console.log(`time to interactive (sign-in form), median of 5 cold loads: ${result.interactiveMs} ms (DOMContentLoaded ${result.domContentLoadedMs} ms, load ${result.loadMs} ms); runs ${runs.map((r) => r.interactive).join(', ')} ms`);
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(path.join(SHOTS, 'timing.json'), JSON.stringify(result, null, 2));
  for (const r of runs) expect(r.interactive, 'the form appears after the document starts').toBeGreaterThan(0);
  // A local server: a form that takes more than 5 s to come up is a regression.
  expect(result.interactiveMs).toBeLessThan(5_000);
});
