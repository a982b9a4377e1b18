/**
 * The approval console in a real browser: headless Chromium (Debian's `chromium`, driven by playwright-core) against
 * the API on a real socket, with the jest stack's Temporal and moto behind it. A security lead opens the link the
 * approval notification carries, signs in with a token, sees the pending gate, approves it and watches the execution
 * go on; a viewer (and the starter, under four-eyes) sees the gate but no buttons. Screenshots land in
 * .data/test/screenshots/ as test artefacts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildApp } from '../../api/app';
import { TokenStore } from '../../api/tokens';
import { ec2Compromise } from '../../runbooks/ec2-compromise';
import { RunbookRegistry } from '../../runbooks/registry';
import { freePort, ROOT } from '../../scripts/stack';
import type { SeedResult } from '../../scripts/seed';
import { testAws, type TestAws } from '../stack/aws';
import { testTemporal, withWorker, type TestTemporal } from '../stack/temporal';

const CHROMIUM = process.env.FIREBREAK_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOTS = path.join(ROOT, '.data', 'test', 'screenshots');
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser) {
  console.warn(
    `console browser tests skipped: no Chromium at ${CHROMIUM} (scripts/tools.sh installs Debian's chromium when ` +
      'run as root; or set FIREBREAK_CHROMIUM to a Chromium binary)',
  );
}
const browserTest = haveBrowser ? test : test.skip;

const TOKENS = {
  alice: 'commander-token-0123456789', // starts the executions (responder, incident-commander)
  carol: 'security-lead-token-0123456789', // decides the gates
  bob: 'viewer-token-0123456789', // reads only
};

let aws: TestAws;
let temporal: TestTemporal;
let env: SeedResult;
let browser: Browser | undefined;

beforeAll(async () => {
  aws = testAws();
  temporal = await testTemporal();
  env = await aws.seed('console', { instances: 2 });
  if (haveBrowser) browser = await chromium.launch({ executablePath: CHROMIUM });
  mkdirSync(SCREENSHOTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await temporal?.close();
  aws?.close();
});

/** The API listening on a free port, its public URL that very address (so notification links point at it). */
async function serve(taskQueue: string): Promise<{ api: FastifyInstance; base: string }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = await buildApp({
    client: temporal.client,
    registry: new RunbookRegistry([ec2Compromise]),
    taskQueue,
    publicUrl: base,
    auth: {
      mode: 'token',
      tokens: TokenStore.fromPlain({
        [TOKENS.alice]: { id: 'user:alice', roles: ['responder', 'incident-commander'] },
        [TOKENS.carol]: { id: 'user:carol', roles: ['security-lead'] },
        [TOKENS.bob]: { id: 'user:bob', roles: ['viewer'] },
      }),
    },
  });
  await api.listen({ host: '127.0.0.1', port });
  return { api, base };
}

async function startWaiting(api: FastifyInstance, instance: number) {
  const started = await api.inject({
    method: 'POST',
    url: '/v1/runbooks/ec2-compromise/executions',
    headers: { authorization: `Bearer ${TOKENS.alice}` },
    payload: {
      params: { instanceId: env.instances[instance].instanceId, notifyTopicArn: env.topicArn },
      reason: 'console test',
    },
  });
  expect(started.statusCode).toBe(201);
  const { executionId } = started.json();
  return poll(api, executionId, (b) => b.status === 'waiting-approval');
}

async function poll(api: FastifyInstance, id: string, predicate: (body: any) => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.inject({
      method: 'GET',
      url: `/v1/executions/${id}`,
      headers: { authorization: `Bearer ${TOKENS.alice}` },
    });
    if (res.statusCode === 200 && predicate(res.json())) return res.json();
    if (Date.now() > deadline) throw new Error(`timed out; last ${res.statusCode} ${res.body}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Requests a page made to anywhere but the API (checked empty after each test). */
const elsewhere: string[] = [];
afterEach(() => expect(elsewhere.splice(0)).toEqual([]));

/** A fresh browser context (its own sessionStorage), signed in with `token` on `url`. */
async function signedIn(url: string, token: string): Promise<Page> {
  const context = await browser!.newContext();
  const page = await context.newPage();
  // Every request the page makes must go to the API itself: no third-party fetches.
  const origin = new URL(url).origin;
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`)) elsewhere.push(r.url());
  });
  await page.goto(url);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

