// The class hub driven in Debian's Chromium through Playwright (run by hub/test.sh, as root):
// every student given in HUB_STUDENTS logs in at the same time, opens exercise2.ipynb from their
// ~/cifarlab-labs, Run All (quick mode: the spawner passes CIFARLAB_QUICK=1), exports the PDF
// through File > Save and Export Notebook As > PDF (the download checked with pdftotext), and in a
// terminal of their own exports it again with jupyter nbconvert --to webpdf into their home. With
// HUB_CHECK_ISOLATION=1 the first student also tries the second's server (HTTP 403 or 404 wanted)
// and files (from a terminal and from a cell of their kernel), and writes to the shared tree; the
// teacher (HUB_TEACHER) opens the admin page, which a student may not. Every student's kernel
// shows its TMPDIR: /tmp/cifarlab-tmp-UID, mode 700, theirs (the first student cannot list the
// second's). With HUB_CHECK_LIMITS=1 the first student also runs, before Run All, a cell that
// allocates past the memory limit (while the others train) and, at the end, one that starts
// processes past the process limit: each must be stopped with cellguard's line in the cell, and
// the kernel must go on.
// Prints one JSON line "RESULT {...}" with each student's timings and what was seen.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { base, codeCells, fetchIn, login, menu, PANEL, runAll, sleep, terminal } from './browser.mjs';

const out = process.env.OUT;
const students = JSON.parse(process.env.HUB_STUDENTS); // [{name, password}]
const teacher = process.env.HUB_TEACHER ? JSON.parse(process.env.HUB_TEACHER) : null;
const isolation = process.env.HUB_CHECK_ISOLATION === '1';
const limits = process.env.HUB_CHECK_LIMITS === '1';
const MEM_LIMIT_GIB = Number(process.env.HUB_MEM_LIMIT_GIB || 3);
const PIDS_LIMIT = Number(process.env.HUB_PIDS_LIMIT || 1024);
const RUN_TIMEOUT = Number(process.env.HUB_RUN_TIMEOUT || 900) * 1000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const result = { students: {}, failures: [] };

// One cell in the student's running kernel (the notebook's session), through the kernel's websocket.
async function cell(page, prefix, code, ms = 120_000) {
  const s = await fetchIn(page, `${prefix}/api/sessions`);
  const kernel = JSON.parse(s.body).find((x) => x.path.endsWith('exercise2.ipynb')).kernel.id;
  return page.evaluate(([wsUrl, code, ms]) => new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    const id = `cifarlab-${Math.random()}`;
    let text = '';
    const timer = setTimeout(() => { ws.close(); reject(new Error(`cell: no reply in ${ms} ms: ${text}`)); }, ms);
    ws.onopen = () => ws.send(JSON.stringify({
      header: { msg_id: id, msg_type: 'execute_request', session: id, username: '', version: '5.3', date: new Date().toISOString() },
      parent_header: {}, metadata: {}, channel: 'shell', buffers: [],
      content: { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
    }));
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (m.parent_header?.msg_id !== id) return;
      if (m.msg_type === 'stream') text += m.content.text;
      if (m.msg_type === 'error') text += m.content.ename + ': ' + m.content.evalue;
      if (m.msg_type === 'status' && m.content.execution_state === 'idle') { clearTimeout(timer); ws.close(); resolve(text); }
    };
    ws.onerror = () => reject(new Error('kernel websocket error'));
  }), [`${base.replace(/^http/, 'ws')}${prefix}/api/kernels/${kernel}/channels`, code, ms]);
}

