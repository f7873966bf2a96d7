// The browser test of the labs in JupyterLab (run by run.sh, which starts the server), clicking
// as a student would (issue 18):
//   1. a new notebook from the Launcher's "Go (gonb)" tile, a three-layer model typed into its
//      cell with package keras and trained with lab.Fit: epoch lines and the live chart;
//   2. exercise2.ipynb opened from the file browser: Run All (trains), a layer's units edited in
//      the model cell and Run All (only that training runs again, one new run folder, every later
//      cell fine), Run All unchanged ("loaded run", nothing retrained);
//   3. File > Save and Export Notebook As > PDF, the download checked with pdftotext; the export
//      menu has no Qt items;
//   4. a copy of lab3.ipynb set to train long, quick mode off in its kernel (GoNB's %env) (issue 22):
//      Run All, Kernel > Interrupt Kernel during the training: the kernel is idle within IDLE_BOUND
//      and stays idle, nothing trains or is saved, the interrupted cell and each later cell say in
//      one line what happened, no panic;
//   5. no news pop-up at any time.
// Screenshots, the PDF, the saved notebooks and timings.json go to $OUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const base = process.env.LAB_URL;
const token = process.env.LAB_TOKEN;
const out = process.env.OUT;
const work = path.join(out, 'work'); // the server's root folder
const runsDir = process.env.CIFARLAB_RUNS_DIR;
const NB = 'exercise2.ipynb';
const NEW_NB = 'three-layers.ipynb'; // the name given to the launcher's notebook on its first save
const RUN_TIMEOUT = 240_000;
// The interrupt step's notebook: notebooks/lab3.ipynb with quick mode turned off in its kernel and
// its settings changed so that the training cell trains long (10,000 images, up to 100 epochs: 11+
// epochs, since early stopping waits 10) and is interrupted during its second epoch. Written into the server's folder before
// the page opens; the repository's notebook is only read.
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const INT_NB = 'lab3-interrupt.ipynb';
const INT_EPOCHS = 100;
const INT_ENV = '%env CIFARLAB_QUICK=0'; // GoNB's special command: quick mode off in that kernel
// After Kernel > Interrupt Kernel: the kernel idle (every queued cell done) within IDLE_BOUND, and
// still idle IDLE_STAY later. Each of the 7 cells after the training compiles and stops in one line
// (1–3 s on a quiet machine, up to ~10 s under heavy load); a cell that trained would take minutes.
const IDLE_BOUND = 120_000;
const IDLE_STAY = 15_000;

// The cell typed into the new notebook: GoNB's declarations, %%, then main's body.
const NEW_CELL = `import (
	"fmt"

	"github.com/cifarlab/cifarlab/keras"
	"github.com/cifarlab/cifarlab/lab"
)

%%
model := lab.Must(keras.Sequential([]int{32, 32, 3},
	keras.Flatten(),
	keras.Dense(64, keras.ReLU),
	keras.Dense(32, keras.ReLU),
	keras.Dense(10, keras.Softmax),
))
lab.Check(model.SetSeed(7))
lab.Check(model.Compile(keras.CompileConfig{
	Optimizer: keras.Adam(0.001),
	Loss:      keras.LossSparseCategoricalCrossentropy,
	Metrics:   []keras.Metric{keras.MetricAccuracy},
}))
train := lab.LoadData().Train.Head(600)
trained := lab.Fit(model, train, keras.FitConfig{Epochs: 2, BatchSize: 64, ValidationSplit: 0.2, Verbose: 2})
fmt.Printf("Trained %d epochs on %d images\\n", len(trained.History.Epochs), train.Len())`;

let browser, context, page, profile;
const testStart = Date.now();
let broken = false; // a failed step skips the ones after it
const results = []; // [name, 'ok' | 'FAIL' | 'skipped', seconds, message]
const timings = {};
const seen = {}; // what each step saw
const pageErrors = [];
const warnings = []; // glitches outside this project that the test works around

