// firebreak approval console: a very small client of the firebreak API. No framework, no third-party requests, no
// inline script (it runs under a strict Content-Security-Policy). Everything it shows or does goes through the /v1
// routes with the bearer token pasted at sign-in, so the API's permission checks decide; the page only hides the
// buttons of gates the signed-in principal may not decide (GET /v1/approvals?mine=true).
const TOKEN_KEY = 'firebreak.token';
const POLL_MS = Math.max(500, Number(new URLSearchParams(location.search).get('poll')) || 2000);
const HOME_POLL_MS = Math.max(POLL_MS, 10000);
const CLOSED_INCIDENT = ['resolved', 'closed'];

const main = document.getElementById('main');
const statusLine = document.getElementById('status');
const who = document.getElementById('who');
const signOutButton = document.getElementById('sign-out');
let timer;

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** An element with attributes and children; strings become text nodes (never HTML). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function say(message, isError = false) {
  statusLine.textContent = message;
  statusLine.classList.toggle('error', isError);
}

async function api(path, init = {}) {
  const headers = new Headers(init.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.set('authorization', `Bearer ${token}`);
  if (init.body !== undefined) headers.set('content-type', 'application/json');
  const res = await fetch(path, { ...init, headers });
  const text = await res.text();
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const e = body && body.error;
    throw new ApiError(res.status, (e && e.code) || String(res.status), (e && e.message) || text.slice(0, 200));
  }
  return body;
}

const enc = encodeURIComponent;

function time(iso) {
  if (!iso) return '';
  return el('time', { datetime: iso }, new Date(iso).toLocaleString());
}

function relative(iso) {
  const ms = new Date(iso).getTime() - Date.now();
  const min = Math.round(Math.abs(ms) / 60000);
  const span = min < 90 ? `${min} min` : `${Math.round(min / 60)} h`;
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}

function duration(from, to) {
  if (!from || !to) return undefined;
  const s = (new Date(to).getTime() - new Date(from).getTime()) / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : `${Math.round(s / 60)} min`;
}

function badge(text) {
  return el('span', { class: `badge s-${text}` }, text);
}

function facts(pairs) {
  const dl = el('dl', { class: 'facts' });
  for (const [k, v] of pairs)
    if (v !== undefined && v !== '' && v !== null) dl.append(el('dt', {}, k), el('dd', {}, v));
  return dl;
}

function json(label, value) {
  if (value === undefined) return undefined;
  return el('details', {}, el('summary', {}, label), el('pre', {}, JSON.stringify(value, null, 2)));
}

function stop() {
  clearTimeout(timer);
  timer = undefined;
}

// ---- sign-in -------------------------------------------------------------------------------------------------------

function showSignIn(message) {
  stop();
  sessionStorage.removeItem(TOKEN_KEY);
  who.textContent = '';
  signOutButton.hidden = true;
  const input = el('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', required: true });
  const form = el(
    'form',
    { class: 'signin', onsubmit: (e) => signIn(e, input) },
    el('label', { for: 'token' }, 'API token'),
    input,
    el('button', { type: 'submit' }, 'Sign in'),
  );
  main.replaceChildren(
    el('h1', {}, 'Sign in'),
    el('p', {}, 'Paste your firebreak API token. It is kept in this browser tab only, and sent to the API alone.'),
    message ? el('p', { class: 'error', role: 'alert' }, message) : undefined,
    form,
  );
  input.focus();
}

async function signIn(event, input) {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  try {
    await api('/v1/approvals?mine=true&pageSize=1');
  } catch (err) {
    showSignIn(err instanceof ApiError && err.status === 401 ? 'That token was refused.' : err.message);
    return;
  }
  route();
}

function signedIn() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  who.textContent = token ? `signed in (token …${token.slice(-4)})` : 'no token (the API asked for none)';
  signOutButton.hidden = !token;
}

signOutButton.addEventListener('click', () => showSignIn());

/**
 * Runs a page; a refused credential leads to the sign-in form, anything else to a message (and, for a live page, one
 * more try a little later: a restarting API must not freeze the timeline).
 */
async function guarded(fn, retry = true) {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return showSignIn('Your token was refused; sign in again.');
    say(`Could not load: ${err.message}`, true);
    if (retry && !(err instanceof ApiError && (err.status === 403 || err.status === 404))) {
      stop();
      timer = setTimeout(() => guarded(fn), POLL_MS * 2);
    }
  }
}

