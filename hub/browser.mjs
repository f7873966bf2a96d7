// What hub/test.mjs and hub/grading.mjs share: logging in to the hub in Debian's Chromium
// (Playwright), requests and terminals inside a user's page, JupyterLab's menus.
import assert from 'node:assert/strict';

/** The hub's address, http://127.0.0.1:PORT (hub/test.sh sets HUB_URL). */
export const base = process.env.HUB_URL;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The notebook panel in front. */
export const PANEL = '.jp-NotebookPanel:not(.lm-mod-hidden)';

/** Logs u ({name, password}) in on a new page of ctx and returns the page. */
export async function login(ctx, u) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(60_000);
  await page.goto(`${base}/hub/login`);
  await page.fill('input[name=username]', u.name);
  await page.fill('input[name=password]', u.password);
  await page.click('input[type=submit], button[type=submit]');
  return page;
}

/** A request from inside the user's page (their cookies and XSRF token): {status, type, body}. */
export async function fetchIn(page, url, opts = {}) {
  return page.evaluate(async ([url, opts]) => {
    const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1];
    const headers = { ...(opts.headers || {}) };
    if (xsrf) headers['X-XSRFToken'] = decodeURIComponent(xsrf);
    const r = await fetch(url, { ...opts, headers, redirect: 'manual' });
    let body = '';
    try { body = await r.text(); } catch { /* opaque */ }
    return { status: r.status, type: r.type, body: body.slice(0, 2000) };
  }, [url, opts]);
}

/**
 * Runs one command line in a new terminal of the user's server and returns what it printed up to
 * the marker __DONE_42__ (typed as __DONE_$((6*7))__, so that the echo of the command never
 * matches).
 */
export async function terminal(page, prefix, command, ms = 300_000) {
  const t = await fetchIn(page, `${prefix}/api/terminals`, { method: 'POST' });
  assert.equal(t.status, 200, `POST ${prefix}/api/terminals: ${t.status} ${t.body}`);
  const name = JSON.parse(t.body).name;
  const text = await page.evaluate(([wsUrl, command, ms]) => new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    let buf = '';
    const timer = setTimeout(() => { ws.close(); reject(new Error(`terminal: no __DONE__ in ${ms} ms: ${buf.slice(-800)}`)); }, ms);
    ws.onopen = () => ws.send(JSON.stringify(['stdin', `${command}; echo __DONE_$((6*7))__\r`]));
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m[0] === 'stdout') buf += m[1];
      if (/__DONE_42__/.test(buf)) { clearTimeout(timer); ws.close(); resolve(buf); }
    };
    ws.onerror = () => reject(new Error('terminal websocket error'));
  }), [`${base.replace(/^http/, 'ws')}${prefix}/terminals/websocket/${name}`, command, ms]);
  await fetchIn(page, `${prefix}/api/terminals/${name}`, { method: 'DELETE' });
  return text;
}

/** Clicks JupyterLab's menu top, then each item in turn (a submenu's). */
export async function menu(page, top, ...items) {
  await page.click(`.lm-MenuBar-itemLabel:text-is("${top}")`);
  for (const item of items) await page.click(`.lm-Menu:visible .lm-Menu-itemLabel:text-is("${item}")`);
}

/** The code cells of the notebook in front: prompt, output text, stderr text, error outputs. */
export async function codeCells(page) {
  return page.$$eval(`${PANEL} .jp-Notebook .jp-CodeCell`, (els) => els.map((el) => ({
    prompt: (el.querySelector('.jp-InputPrompt')?.textContent || '').trim(),
    text: [...el.querySelectorAll('.jp-OutputArea-output')].map((o) => o.innerText).join('\n'),
    stderr: [...el.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')].map((o) => o.innerText).join('\n'),
    errors: el.querySelectorAll('[data-mime-type="application/vnd.jupyter.error"]').length,
  })));
}

/**
 * Run > Run All Cells in the notebook in front, and waits until every code cell has run and the
 * server's kernels are idle (the menu's click is repeated when nothing started in 60 s: on a loaded
 * machine it can be lost). Returns {seconds, again}.
 */
export async function runAll(page, prefix, timeoutMs, who) {
  const t1 = Date.now();
  let again = 0, started = false;
  await menu(page, 'Run', 'Run All Cells');
  for (;;) {
    assert.ok(Date.now() - t1 < timeoutMs, `${who}: Run All did not finish in ${timeoutMs / 1000} s`);
    const cs = await codeCells(page);
    const ks = JSON.parse((await fetchIn(page, `${prefix}/api/kernels`)).body);
    started ||= cs.some((c) => /^\[[\d*]+\]/.test(c.prompt)) || ks.some((k) => k.execution_state === 'busy');
    if (!started && Date.now() - t1 > 60_000) {
      again++;
      assert.ok(again <= 3, `${who}: Run All started nothing, three times`);
      await menu(page, 'Run', 'Run All Cells');
      await sleep(5000);
      continue;
    }
    if (cs.length && cs.every((c) => /^\[\d+\]/.test(c.prompt)) && ks.length && ks.every((k) => k.execution_state === 'idle')) break;
    await sleep(500);
  }
  return { seconds: (Date.now() - t1) / 1000, again };
}