browserTest(
  'a security lead opens the approval link, approves the gate with a comment, and sees the execution go on',
  async () => {
    await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
      const { api, base } = await serve(taskQueue);
      try {
        const waiting = await startWaiting(api, 0);
        const executionId: string = waiting.executionId;
        // The link a notification carries for this gate.
        expect(waiting.pageUrl).toBe(`${base}/console/executions/${executionId}`);

        // The console's first page lists the gate as hers to decide, with its deadline, and links to the execution.
        const page = await signedIn(`${base}/console/`, TOKENS.carol);
        const yours = page.getByRole('region', { name: 'Waiting for your decision' });
        // Other executions in the namespace may wait at a gate of the same title: this one is found by its link.
        const link = yours.locator(`a[href="/console/executions/${executionId}"]`);
        await link.waitFor();
        expect(await link.textContent()).toBe(waiting.pendingApproval.title);
        await shot(page, 'console-home-security-lead');

        await page.goto(waiting.pageUrl);
        await page.getByRole('heading', { name: `Approval needed: ${waiting.pendingApproval.title}` }).waitFor();
        // The timeline shows the steps done so far and the gate waiting.
        await page.locator('#step-capture[data-status="succeeded"]').waitFor();
        await page.locator('#step-approve-isolation[data-status="waiting-approval"]').waitFor();
        await shot(page, 'console-execution-pending-gate');

        await page.getByLabel(/Comment/).fill('isolate it, evidence is preserved');
        await page.getByRole('button', { name: 'Approve' }).click();
        // Live: the page polls; the steps after the gate run and the execution succeeds.
        await page.locator('#step-isolate[data-status="succeeded"]').waitFor({ timeout: 60_000 });
        await page.locator('#step-notify-contained[data-status="succeeded"]').waitFor({ timeout: 60_000 });
        expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
        await expect(page.locator('#step-approve-isolation').textContent()).resolves.toContain(
          'approve by user:carol: “isolate it, evidence is preserved”',
        );
        await shot(page, 'console-execution-approved');

        // The API holds the decision the browser made, under carol's name.
        const done = await poll(api, executionId, (b) => b.status === 'succeeded');
        expect(done.steps.find((s: any) => s.id === 'approve-isolation').approval).toMatchObject({
          decision: 'approve',
          comment: 'isolate it, evidence is preserved',
          decidedBy: { id: 'user:carol' },
        });
        await page.context().close();
        await temporal.client.workflow.getHandle(executionId).terminate('test done');
      } finally {
        await api.close();
      }
    });
  },
);

browserTest('a viewer and the starter see the pending gate but no buttons; a bad token is refused', async () => {
  await withWorker(temporal, { clients: aws.clients }, async ({ taskQueue }) => {
    const { api } = await serve(taskQueue);
    try {
      const waiting = await startWaiting(api, 1);
      const gateHeading = `Approval needed: ${waiting.pendingApproval.title}`;

      const refused = await signedIn(waiting.pageUrl, 'not-a-token-0123456789');
      await refused.getByRole('alert').filter({ hasText: 'That token was refused.' }).waitFor();
      await refused.context().close();

      for (const [who, token] of [
        ['viewer', TOKENS.bob],
        ['starter', TOKENS.alice],
      ] as const) {
        const page = await signedIn(waiting.pageUrl, token);
        await page.getByRole('heading', { name: gateHeading }).waitFor();
        await page.getByText('You may not decide this gate.').waitFor();
        await page.locator('#step-approve-isolation[data-status="waiting-approval"]').waitFor();
        expect(await page.getByRole('button', { name: /approve|reject/i }).count()).toBe(0);
        expect(await page.locator('textarea').count()).toBe(0);
        // The token is kept for the session: a reload goes straight to the page.
        await page.reload();
        await page.getByRole('heading', { name: gateHeading }).waitFor();
        await shot(page, `console-execution-${who}`);
        await page.context().close();
      }
      // Nothing was decided: the gate still waits.
      expect((await poll(api, waiting.executionId, () => true)).status).toBe('waiting-approval');
      await temporal.client.workflow.getHandle(waiting.executionId).terminate('test done');
    } finally {
      await api.close();
    }
  });
});