// ---- which gates are mine --------------------------------------------------------------------------------------------

/** Every gate the principal may decide now, across the pages of GET /v1/approvals?mine=true. */
async function myGates() {
  const out = [];
  let token;
  for (let i = 0; i < 20; i++) {
    const page = await api(`/v1/approvals?mine=true&pageSize=100${token ? `&pageToken=${enc(token)}` : ''}`);
    out.push(...page.items);
    token = page.nextPageToken;
    if (!token) break;
  }
  return out;
}

// ---- home: gates, executions, incidents -------------------------------------------------------------------------------

async function settle(promise) {
  try {
    return { ok: await promise };
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
    return { error: err.message };
  }
}

let homeShown;
async function home() {
  const [mine, gates, executions, incidents] = await Promise.all([
    settle(myGates()),
    settle(api('/v1/approvals?pageSize=100')),
    settle(api('/v1/executions?pageSize=50')),
    settle(api('/v1/incidents?pageSize=50')),
  ]);
  signedIn();
  const snapshot = JSON.stringify([mine, gates, executions, incidents]);
  if (snapshot !== homeShown) {
    homeShown = snapshot;
    renderHome(mine, gates, executions, incidents);
  }
  say(`Updated ${new Date().toLocaleTimeString()}`);
  timer = setTimeout(() => guarded(home), HOME_POLL_MS);
}

function renderHome(mine, gates, executions, incidents) {
  const gateOf = new Map((gates.ok ? gates.ok.items : []).map((g) => [g.executionId, g]));
  const mineIds = new Set((mine.ok || []).map((g) => g.executionId));
  const unavailable = (r) => el('p', { class: 'error' }, `Not available: ${r.error}`);

  const yours = mine.ok
    ? mine.ok.length === 0
      ? el('p', { class: 'muted' }, 'Nothing waits for your decision.')
      : el(
          'ul',
          {},
          mine.ok.map((g) =>
            el(
              'li',
              {},
              el('a', { href: `/console/executions/${enc(g.executionId)}` }, `${g.title}`),
              ` — ${g.runbookTitle}, ${g.severity}${g.resource ? `, ${g.resource}` : ''}; deadline `,
              time(g.deadline),
              ` (${relative(g.deadline)})`,
            ),
          ),
        )
    : unavailable(mine);

  const execTable = executions.ok
    ? table(
        ['Execution', 'Severity', 'Resource', 'Status', 'Pending gate', 'Deadline', 'Started'],
        executions.ok.items.map((x) => {
          const g = gateOf.get(x.id);
          return [
            el('a', { href: `/console/executions/${enc(x.id)}` }, x.id),
            x.severity ? badge(x.severity) : '',
            x.resource || '',
            badge(x.status || x.workflowStatus.toLowerCase()),
            g ? `${g.title}${mineIds.has(x.id) ? ' (yours to decide)' : ''}` : '',
            g ? el('span', {}, time(g.deadline), ` (${relative(g.deadline)})`) : '',
            time(x.startedAt),
          ];
        }),
        'No executions yet.',
      )
    : unavailable(executions);

  const incidentTable = incidents.ok
    ? table(
        ['Incident', 'Severity', 'Type', 'Resource', 'Status', 'Opened'],
        incidents.ok.items
          .filter((i) => !CLOSED_INCIDENT.includes(i.status) && i.workflowStatus === 'RUNNING')
          .map((i) => [
            i.id,
            i.severity ? badge(i.severity) : '',
            i.type || '',
            i.resource || '',
            badge(i.status || ''),
            time(i.startedAt),
          ]),
        'No open incidents.',
      )
    : unavailable(incidents);

  main.replaceChildren(
    el('h1', {}, 'Approval console'),
    el('section', { 'aria-labelledby': 'h-yours' }, el('h2', { id: 'h-yours' }, 'Waiting for your decision'), yours),
    el('section', { 'aria-labelledby': 'h-exec' }, el('h2', { id: 'h-exec' }, 'Executions'), execTable),
    el('section', { 'aria-labelledby': 'h-inc' }, el('h2', { id: 'h-inc' }, 'Open incidents'), incidentTable),
  );
}