async function student(u, i) {
  const r = { login_s: 0, run_all_s: 0, pdf_menu_s: 0, pdf_terminal_s: 0 };
  result.students[u.name] = r;
  const ctx = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
  const t0 = Date.now();
  const page = await login(ctx, u);
  const prefix = `/user/${u.name}`;
  // The hub spawns the server (its progress page), then JupyterLab opens.
  await page.waitForURL(new RegExp(`${prefix}/lab`), { timeout: 240_000 });
  await page.waitForSelector('.jp-DirListing-item', { timeout: 120_000 });
  r.login_s = (Date.now() - t0) / 1000;
  const listing = await fetchIn(page, `${prefix}/api/contents`);
  r.labs = JSON.parse(listing.body).content.map((f) => f.name).sort();
  assert.ok(r.labs.includes('exercise2.ipynb'), `${u.name}: no exercise2.ipynb in ~/cifarlab-labs: ${r.labs}`);

  // Open exercise2.ipynb from the file browser; Run All.
  await page.dblclick('.jp-DirListing-item[title*="exercise2.ipynb"], .jp-DirListing-item:has-text("exercise2.ipynb")');
  await page.waitForSelector(`${PANEL} .jp-Notebook .jp-CodeCell`);
  await page.waitForSelector(`${PANEL} .jp-Notebook-ExecutionIndicator[data-status="idle"], ${PANEL} .jp-Toolbar-kernelName:has-text("Go")`, { timeout: 120_000 }).catch(() => {});
  await sleep(2000);
  if (limits && i === 0) {
    // A runaway cell: allocates (and touches) 1.5 GiB past the memory limit while the others train.
    // The limit stops it, the cell says so, and this kernel goes on to Run All below.
    const t = Date.now();
    const c = await cell(page, prefix, `%%
var keep [][]byte
for i := 1; i <= ${Math.ceil((MEM_LIMIT_GIB + 1.5) * 16)}; i++ {
	b := make([]byte, 64<<20)
	for j := 0; j < len(b); j += 4096 {
		b[j] = 1
	}
	keep = append(keep, b)
}
fmt.Println("NOT STOPPED", len(keep)*64, "MiB")`, 300_000);
    r.runaway = { s: (Date.now() - t) / 1000, output: c.replace(/\s+/g, ' ').slice(0, 400) };
    assert.doesNotMatch(c, /NOT STOPPED/, `${u.name}: the runaway cell was not stopped: ${c}`);
    assert.match(c, /cifarlab: the cell was stopped: your server reached its memory limit of \d/, `${u.name}: the runaway cell's output: ${c}`);
  }
  await menu(page, 'Edit', 'Clear Outputs of All Cells');
  await sleep(500);
  assert.equal((await codeCells(page)).filter((c) => /^\[\d+\]/.test(c.prompt) || c.text).length, 0, `${u.name}: outputs not cleared`);
  const ra = await runAll(page, prefix, RUN_TIMEOUT, u.name);
  r.run_all_s = ra.seconds;
  if (ra.again) r.run_all_again = ra.again;
  const cs = await codeCells(page);
  cs.forEach((c, k) => {
    assert.equal(c.errors, 0, `${u.name}: code cell ${k + 1} shows an error: ${c.text.slice(0, 400)}`);
    assert.doesNotMatch(c.stderr, /^(panic: |fatal error: |error|Error:|failed to run )|exit status \d+$/m, `${u.name}: code cell ${k + 1}: ${c.stderr.slice(0, 400)}`);
  });
  const acc = /Test accuracy: ([0-9.]+)/.exec(cs.map((c) => c.text).join('\n'));
  assert.ok(acc, `${u.name}: no "Test accuracy" printed`);
  r.test_accuracy = Number(acc[1]);
  await page.screenshot({ path: path.join(out, `${u.name}-exercise2.png`) });

  // The private temporary folder the spawner made: TMPDIR of the kernel, 0700, the student's.
  const uid = execFileSync('id', ['-u', u.name]).toString().trim();
  const tmp = await cell(page, prefix, '!echo "TMPDIR=$TMPDIR"; stat -c "TMPSTAT=%a %U %F" "$TMPDIR"');
  r.tmpdir = tmp.replace(/\s+/g, ' ').trim();
  assert.match(tmp, new RegExp(`TMPDIR=/tmp/cifarlab-tmp-${uid}\\n`), `${u.name}: the kernel's TMPDIR: ${tmp}`);
  assert.match(tmp, new RegExp(`TMPSTAT=700 ${u.name} directory`), `${u.name}: the kernel's TMPDIR: ${tmp}`);

  // File > Save and Export Notebook As > PDF.
  const t2 = Date.now();
  await menu(page, 'File', 'Save and Export Notebook As');
  const sub = page.locator('.lm-Menu:visible').nth(1);
  await sub.waitFor();
  const download = new Promise((resolve) => {
    page.once('download', resolve);
    ctx.once('page', (p) => p.once('download', resolve));
  });
  await sub.locator('.lm-Menu-itemLabel:text-is("PDF")').click();
  const d = await Promise.race([download, sleep(300_000).then(() => null)]);
  assert.ok(d, `${u.name}: no PDF download within 300 s`);
  const file = path.join(out, `${u.name}-exercise2.pdf`);
  await d.saveAs(file);
  r.pdf_menu_s = (Date.now() - t2) / 1000;
  const text = execFileSync('pdftotext', [file, '-']).toString();
  assert.match(text, /Test accuracy/, `${u.name}: the downloaded PDF has no "Test accuracy"`);

  // A terminal of their own: the PDF into their home with nbconvert.
  const t3 = Date.now();
  const term = await terminal(page, prefix,
    'cd ~/cifarlab-labs && jupyter nbconvert --to webpdf exercise2.ipynb >/tmp/nbconvert-$USER.log 2>&1; echo "PDF_RC=$? WHO=$(id -un)"');
  r.pdf_terminal_s = (Date.now() - t3) / 1000;
  const m = /PDF_RC=(\d+) WHO=(\S+)/.exec(term);
  assert.ok(m && m[1] === '0', `${u.name}: jupyter nbconvert --to webpdf in a terminal: ${JSON.stringify(term.slice(-700))}`);
  assert.equal(m[2], u.name, `${u.name}: the terminal runs as ${m[2]}`);

  if (isolation && i === 0 && students.length > 1) {
    const other = students[1].name;
    r.isolation = {};
    // The other student's server: through the hub with this student's cookies.
    const api = await fetchIn(page, `/user/${other}/api/contents`);
    r.isolation.other_api_status = api.status;
    assert.ok([403, 404].includes(api.status) || api.type === 'opaqueredirect',
      `${u.name} -> /user/${other}/api/contents: HTTP ${api.status}`);
    const p2 = await ctx.newPage();
    const resp = await p2.goto(`${base}/user/${other}/lab`);
    r.isolation.other_lab_status = resp.status();
    r.isolation.other_lab_url = p2.url().replace(base, '');
    assert.ok([403, 404].includes(resp.status()), `${u.name} -> /user/${other}/lab: HTTP ${resp.status()} at ${p2.url()}`);
    assert.doesNotMatch(p2.url(), new RegExp(`/user/${other}/lab`), `${u.name} reached ${other}'s JupyterLab`);
    await p2.close();
    // The hub's admin page is the teacher's.
    const adm = await fetchIn(page, '/hub/admin');
    r.isolation.student_admin_status = adm.status;
    assert.equal(adm.status, 403, `${u.name} -> /hub/admin: HTTP ${adm.status}`);
    // Files, from a terminal.
    const t = await terminal(page, prefix, [
      `cat /home/${other}/cifarlab-labs/exercise2.ipynb >/dev/null 2>&1; echo "READ_OTHER=$?"`,
      `ls /home/${other}/.cache >/dev/null 2>&1; echo "LS_OTHER=$?"`,
      `echo x >/home/${other}/cifarlab-labs/intruder 2>/dev/null; echo "WRITE_OTHER=$?"`,
      `touch /opt/cifarlab/cifar10/cifar-10-batches-py/test_batch 2>/dev/null; echo "WRITE_DATA=$?"`,
      `touch /opt/cifarlab/gomod/x /opt/cifarlab/pjrt/x /opt/cifarlab/gonb-tools/bin/x /opt/cifarlab/cifarlab/go.mod 2>/dev/null; echo "WRITE_SHARED=$?"`,
      `head -c 10 /opt/cifarlab/cifar10/cifar-10-batches-py/test_batch >/dev/null; echo "READ_DATA=$?"`,
    ].join('; '));
    for (const [k, want] of [['READ_OTHER', 'non-zero'], ['LS_OTHER', 'non-zero'], ['WRITE_OTHER', 'non-zero'], ['WRITE_DATA', 'non-zero'], ['WRITE_SHARED', 'non-zero'], ['READ_DATA', '0']]) {
      const v = new RegExp(`${k}=(\\d+)`).exec(t)?.[1];
      r.isolation[`terminal_${k}`] = v;
      assert.ok(v !== undefined && (want === '0' ? v === '0' : v !== '0'), `${u.name}: terminal ${k}=${v}, want ${want}`);
    }
    // Files, from a cell (GoNB's ! runs a shell command in the kernel, as the student).
    const otherTmp = `/tmp/cifarlab-tmp-${execFileSync('id', ['-u', other]).toString().trim()}`;
    const c = await cell(page, prefix,
      `!cat /home/${other}/cifarlab-labs/exercise2.ipynb >/dev/null; echo "CELL_READ_OTHER=$?"; touch /opt/cifarlab/cifar10/x; echo "CELL_WRITE_DATA=$?"; ls ${otherTmp} >/dev/null; echo "CELL_LS_OTHER_TMP=$?"; id -un`);
    r.isolation.cell = c.replace(/\s+/g, ' ').slice(0, 300);
    assert.match(c, /CELL_READ_OTHER=[1-9]/, `${u.name}: a cell read ${other}'s notebook: ${c}`);
    assert.match(c, /CELL_WRITE_DATA=[1-9]/, `${u.name}: a cell wrote the shared data: ${c}`);
    assert.match(c, /CELL_LS_OTHER_TMP=[1-9]/, `${u.name}: a cell listed ${other}'s temporary folder ${otherTmp}: ${c}`);
    assert.match(c, new RegExp(`Permission denied`), `${u.name}: the cell's output: ${c}`);
  }
  if (limits && i === 0) {
    // Processes: a cell that starts sleeps until it may not; the limit refuses the rest, the cell
    // says so, and the kernel still answers.
    const c = await cell(page, prefix, `%%
var started []*exec.Cmd
defer func() {
	for _, p := range started {
		p.Process.Kill()
		p.Wait()
	}
}()
for range ${PIDS_LIMIT + 200} {
	p := exec.Command("sleep", "60")
	if err := p.Start(); err != nil {
		fmt.Println("STARTED", len(started), err)
		for _, p := range started {
			p.Process.Kill()
			p.Wait()
		}
		os.Exit(1)
	}
	started = append(started, p)
}
fmt.Println("NOT STOPPED", len(started))`, 300_000);
    r.pids = c.replace(/\s+/g, ' ').slice(0, 400);
    assert.doesNotMatch(c, /NOT STOPPED/, `${u.name}: the process limit did not stop the cell: ${c}`);
    assert.match(c, new RegExp(`could not start more processes or threads: your server reached its limit of ${PIDS_LIMIT}`), `${u.name}: the process-limit cell's output: ${c}`);
    const alive = await cell(page, prefix, '!echo "ALIVE=$(id -un)"');
    assert.match(alive, new RegExp(`ALIVE=${u.name}`), `${u.name}: the kernel after the process limit: ${alive}`);
  }
  await ctx.close();
}