function step(name, fn) {
  test(name, async (t) => {
    if (broken) {
      results.push([name, 'skipped', 0, 'an earlier step failed']);
      return t.skip('an earlier step failed');
    }
    const t0 = Date.now();
    try {
      await fn(t);
      results.push([name, 'ok', (Date.now() - t0) / 1000, '']);
    } catch (e) {
      broken = true;
      // The kernel builds every cell against this clone's working tree: Go files edited during the
      // test make cells disagree (a run key Trained cannot find, a run trained again).
      const dialog = await page.locator('.jp-Dialog').allInnerTexts().catch(() => []);
      if (dialog.length) e.message += `\n(JupyterLab shows a dialog: ${dialog.join(' | ').replace(/\s+/g, ' ').slice(0, 300)})`;
      const edited = goFilesChangedSince(testStart);
      if (edited.length) e.message += `\n(Go files of the clone changed during the test: ${edited.join(', ')})`;
      results.push([name, 'FAIL', (Date.now() - t0) / 1000, String(e.message).split('\n')[0] +
        (dialog.length ? ` (dialog: ${dialog.join(' | ').replace(/\s+/g, ' ').slice(0, 120)})` : '') +
        (edited.length ? ` (Go files changed during the test: ${edited.join(', ')})` : '')]);
      await shot(`failed-${name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => {});
      throw e;
    }
  });
}

// The clone's Go files (not under out/ or node_modules/) modified after time t (ms).
function goFilesChangedSince(t) {
  const root = ROOT;
  const found = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === 'out' || e.name === 'node_modules') continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.go$|^go\.(mod|sum)$/.test(e.name) && fs.statSync(p).mtimeMs > t) found.push(path.relative(root, p));
    }
  };
  try { walk(root); } catch { /* best effort */ }
  return found.slice(0, 10);
}

async function shot(name) {
  const file = path.join(out, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

async function api(p) {
  const r = await fetch(`${base}${p}`, { headers: { Authorization: `token ${token}` } });
  assert.ok(r.ok, `${p}: HTTP ${r.status}`);
  return r;
}

async function kernelsIdle() {
  const ks = await (await api('/api/kernels')).json();
  return ks.length > 0 && ks.every((k) => k.execution_state === 'idle');
}

async function waitKernelsIdle(what, ms = 90_000) {
  const t0 = Date.now();
  while (!(await kernelsIdle())) {
    assert.ok(Date.now() - t0 < ms, `${what}: the kernel did not go idle in ${ms / 1000} s`);
    await sleep(200);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PANEL = '.jp-NotebookPanel:not(.lm-mod-hidden)';

// The cells of the notebook in view, in order: type, prompt ("[3]:"), source, output text,
// images, tables, live chart areas.
async function cells() {
  return page.$$eval(`${PANEL} .jp-Notebook .jp-Cell`, (els) =>
    els.map((el) => {
      const outs = [...el.querySelectorAll('.jp-OutputArea-output')];
      return {
        code: el.classList.contains('jp-CodeCell'),
        prompt: (el.querySelector('.jp-InputPrompt')?.textContent || '').trim(),
        source: [...el.querySelectorAll('.jp-InputArea .cm-line')].map((l) => l.textContent).join('\n'),
        text: outs.map((o) => o.innerText).join('\n'),
        stderr: [...el.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]')].map((o) => o.innerText).join('\n'),
        errors: el.querySelectorAll('[data-mime-type="application/vnd.jupyter.error"]').length,
        images: [...el.querySelectorAll('.jp-OutputArea-output img')].map((i) => ({
          ok: i.complete && i.naturalWidth > 0 && i.naturalHeight > 0,
          w: i.naturalWidth, h: i.naturalHeight, live: !!i.closest('.cifarlab-live'),
        })),
        tables: [...el.querySelectorAll('.jp-OutputArea-output table')].map((tb) => ({
          rows: tb.querySelectorAll('tr').length, head: tb.querySelector('tr')?.innerText || '',
        })),
        live: el.querySelectorAll('.cifarlab-live').length,
      };
    }));
}

function count(prompt) {
  const m = /^\[(\d+)\]/.exec(prompt);
  return m ? Number(m[1]) : null;
}

// What the page saw since the last reset, recorded by the script added in before(): every
// distinct live chart and status line, and any "Jupyter news" question.
// With save, the last live chart seen is written to $OUT/save (the PNG as the page got it).
async function liveSeen(reset, save) {
  const r = await page.evaluate((reset) => {
    const L = window.__cifarlab;
    const r = { charts: L.charts.length, statuses: [...L.statuses], last: L.charts.at(-1) || '' };
    if (reset) { L.charts = []; L.statuses = []; }
    return r;
  }, reset);
  const m = /^data:image\/png;base64,(.*)$/.exec(r.last);
  if (save && m) fs.writeFileSync(path.join(out, save), Buffer.from(m[1], 'base64'));
  delete r.last;
  return r;
}

async function menu(top, ...items) {
  await closeListingGlitch(1);
  await page.click(`.lm-MenuBar-itemLabel:text-is("${top}")`);
  for (const item of items) await page.click(`.lm-Menu:visible .lm-Menu-itemLabel:text-is("${item}")`);
}

// Takes the screenshot `name` as soon as a live chart shows (it may show for a moment only: a
// quick training replaces it with the final chart within a second), until stop() is called.
// done() says whether it took it.
function shotWhenLive(name, ms) {
  const w = { active: true, taken: false };
  page.waitForSelector(`${PANEL} .cifarlab-live img`, { state: 'attached', timeout: ms })
    .then(() => (w.active ? shot(name).then(() => { w.taken = true; }) : null))
    .catch(() => {});
  return { stop: () => { w.active = false; }, done: () => w.taken };
}

function find(cs, needle) {
  const i = cs.findIndex((c) => c.code && c.source.includes(needle));
  assert.ok(i >= 0, `no code cell with ${JSON.stringify(needle)}`);
  return i;
}

async function shotOfCell(i, name) {
  const cell = page.locator(`${PANEL} .jp-Notebook .jp-Cell`).nth(i);
  await cell.scrollIntoViewIfNeeded();
  await sleep(200);
  await shot(name);
}

// A cell that failed: an error output, or a failure on stderr (compile errors, panics).
function checkCellOK(c, what) {
  assert.equal(c.errors, 0, `${what} shows an error: ${c.text.slice(0, 600)}`);
  // GoNB's failures: "failed to run ... go build ...: exit status 1" (compile errors, shown
  // above it in HTML), "Error: ..." then "exit status 1" (lab.Check), "panic: ...", "exit status 2".
  assert.doesNotMatch(c.stderr, /^(panic: |fatal error: |signal: |error|Error:|ERROR|failed to run )|exit status \d+$/m,
    `${what} failed: ${c.stderr.slice(0, 600)}`);
  assert.doesNotMatch(c.text, /^(panic: |fatal error: )/m, `${what} panicked: ${c.text.slice(0, 600)}`);
  for (const img of c.images) assert.ok(img.ok, `${what}: an image was not decoded`);
}

// Keras's epoch lines, as lab.Fit prints them with Verbose 2.
function checkEpochLines(text, epochs, what) {
  for (let e = 1; e <= epochs; e++) assert.match(text, new RegExp(`^Epoch ${e}/${epochs}$`, 'm'), `${what}: no "Epoch ${e}/${epochs}"`);
  const lines = text.match(/^\d+\/\d+ - \S+ - \S+\/step - accuracy: [0-9.]+ - loss: [0-9.]+ - val_accuracy: [0-9.]+ - val_loss: [0-9.]+/gm) || [];
  assert.equal(lines.length, epochs, `${what}: ${lines.length} epoch result lines, want ${epochs}:\n${text.slice(0, 800)}`);
}

function runs() {
  // A run's folder is named after its 16-hex-digit key (predictions/ holds saved predictions).
  return fs.readdirSync(runsDir).filter((d) => /^[0-9a-f]{16}$/.test(d) && fs.statSync(path.join(runsDir, d)).isDirectory()).sort();
}
// Every file and folder under the runs folder, with sizes and times: nothing added, nothing rewritten.
function runsTree(dir = runsDir, rel = '') {
  const found = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const st = fs.statSync(p);
    found.push(`${path.join(rel, e.name)}${e.isDirectory() ? '/' : ''} ${st.size} ${st.mtimeMs}`);
    if (e.isDirectory()) found.push(...runsTree(p, path.join(rel, e.name)));
  }
  return found.sort();
}
const mtimes = () => runs().map((d) => `${d} ${fs.statSync(path.join(runsDir, d)).mtimeMs}`);

// Edit > Clear Outputs of All Cells, Run > Run All Cells, then waits until every code cell has
// its execution count and the kernel is idle. Takes the screenshot `duringShot` while the live
// chart shows, when it shows.
async function runAll(duringShot) {
  await menu('Edit', 'Clear Outputs of All Cells');
  const stale = (await cells()).filter((c) => c.code && (count(c.prompt) !== null || c.text));
  assert.equal(stale.length, 0, 'outputs not cleared');
  const t0 = Date.now();
  const liveShot = duringShot ? shotWhenLive(duringShot, RUN_TIMEOUT) : null;
  await menu('Run', 'Run All Cells');
  for (;;) {
    assert.ok(Date.now() - t0 < RUN_TIMEOUT, 'Run All did not finish in time');
    const cs = (await cells()).filter((c) => c.code);
    if (cs.every((c) => count(c.prompt) !== null) && (await kernelsIdle())) break;
    await sleep(100);
  }
  if (liveShot) {
    liveShot.stop();
    seen[`${duringShot}.png`] = liveShot.done();
  }
  return (Date.now() - t0) / 1000;
}

// The checks of one Run All of exercise2.ipynb: every cell ran without an error, the charts and
// the report are there, the test accuracy is printed.
function checkExercise(cs) {
  const code = cs.filter((c) => c.code);
  assert.equal(code.length, 6, 'exercise2 has 6 code cells');
  code.forEach((c, k) => {
    assert.notEqual(count(c.prompt), null, `code cell ${k + 1} has no execution count (${c.prompt})`);
    checkCellOK(c, `code cell ${k + 1}`);
  });
  const train = cs[find(cs, 'lab.Fit(newModel()')];
  assert.equal(train.live, 0, 'the live chart area is still live after training');
  assert.equal(train.images.length, 1, 'the training cell shows one chart (the final curves)');
  assert.match(train.text, /^Trained \d+ epochs; best epoch/m);
  const evalCell = cs[find(cs, 'Test accuracy')];
  const acc = /^Test accuracy: ([0-9.]+)$/m.exec(evalCell.text);
  assert.ok(acc, `the evaluation cell printed no test accuracy: ${evalCell.text.slice(0, 300)}`);
  const plotCell = cs[find(cs, 'plots.ConfusionMatrix')];
  assert.ok(plotCell.images.filter((i) => i.ok && i.w > 200 && i.h > 200).length >= 2,
    'the training curves and the confusion matrix are rendered');
  const report = plotCell.tables.find((t) => /precision/.test(t.head) && /recall/.test(t.head));
  assert.ok(report, 'the classification report is rendered as a table');
  assert.ok(report.rows >= 11, `the classification report has ${report.rows} rows`);
  return { train: train.text, acc: Number(acc[1]), summary: cs[find(cs, 'newModel().Summary()')].text };
}

// Ctrl-S; a new notebook's first save asks for a name (JupyterLab's "Rename file" dialog).
async function save(name) {
  await page.keyboard.press('Control+s');
  const dialog = page.locator('.jp-Dialog');
  if (name && (await dialog.waitFor({ timeout: 5000 }).then(() => true, () => false))) {
    const input = dialog.locator('input[type="text"]');
    await input.fill(name);
    await shot('new-notebook-save-as');
    await dialog.locator('.jp-mod-accept').click();
    await dialog.waitFor({ state: 'detached' });
  }
  const t0 = Date.now();
  while ((await page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current.jp-mod-dirty').count()) > 0) {
    assert.ok(Date.now() - t0 < 20_000, 'the notebook was not saved');
    await sleep(100);
  }
  if (name) await closeListingGlitch(2000);
  await sleep(500);
}

// jupyter_server's folder listing races a rename (a file listed, then renamed before it is read,
// makes the whole listing a 404), and JupyterLab then says: Directory not found: "". An upstream
// glitch, not this project's: noted in the summary, closed as a student would close it.
async function closeListingGlitch(ms) {
  const glitch = page.locator('.jp-Dialog', { hasText: 'Directory not found' });
  if (!(await glitch.waitFor({ timeout: ms }).then(() => true, () => false))) return;
  warnings.push('JupyterLab showed "Directory not found" after the rename on first save (jupyter_server listed the folder during the rename); closed');
  await shot('directory-not-found');
  await glitch.locator('.jp-mod-accept, .jp-mod-reject').first().click();
  await glitch.waitFor({ state: 'detached' });
}

// lab3.ipynb set to train long in a server that runs in quick mode (CIFARLAB_QUICK=1, which lab
// applies by itself: 2,000 images, 3 epochs): its settings cell starts with GoNB's
// `%env CIFARLAB_QUICK=0`, which turns quick mode off in this notebook's kernel for the cells run
// after it (the server and the other notebooks stay in quick mode), and says TrainSamples = 10000
// and Epochs = INT_EPOCHS instead of 50,000 and 50; every other cell as it is, outputs cleared.
function writeInterruptNotebook() {
  const nb = JSON.parse(fs.readFileSync(path.join(ROOT, 'notebooks', 'lab3.ipynb'), 'utf8'));
  const code = nb.cells.filter((c) => c.cell_type === 'code');
  const settings = code.filter((c) => /^\s*Epochs\s*=\s*\d+\b/m.test(c.source.join('')));
  assert.equal(settings.length, 1, 'lab3.ipynb has one settings cell with Epochs = N');
  assert.equal(settings[0], code[0], 'lab3.ipynb\'s settings cell is its first code cell');
  let src = settings[0].source.join('');
  const edits = [[/^(\s*TrainSamples\s*=\s*)50000\b/m, '$110000'], [/^(\s*Epochs\s*=\s*)50\b/m, `$1${INT_EPOCHS}`]];
  for (const [re, to] of edits) {
    assert.match(src, re, `lab3.ipynb's settings cell: no ${re}`);
    src = src.replace(re, to);
  }
  src = `${INT_ENV}\n${src}`;
  settings[0].source = src.split(/(?<=\n)/);
  for (const c of nb.cells) if (c.cell_type === 'code') { c.outputs = []; c.execution_count = null; }
  fs.writeFileSync(path.join(work, INT_NB), JSON.stringify(nb, null, 1) + '\n');
}

before(async () => {
  writeInterruptNotebook();
  profile = process.env.CHROMIUM_PROFILE || fs.mkdtempSync(path.join(os.tmpdir(), 'cifarlab-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-crash-reporter', '--disable-breakpad'],
    viewport: { width: 1280, height: 1000 },
    acceptDownloads: true,
  });
  // In every page from its start: the live chart areas (every distinct chart and status line)
  // and any news question, for the page's whole life.
  await context.addInitScript(() => {
    window.__cifarlab = { charts: [], statuses: [], news: [] };
    const record = () => {
      const L = window.__cifarlab;
      for (const el of document.querySelectorAll('.cifarlab-live')) {
        const img = el.querySelector('img');
        const st = el.querySelector('.cifarlab-live-status')?.textContent || '';
        if (img && !L.charts.includes(img.src)) L.charts.push(img.src);
        if (st && !L.statuses.includes(st)) L.statuses.push(st);
      }
      const t = document.body?.innerText || '';
      const m = /[^\n]*Jupyter news[^\n]*/.exec(t);
      if (m && !L.news.includes(m[0])) L.news.push(m[0]);
    };
    new MutationObserver(record).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (e) => pageErrors.push(String(e.message).slice(0, 300)));
});

after(async () => {
  fs.writeFileSync(path.join(out, 'timings.json'), JSON.stringify({ timings, seen, pageErrors, warnings, results }, null, 1) + '\n');
  await context?.close().catch(() => {});
  if (!process.env.CHROMIUM_PROFILE) fs.rmSync(profile, { recursive: true, force: true });
  const w = Math.max(...results.map((r) => r[0].length));
  console.log('\nbrowser test steps:');
  for (const [name, st, s, msg] of results) {
    console.log(`  ${st.padEnd(7)} ${name.padEnd(w)} ${s.toFixed(1).padStart(6)} s${msg ? `  ${msg}` : ''}`);
  }
  for (const w of warnings) console.log(`  warning: ${w}`);
  fs.writeFileSync(path.join(out, 'result'), results.every((r) => r[1] === 'ok') ? 'pass\n' : 'fail\n');
});

step('JupyterLab opens on the Launcher, kernel tile "Go (gonb)", no news question', async () => {
  await page.goto(`${base}/lab?token=${token}`);
  await page.waitForSelector('.jp-LauncherCard[data-category="Notebook"][title="Go (gonb)"]', { timeout: 60_000 });
  await sleep(2000); // the news question, where it comes, comes right after the start
  await shot('launcher');
  const news = await page.evaluate(() => window.__cifarlab.news);
  assert.deepEqual(news, [], 'a news question appeared');
});

step('new notebook from the Launcher: a three-layer keras model trained with lab.Fit', async () => {
  const before = runs();
  await page.click('.jp-LauncherCard[data-category="Notebook"][title="Go (gonb)"]');
  await page.waitForSelector(`${PANEL} .jp-CodeCell .cm-content`, { timeout: 60_000 });
  const t0 = Date.now();
  let sessions;
  for (;;) {
    sessions = await (await api('/api/sessions')).json();
    if (sessions.length === 1 && sessions[0].kernel?.execution_state === 'idle') break;
    assert.ok(Date.now() - t0 < 60_000, `the new notebook's kernel did not start: ${JSON.stringify(sessions)}`);
    await sleep(200);
  }
  assert.equal(sessions[0].kernel.name, 'gonb');
  assert.match(sessions[0].path, /^Untitled\d*\.ipynb$/);
  await page.click(`${PANEL} .jp-CodeCell .cm-content`);
  // Typed as one paste: key by key, the editor would close brackets and indent by itself.
  await page.keyboard.insertText(NEW_CELL);
  let cs = await cells();
  assert.equal(cs[0].source.trim(), NEW_CELL.trim(), 'the cell holds what was typed');
  await shot('new-notebook-typed');
  await liveSeen(true);
  const t1 = Date.now();
  const liveShot = shotWhenLive('new-notebook-training', RUN_TIMEOUT);
  await page.keyboard.press('Shift+Enter');
  for (;;) {
    assert.ok(Date.now() - t1 < RUN_TIMEOUT, 'the cell did not finish in time');
    cs = await cells();
    if (count(cs[0].prompt) !== null && (await kernelsIdle())) break;
    await sleep(100);
  }
  timings.new_notebook_cell_s = (Date.now() - t1) / 1000;
  liveShot.stop();
  seen['new-notebook-training.png'] = liveShot.done();
  const c = cs[0];
  checkCellOK(c, 'the new notebook\'s cell');
  checkEpochLines(c.text, 2, 'the new notebook\'s cell');
  assert.doesNotMatch(c.text, /loaded run/, 'the new model was trained, not loaded');
  assert.match(c.text, /^Trained 2 epochs on 600 images$/m);
  const live = await liveSeen(true, 'new-notebook-live-chart.png');
  seen.new_notebook = { live, text: c.text };
  assert.ok(live.charts >= 1, 'no live chart (an image in the output area) while training');
  assert.ok(live.statuses.some((s) => /^Epoch 1\/2 · /.test(s)), `live statuses: ${live.statuses}`);
  assert.equal(c.live, 0, 'the live area is still live after training');
  assert.equal(c.images.length, 1, 'the final chart (one PNG) is in the output');
  assert.ok(c.images[0].ok && c.images[0].w > 200, 'the final chart is decoded');
  assert.equal(runs().length, before.length + 1, 'one new memoized run');
  await shot('new-notebook-trained');
  await save(NEW_NB);
  const saved = JSON.parse(fs.readFileSync(path.join(work, NEW_NB), 'utf8'));
  assert.equal(saved.metadata.kernelspec.name, 'gonb');
  const outs = saved.cells[0].outputs;
  assert.ok(outs.some((o) => o.output_type === 'display_data' && o.data['image/png']), 'the saved cell holds the final PNG');
  assert.ok(!outs.some((o) => o.data?.['text/html']), 'the saved cell holds no live HTML');
  // File > Close and Shut Down Notebook…: the kernel goes.
  await menu('File', 'Close and Shut Down Notebook…');
  await page.locator('.jp-Dialog .jp-mod-accept').click();
  const t2 = Date.now();
  while ((await (await api('/api/kernels')).json()).length > 0) {
    assert.ok(Date.now() - t2 < 20_000, 'the new notebook\'s kernel was not shut down');
    await sleep(200);
  }
});

step('open exercise2.ipynb from the file browser, kernel gonb idle', async () => {
  await page.dblclick(`.jp-DirListing-item[title*="${NB}"], .jp-DirListing-item:has-text("${NB}")`);
  await page.waitForSelector(`${PANEL} .jp-CodeCell .cm-content`, { timeout: 60_000 });
  await waitKernelsIdle('exercise2.ipynb', 60_000);
  const sessions = await (await api('/api/sessions')).json();
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0].path, NB);
  assert.equal(sessions[0].kernel.name, 'gonb');
  assert.equal((await cells()).filter((c) => c.code).length, 6);
});

step('exercise2 Run All: every cell ran, it trained, live chart, test accuracy', async () => {
  const before = runs();
  await liveSeen(true);
  timings.run_all_first_s = await runAll('exercise2-training');
  const cs = await cells();
  seen.first = checkExercise(cs);
  checkEpochLines(seen.first.train, 3, 'the training cell');
  // The settings cell says Epochs = 50: lab itself cuts it to 3 in the server's quick mode, and says so.
  assert.match(seen.first.train, /^Quick mode \(CIFARLAB_QUICK=1, set by the test runner\): 3 epochs instead of 50, /m,
    `the training cell does not say that quick mode applies:\n${seen.first.train.slice(0, 400)}`);
  assert.doesNotMatch(seen.first.train, /loaded run/, 'the first run trained');
  const live = await liveSeen(true, 'exercise2-live-chart.png');
  seen.first.live = live;
  assert.ok(live.charts >= 2, `the live chart changed ${live.charts} time(s) during training, want >= 2`);
  assert.ok(live.statuses.some((s) => /^Epoch 1\/3 .* left$/.test(s)), `statuses: ${live.statuses}`);
  assert.equal(runs().length, before.length + 1, 'one new memoized run');
  await shotOfCell(find(cs, 'lab.Fit(newModel()'), 'exercise2-trained');
  await shotOfCell(find(cs, 'plots.ConfusionMatrix'), 'exercise2-evaluation');
});

step('warm cell: the model summary cell again (Ctrl-Enter), three times', async () => {
  const cs = await cells();
  const i = find(cs, 'newModel().Summary()');
  const cell = page.locator(`${PANEL} .jp-Notebook .jp-Cell`).nth(i);
  const times = [];
  for (let k = 0; k < 3; k++) {
    const prev = count((await cells())[i].prompt);
    await cell.locator('.jp-InputPrompt').click();
    const t0 = Date.now();
    await page.keyboard.press('Control+Enter');
    for (;;) {
      const c = (await cells())[i];
      if ((count(c.prompt) ?? 0) > prev && /Total params/.test(c.text)) break;
      assert.ok(Date.now() - t0 < 60_000, 'the summary cell did not finish');
      await sleep(20);
    }
    times.push((Date.now() - t0) / 1000);
  }
  timings.warm_summary_cell_s = times;
  await waitKernelsIdle('the summary cell');
});

step('edit the model cell: the first Dense(256, ELU) becomes Dense(128, ELU)', async () => {
  const line = page.locator(`${PANEL} .cm-line`, { hasText: 'keras.Dense(256, keras.ELU)' }).first();
  await line.scrollIntoViewIfNeeded();
  // Double-click the number to select it, type the new one.
  await line.locator('span', { hasText: /^256$/ }).dblclick();
  await page.keyboard.type('128');
  await page.keyboard.press('Escape');
  const cs = await cells();
  const src = cs[find(cs, 'func newModel()')].source;
  assert.equal((src.match(/keras\.Dense\(128, keras\.ELU\)/g) || []).length, 1, `model cell after the edit:\n${src}`);
  assert.equal((src.match(/keras\.Dense\(256, keras\.ELU\)/g) || []).length, 3, `model cell after the edit:\n${src}`);
  assert.match(src, /keras\.Flatten\(\),\n\s*keras\.Dense\(128, keras\.ELU\)\.WithInitializer\(keras\.HeNormal\),\n/);
  await shotOfCell(find(cs, 'func newModel()'), 'exercise2-edited');
});

step('Run All after the edit: only the training retrained (one new run), later cells fine', async () => {
  const before = runs();
  timings.run_all_after_edit_s = await runAll('exercise2-training-after-edit');
  const cs = await cells();
  seen.edited = checkExercise(cs);
  checkEpochLines(seen.edited.train, 3, 'the training cell');
  assert.doesNotMatch(seen.edited.train, /loaded run/, 'the edited model was trained');
  assert.match(seen.edited.summary, /\(None, 128\)/, 'the summary shows the 128-unit layer');
  const live = await liveSeen(true, 'exercise2-live-chart-after-edit.png');
  assert.ok(live.charts >= 2 && live.statuses.some((s) => s.startsWith('Epoch 3/3')), `live: ${JSON.stringify(live)}`);
  const now = runs();
  assert.equal(now.length, before.length + 1, `want exactly one new run folder: before ${before}, now ${now}`);
  assert.ok(before.every((d) => now.includes(d)), 'no run folder went away');
  seen.edited.newRun = now.filter((d) => !before.includes(d));
  await shotOfCell(find(cs, 'lab.Fit(newModel()'), 'exercise2-retrained');
  await shotOfCell(find(cs, 'Test accuracy'), 'exercise2-evaluation-after-edit');
});

step('Run All unchanged: the training cell loads the run, nothing retrained', async () => {
  const before = mtimes();
  timings.run_all_unchanged_s = await runAll(null);
  const cs = await cells();
  const again = checkExercise(cs);
  assert.match(again.train, new RegExp(`^loaded run ${seen.edited.newRun[0]} from `, 'm'), `the edited run was loaded:\n${again.train.slice(0, 400)}`);
  checkEpochLines(again.train, 3, 'the loaded run\'s epoch lines');
  assert.equal(again.acc, seen.edited.acc, 'the loaded run gives the edited run\'s test accuracy');
  assert.equal((await liveSeen(true)).charts, 0, 'no live chart for a loaded run');
  assert.deepEqual(mtimes(), before, 'no new or rewritten run folder');
  await shotOfCell(find(cs, 'lab.Fit(newModel()'), 'exercise2-loaded');
});

step('File > Save and Export Notebook As > PDF: menu without Qt, the download, pdftotext', async () => {
  await page.click('.lm-MenuBar-itemLabel:text-is("File")');
  await page.click('.lm-Menu:visible .lm-Menu-itemLabel:text-is("Save and Export Notebook As")');
  const sub = page.locator('.lm-Menu:visible').nth(1);
  await sub.waitFor();
  const labels = (await sub.locator('.lm-Menu-itemLabel').allInnerTexts()).map((s) => s.trim()).filter(Boolean);
  seen.export_menu = labels;
  assert.ok(labels.includes('PDF'), `the export menu: ${labels}`);
  assert.ok(!labels.some((l) => /qt/i.test(l)), `the export menu lists a Qt export: ${labels}`);
  await shot('export-menu');
  const t0 = Date.now();
  const download = new Promise((resolve) => {
    page.once('download', resolve);
    context.once('page', (p) => p.once('download', resolve)); // where it opens in a new tab
  });
  await sub.locator('.lm-Menu-itemLabel:text-is("PDF")').click();
  let timer;
  const d = await Promise.race([download, new Promise((r) => { timer = setTimeout(() => r(null), 180_000); })]);
  clearTimeout(timer);
  assert.ok(d, 'no download within 180 s');
  const file = path.join(out, 'exercise2.pdf');
  await d.saveAs(file);
  timings.pdf_export_s = (Date.now() - t0) / 1000;
  assert.match(d.url(), /\/nbconvert\/pdf\/exercise2\.ipynb\?download=true$/);
  assert.equal(d.suggestedFilename(), 'exercise2.pdf');
  const pdf = fs.readFileSync(file);
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-']).toString().replace(/\s+/g, ' ');
  // best.ValLoss) ends the training cell's longest line: there only when long lines wrap.
  for (const s of ['Exercise 2', 'keras.Sequential', 'Dense', 'keras.Dense(128, keras.ELU)', 'keras.Dense(256, keras.ELU)',
    'Test accuracy', 'loaded run', 'precision', 'best.ValLoss)']) {
    assert.ok(text.includes(s), `the PDF has no ${JSON.stringify(s)}`);
  }
  const images = execFileSync('pdfimages', ['-list', file]).toString().trim().split('\n').length - 2;
  assert.ok(images >= 3, `the PDF has ${images} images, want the final training curves, the curves and the confusion matrix`);
  seen.pdf = { bytes: pdf.length, images };
  // The export saved the notebook first: the edit and a plain PNG chart are on disk.
  const saved = JSON.parse(fs.readFileSync(path.join(work, NB), 'utf8'));
  const src = (needle) => saved.cells.find((c) => c.source.join('').includes(needle));
  assert.match(src('func newModel()').source.join(''), /keras\.Dense\(128, keras\.ELU\)/);
  const displays = src('lab.Fit(newModel()').outputs.filter((o) => o.output_type === 'display_data');
  assert.equal(displays.length, 1, 'the saved training cell holds one chart');
  assert.ok(displays[0].data['image/png'] && !displays[0].data['text/html'], 'the saved chart is a PNG, not the live HTML');
  await shot('after-export');
});

// The Jupyter kernel of the notebook in view is idle: the server says so (REST), the notebook's
// toolbar indicator says so, and no cell waits ("[*]").
async function notebookIdle() {
  if (!(await kernelsIdle())) return false;
  if ((await page.locator(`${PANEL} .jp-Notebook-ExecutionIndicator[data-status="idle"]`).count()) !== 1) return false;
  return (await cells()).every((c) => !c.code || !/^\[\*\]/.test(c.prompt));
}

// A cell's output lines, without blank ones.
const lines = (t) => t.split('\n').map((l) => l.trim()).filter(Boolean);

step('lab3 Run All, Kernel > Interrupt Kernel during training: idle in seconds, nothing trains, one line per cell', async () => {
  // The exercise's notebook goes, as a student would close it.
  if (await page.locator(PANEL).count()) {
    await menu('File', 'Close and Shut Down Notebook…');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    const t0 = Date.now();
    while ((await (await api('/api/kernels')).json()).length > 0) {
      assert.ok(Date.now() - t0 < 20_000, 'exercise2\'s kernel was not shut down');
      await sleep(200);
    }
  }
  await page.dblclick(`.jp-DirListing-item[title*="${INT_NB}"], .jp-DirListing-item:has-text("${INT_NB}")`);
  await page.waitForSelector(`${PANEL} .jp-CodeCell .cm-content`, { timeout: 60_000 });
  await waitKernelsIdle(INT_NB, 60_000);
  let cs = await cells();
  const settingsAt = cs.findIndex((c) => c.code);
  assert.ok(cs[settingsAt].source.startsWith(`${INT_ENV}\n`), `${INT_NB}'s first code cell does not start with ${INT_ENV}`);
  const trainAt = find(cs, 'lab.Fit(newModel()');
  const later = cs.map((c, i) => i).filter((i) => i > trainAt && cs[i].code);
  assert.ok(later.length >= 5, `${INT_NB}: ${later.length} code cells after the training cell`);
  // The training cell declares trained(), which asks lab.Trained for what the cell's lab.Fit trains
  // (the same model, images and settings); every later cell calls it and none trains or declares it.
  const args = 'newModel(), trainImages(), fitConfig()';
  assert.ok(/^func trained\(\) \*lab\.TrainedModel \{\s*return lab\.Trained\((.*)\)\s*\}$/m.exec(cs[trainAt].source)?.[1] === args,
    `the training cell does not declare trained() with lab.Trained(${args}):\n${cs[trainAt].source}`);
  assert.ok(cs[trainAt].source.includes(`lab.Fit(${args})`), `the training cell does not train lab.Fit(${args})`);
  assert.ok(later.every((i) => /\btrained\(\)/.test(cs[i].source) && !/\blab\.(Fit|Trained)\(|func trained\(/.test(cs[i].source)),
    'every cell after the training calls trained() (and no other training or trained())');
  const tree = runsTree();
  const before = runs();

  // Run All; the training under way (its second epoch begun), then Kernel > Interrupt Kernel.
  await menu('Run', 'Run All Cells');
  const t0 = Date.now();
  for (;;) {
    assert.ok(Date.now() - t0 < RUN_TIMEOUT, 'the training cell did not reach its second epoch in time');
    cs = await cells();
    const t = cs[trainAt].text;
    assert.doesNotMatch(t, /training interrupted|^Trained \d+|^\d+ epochs; best epoch/m, `the training ended by itself:\n${t.slice(-400)}`);
    assert.doesNotMatch(t, /^Quick mode/m, `quick mode is on in ${INT_NB}'s kernel despite ${INT_ENV}:\n${t.slice(0, 400)}`);
    if (new RegExp(`^Epoch 2/${INT_EPOCHS}$`, 'm').test(t)) break;
    await sleep(100);
  }
  timings.interrupt_run_all_to_epoch2_s = (Date.now() - t0) / 1000;
  // GoNB's answer to %env, in the settings cell.
  assert.match(cs[settingsAt].text, /^Set: CIFARLAB_QUICK="0"$/m, `the settings cell: ${cs[settingsAt].text.slice(0, 300)}`);
  await shotOfCell(trainAt, 'lab3-interrupt-training');
  await menu('Kernel', 'Interrupt Kernel');
  const t1 = Date.now();

  // Idle within IDLE_BOUND: every queued cell ran (or was dropped) and the kernel waits.
  while (!(await notebookIdle())) {
    assert.ok(Date.now() - t1 < IDLE_BOUND, `the kernel was still busy ${IDLE_BOUND / 1000} s after the interrupt` +
      ` (cells: ${(await cells()).filter((c) => c.code).map((c) => c.prompt).join(' ')})`);
    await sleep(100);
  }
  timings.interrupt_to_idle_s = (Date.now() - t1) / 1000;
  // ... and it stays idle: no cell runs later, no run folder appears.
  const counts = (await cells()).map((c) => c.prompt);
  const t2 = Date.now();
  while (Date.now() - t2 < IDLE_STAY) {
    assert.ok(await kernelsIdle(), `the kernel went busy again ${((Date.now() - t1) / 1000).toFixed(1)} s after the interrupt`);
    assert.deepEqual(runs(), before, 'a run folder appeared after the interrupt');
    await sleep(250);
  }
  cs = await cells();
  assert.deepEqual(cs.map((c) => c.prompt), counts, 'a cell ran after the kernel had gone idle');
  assert.ok(await notebookIdle(), 'the notebook is not idle at the end');
  // Nothing trained and nothing was saved: the runs folder is as it was, file for file.
  assert.deepEqual(runsTree(), tree, 'the runs folder changed: something trained or was saved');

  // What the page shows and, saved (Ctrl-S), what the notebook holds: per output, its type. GoNB
  // ends a failed cell program with "exit status 1" twice: on stderr and as the cell's error output
  // (its traceback; JupyterLab shows both as stderr).
  await save(null);
  const saved = JSON.parse(fs.readFileSync(path.join(work, INT_NB), 'utf8')).cells.filter((c) => c.cell_type === 'code');
  const codeAt = (i) => cs.slice(0, i).filter((x) => x.code).length; // cs index -> saved code cell index
  const outputsOf = (i) => {
    const o = saved[codeAt(i)].outputs;
    const text = (x) => (Array.isArray(x) ? x.join('') : x || '');
    return {
      stdout: lines(o.filter((x) => x.output_type === 'stream' && x.name === 'stdout').map((x) => text(x.text)).join('')),
      stderr: lines(o.filter((x) => x.output_type === 'stream' && x.name === 'stderr').map((x) => text(x.text)).join('')),
      errors: o.filter((x) => x.output_type === 'error').map((x) => ({ ename: x.ename, evalue: x.evalue, traceback: x.traceback })),
      displays: o.filter((x) => x.output_type === 'display_data' || x.output_type === 'execute_result').map((x) => Object.keys(x.data)),
    };
  };
  const gonbEnd = (o, what) => {
    assert.ok(o.errors.length <= 1 && o.errors.every((e) => e.evalue === 'exit status 1' && e.traceback.join('\n') === 'exit status 1'),
      `${what}: the error output is not GoNB's "exit status 1": ${JSON.stringify(o.errors).slice(0, 600)}`);
  };
  const noPanic = (t, what) => assert.doesNotMatch(t, /panic[:(]|goroutine \d|^fatal error: |\[recovered\]/m, `${what} panicked:\n${t.slice(-800)}`);

  // The interrupted cell: one line that says what happened, no panic, no goroutine dump.
  const tc = cs[trainAt];
  const to = outputsOf(trainAt);
  seen.interrupted = { prompt: tc.prompt, text: tc.text.slice(-600), saved: to, live: tc.live, images: tc.images.length };
  noPanic(tc.text, 'the interrupted cell');
  noPanic(JSON.stringify(to), 'the interrupted cell (saved)');
  const said = new RegExp(`^Error: lab: training interrupted after (\\d+) of ${INT_EPOCHS} epochs; nothing was saved \\(context canceled\\)$`);
  const told = to.stderr.filter((l) => !/^(exit status \d+|signal: interrupt|\^C)$/.test(l));
  assert.ok(told.length === 1 && said.test(told[0]) || told.length === 0 && to.stderr.includes('signal: interrupt'),
    `the interrupted cell does not say in one line what happened; stderr:\n${to.stderr.join('\n').slice(0, 800)}`);
  if (told.length) {
    const n = Number(said.exec(told[0])[1]);
    assert.ok(n >= 1 && n < INT_EPOCHS, `interrupted after ${n} epochs`);
  }
  assert.ok(tc.text.includes(told[0] ?? 'signal: interrupt'), 'the page shows the interrupted cell\'s line');
  gonbEnd(to, 'the interrupted cell');
  assert.ok(!to.stdout.some((l) => /^Trained |epochs; best epoch/.test(l)), 'the interrupted cell went on after the training');
  // When lab caught the interrupt (its line above), it closed the live chart of the training (the
  // curves of the epochs done, a PNG): no time left of a training that ended, on the page or in
  // the saved notebook. A program that the signal ended first (GoNB's "signal: interrupt") could
  // not: noted, not a failure.
  const stale = lines(tc.text).find((l) => /^Epoch \d+\/\d+ · .* left$/.test(l));
  if (told.length) {
    assert.ok(!tc.live && !stale, `the interrupted cell still shows its live chart${stale ? ` and "${stale}"` : ''}`);
    assert.ok(!to.displays.some((k) => k.includes('text/html')), `the saved interrupted cell holds live HTML: ${JSON.stringify(to.displays)}`);
  } else if (tc.live || stale) {
    warnings.push(`the interrupted cell (ended by the signal, before lab's message) still shows its live chart${stale ? ` and "${stale}"` : ''}`);
  }

  // Each later cell that ran: exactly the one line of lab.Trained (plus GoNB's "exit status 1"),
  // no training (no epoch line, no chart), no panic. A cell that did not run shows nothing.
  const notTrained = /^Error: lab: this model has not been trained with these settings on these images yet: run the training cell \(lab\.Fit\) first \(.*\)$/;
  seen.interrupt_later = [];
  for (const i of later) {
    const c = cs[i];
    const o = outputsOf(i);
    const what = `code cell ${codeAt(i) + 1} (after the training)`;
    seen.interrupt_later.push({ prompt: c.prompt, text: c.text, saved: o });
    if (count(c.prompt) === null) {
      assert.equal(c.text.trim(), '', `${what} did not run but shows: ${c.text.slice(0, 300)}`);
      continue;
    }
    noPanic(c.text, what);
    assert.doesNotMatch(c.text, /^Epoch \d+\//m, `${what} trained`);
    assert.deepEqual(o.stdout, [], `${what} printed on stdout`);
    assert.equal(o.stderr.length, 2, `${what} does not say in one line why it did nothing; stderr:\n${o.stderr.join('\n').slice(0, 600)}`);
    assert.match(o.stderr[0], notTrained, `${what} does not say why it did nothing`);
    assert.equal(o.stderr[1], 'exit status 1');
    gonbEnd(o, what);
    assert.deepEqual(o.displays, [], `${what} shows a chart or a table`);
    const shown = lines(c.text);
    assert.ok(notTrained.test(shown[0]) && shown.slice(1).every((l) => l === 'exit status 1') && shown.length <= 3,
      `${what}: the page shows more than the one line:\n${c.text.slice(0, 600)}`);
    assert.equal(c.images.length + c.live + c.tables.length, 0, `${what} shows a chart or a table`);
  }
  const ran = seen.interrupt_later.filter((c) => count(c.prompt) !== null).length;
  seen.interrupt_later_ran = `${ran} of ${later.length}`;
  await shotOfCell(trainAt, 'lab3-interrupted');
  await shotOfCell(later[0], 'lab3-interrupt-later-cell');
});

step('no news question at any time', async () => {
  const news = await page.evaluate(() => window.__cifarlab.news);
  assert.deepEqual(news, [], 'a news question appeared');
  assert.equal(await page.locator('text=/official Jupyter news/').count(), 0);
  seen.page_errors = pageErrors.length;
});