function table(headings, rows, empty) {
  if (rows.length === 0) return el('p', { class: 'muted' }, empty);
  return el(
    'table',
    {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        headings.map((h) => el('th', { scope: 'col' }, h)),
      ),
    ),
    el(
      'tbody',
      {},
      rows.map((cells) =>
        el(
          'tr',
          {},
          cells.map((c) => el('td', {}, c)),
        ),
      ),
    ),
  );
}

// ---- one execution: gate, steps as a live timeline, rollback -----------------------------------------------------------

function executionPage(id) {
  let gateKey;
  let shown;
  let mineCache = { key: undefined, mine: false };
  const gateBox = el('section', { id: 'gate', 'aria-live': 'polite' });
  const body = el('div');

  const tick = async () => {
    stop();
    const x = await api(`/v1/executions/${enc(id)}`);
    signedIn();
    const p = x.pendingApproval;
    let mine = false;
    if (p) {
      const key = `${p.stepId}|${(p.approvedBy || []).length}`;
      if (mineCache.key !== key) {
        const gates = await myGates();
        mineCache = { key, mine: gates.some((g) => g.executionId === id && g.stepId === p.stepId) };
      }
      mine = mineCache.mine;
    }
    const key = p ? `${p.stepId}|${(p.approvedBy || []).length}|${mine}|${x.status}` : undefined;
    if (key !== gateKey) {
      gateKey = key;
      gateBox.replaceChildren(...(p && x.status === 'waiting-approval' ? renderGate(x, p, mine, tick) : []));
    }
    const snapshot = JSON.stringify(x);
    if (snapshot !== shown) {
      shown = snapshot;
      body.replaceChildren(...renderExecution(x));
    }
    if (main.firstChild !== header) main.replaceChildren(header, gateBox, body);
    header.textContent = x.title;
    document.title = `${x.title} · firebreak`;
    say(`${x.status} · updated ${new Date().toLocaleTimeString()}`);
    if (x.workflowStatus === 'RUNNING') timer = setTimeout(() => guarded(tick), POLL_MS);
  };
  const header = el('h1', {}, id);
  return guarded(tick);
}

function renderGate(x, p, mine, refresh) {
  const policy = p.policy || { roles: p.roles || [], min: 1, fourEyes: true };
  const out = [
    el('h2', {}, `Approval needed: ${p.title}`),
    p.instructions ? el('p', {}, p.instructions) : undefined,
    facts([
      ['Step', p.stepId],
      ['Deadline', el('span', {}, time(p.deadline), ` (${relative(p.deadline)}; then ${p.onTimeout})`)],
      ['Who may decide', policy.roles.length ? policy.roles.join(', ') : 'any approver'],
      [
        'Approvals needed',
        `${p.approvalsNeeded ?? policy.min} of ${policy.min}${policy.fourEyes ? ', not the starter' : ''}`,
      ],
      ['Approved by', (p.approvedBy || []).map((a) => `${a.id}${a.comment ? ` (“${a.comment}”)` : ''}`).join(', ')],
      [
        'Then runs',
        (p.next || [])
          .map((n) => `${n.title || n.stepId} (${n.action}${n.resource ? ` on ${n.resource}` : ''})`)
          .join('; '),
      ],
    ]),
  ];
  if (!mine) {
    out.push(el('p', { class: 'muted' }, 'You may not decide this gate.'));
    return [el('div', { class: 'gate' }, out)];
  }
  const comment = el('textarea', { id: 'comment', name: 'comment', maxlength: 2000 });
  const problem = el('p', { class: 'error', role: 'alert' });
  const approve = el('button', { type: 'submit', class: 'approve', value: 'approve' }, 'Approve');
  const reject = el('button', { type: 'submit', class: 'reject', value: 'reject' }, 'Reject');
  const form = el(
    'form',
    {
      'aria-label': `Decide ${p.title}`,
      onsubmit: async (e) => {
        e.preventDefault();
        const decision = e.submitter && e.submitter.value === 'reject' ? 'reject' : 'approve';
        approve.disabled = reject.disabled = true;
        problem.textContent = '';
        try {
          const r = await api(`/v1/executions/${enc(x.executionId)}/approvals/${enc(p.stepId)}`, {
            method: 'POST',
            body: JSON.stringify({ decision, comment: comment.value.trim() || undefined }),
          });
          say(
            r.gate === 'pending'
              ? `Your approval is recorded; ${r.approvalsNeeded} more needed.`
              : `${decision === 'approve' ? 'Approved' : 'Rejected'}: ${p.title}.`,
          );
          await guarded(refresh, false);
        } catch (err) {
          if (err instanceof ApiError && err.status === 401)
            return showSignIn('Your token was refused; sign in again.');
          problem.textContent = `Refused: ${err.message}`;
          approve.disabled = reject.disabled = false;
        }
      },
    },
    el('label', { for: 'comment' }, 'Comment (kept in the execution history)'),
    comment,
    el('div', { class: 'actions' }, approve, reject),
    problem,
  );
  out.push(form);
  return [el('div', { class: 'gate' }, out)];
}