async function teacherCheck() {
  const ctx = await browser.newContext();
  const page = await login(ctx, teacher);
  await page.waitForURL(/\/(hub|user)\//, { timeout: 120_000 });
  const adm = await page.goto(`${base}/hub/admin`);
  result.teacher = { admin_status: adm.status(), admin_url: page.url().replace(base, '') };
  assert.equal(adm.status(), 200, `teacher -> /hub/admin: HTTP ${adm.status()}`);
  // The admin page itself (not the login page it redirects to when the login failed).
  assert.match(page.url(), /\/hub\/admin/, `teacher -> /hub/admin ended at ${page.url()}`);
  const me = await fetchIn(page, `/hub/api/user`);
  result.teacher.admin = me.status === 200 && JSON.parse(me.body).admin === true;
  assert.ok(result.teacher.admin, `teacher: /hub/api/user says ${me.status} ${me.body.slice(0, 200)}`);
  await ctx.close();
}

const t0 = Date.now();
const settled = await Promise.allSettled(students.map((u, i) => student(u, i)));
settled.forEach((s, i) => { if (s.status === 'rejected') result.failures.push(`${students[i].name}: ${String(s.reason?.message || s.reason).split('\n')[0]}`); });
if (teacher) {
  try { await teacherCheck(); } catch (e) { result.failures.push(`teacher: ${String(e.message).split('\n')[0]}`); }
}
result.wall_s = (Date.now() - t0) / 1000;
await browser.close();
console.log('RESULT ' + JSON.stringify(result));
process.exit(result.failures.length ? 1 : 0);