function renderExecution(x) {
  const out = [
    facts([
      ['Execution', x.executionId],
      ['Runbook', `${x.runbookId} ${x.runbookVersion}`],
      ['Status', badge(x.status)],
      ['Severity', badge(x.severity)],
      ['Resource', x.resource],
      ['Incident', x.incidentId],
      ['Started by', x.startedBy && x.startedBy.id],
      ['Reason', x.reason],
      ['Started', time(x.startedAt)],
      ['Ended', time(x.endedAt)],
      ['Rollback window until', time(x.rollbackWindowUntil)],
    ]),
  ];
  if (x.failure)
    out.push(
      el('p', { class: 'error' }, `Failed${x.failure.stepId ? ` at ${x.failure.stepId}` : ''}: ${x.failure.message}`),
    );
  if (x.rollback) {
    out.push(
      el('h2', {}, 'Rollback'),
      facts([
        ['Trigger', x.rollback.trigger],
        ['Reason', x.rollback.reason],
        ['Requested by', x.rollback.requestedBy && x.rollback.requestedBy.id],
        ['Started', time(x.rollback.startedAt)],
        ['Ended', time(x.rollback.endedAt)],
        ['Complete', x.rollback.complete === undefined ? undefined : x.rollback.complete ? 'yes' : 'no'],
      ]),
    );
  }
  out.push(el('h2', {}, 'Steps'), el('ol', { class: 'timeline' }, x.steps.map(renderStep)));
  return out;
}

function renderStep(s) {
  const decisions = s.approvals || (s.approval ? [s.approval] : []);
  return el(
    'li',
    { id: `step-${s.id}`, 'data-status': s.status },
    el('h3', {}, `${s.title || s.id} `, badge(s.status)),
    facts([
      ['Step', `${s.id} (${s.kind}${s.action ? `: ${s.action}` : ''})`],
      ['Attempts', s.attempts ? String(s.attempts) : undefined],
      ['Started', time(s.startedAt)],
      ['Ended', time(s.endedAt)],
      ['Took', duration(s.startedAt, s.endedAt)],
      ['Deadline', s.status === 'waiting-approval' ? time(s.deadline) : undefined],
      [
        'Decisions',
        decisions
          .map(
            (d) =>
              `${d.decision} by ${d.decidedBy.id}${d.via === 'timeout' ? ' (timeout)' : ''}${d.comment ? `: “${d.comment}”` : ''}`,
          )
          .join('; '),
      ],
      ['Error', s.error && s.error.message],
    ]),
    json('Output', s.output),
    s.rollback
      ? el(
          'div',
          {},
          el('h4', {}, 'Rollback: ', s.rollback.action, ' ', badge(s.rollback.status)),
          facts([
            ['Attempts', s.rollback.attempts !== undefined ? String(s.rollback.attempts) : undefined],
            ['Started', time(s.rollback.startedAt)],
            ['Ended', time(s.rollback.endedAt)],
            ['Error', s.rollback.error && s.rollback.error.message],
          ]),
          json('Rollback output', s.rollback.output),
        )
      : undefined,
  );
}

// ---- routing ------------------------------------------------------------------------------------------------------------

function route() {
  stop();
  homeShown = undefined;
  const m = /^\/console\/executions\/([^/]+)\/?$/.exec(location.pathname);
  if (m) return executionPage(decodeURIComponent(m[1]));
  return guarded(home);
}

route();
