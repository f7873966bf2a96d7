// The browser test of exercise2.ipynb in JupyterLab (run by run.sh, which starts the server):
// Run All, the checks a student would make by eye, the live training chart, an edited
// hyperparameter, memoized re-runs, the WebPDF export and the re-run timings.
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
const runsDir = process.env.CIFARLAB_RUNS_DIR;
const NB = 'exercise2.ipynb';
const RUN_ALL_TIMEOUT = 180_000;

let browser, context, page, profile;
let broken = false; // a failed step skips the ones after it
const timings = {};
const seen = {}; // what each step saw

function step(name, fn) {
  test(name, async (t) => {
    if (broken) return t.skip('an earlier step failed');
    try {
      await fn(t);
    } catch (e) {
      broken = true;
      await shot(`failed-${name.replace(/\W+/g, '-')}`).catch(() => {});
      throw e;
    }
  });
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The cells in notebook order: type, prompt ("[3]:"), output text, images, tables.
async function cells() {
  return page.$$eval('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell', (els) =>
    els.map((el) => {
      const outs = [...el.querySelectorAll('.jp-OutputArea-output')];
      return {
        code: el.classList.contains('jp-CodeCell'),
        prompt: (el.querySelector('.jp-InputPrompt')?.textContent || '').trim(),
        source: el.querySelector('.cm-content')?.innerText || '',
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

// Watches the live chart areas for the rest of the page's life: every distinct chart and status.
async function watchLive() {
  await page.evaluate(() => {
    window.__live = { charts: [], statuses: [] };
    const record = () => {
      for (const el of document.querySelectorAll('.cifarlab-live')) {
        const img = el.querySelector('img');
        const st = el.querySelector('.cifarlab-live-status')?.textContent || '';
        const L = window.__live;
        if (img && !L.charts.includes(img.src)) L.charts.push(img.src);
        if (st && !L.statuses.includes(st)) L.statuses.push(st);
      }
    };
    new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}

async function liveSeen(reset) {
  return page.evaluate((reset) => {
    const L = window.__live;
    const r = { charts: L.charts.length, statuses: [...L.statuses] };
    if (reset) { L.charts = []; L.statuses = []; }
    return r;
  }, reset);
}

async function menu(top, item) {
  await page.click(`.lm-MenuBar-itemLabel:text-is("${top}")`);
  await page.click(`.lm-Menu-itemLabel:text-is("${item}")`);
}

// Edit > Clear Outputs of All Cells (the execution counts go too), Run > Run All Cells, then waits
// until every code cell has its count and the kernel is idle. Takes a screenshot while the live
// chart is showing, when one shows.
async function runAll(duringShot) {
  await menu('Edit', 'Clear Outputs of All Cells');
  const stale = (await cells()).filter((c) => c.code && count(c.prompt) !== null);
  assert.equal(stale.length, 0, 'outputs not cleared');
  const t0 = Date.now();
  await menu('Run', 'Run All Cells');
  let shotTaken = !duringShot;
  for (;;) {
    assert.ok(Date.now() - t0 < RUN_ALL_TIMEOUT, 'Run All did not finish in time');
    if (!shotTaken && (await page.$('.cifarlab-live img'))) {
      await page.locator('.cifarlab-live').first().scrollIntoViewIfNeeded().catch(() => {});
      await shot(duringShot).catch(() => {});
      shotTaken = true;
    }
    const cs = (await cells()).filter((c) => c.code);
    if (cs.every((c) => count(c.prompt) !== null) && (await kernelsIdle())) break;
    await sleep(100);
  }
  return (Date.now() - t0) / 1000;
}

async function shotOfCell(i, name) {
  const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').nth(i);
  await cell.scrollIntoViewIfNeeded();
  await sleep(200);
  await shot(name);
}

function find(cs, needle) {
  const i = cs.findIndex((c) => c.code && c.source.includes(needle));
  assert.ok(i >= 0, `no code cell with ${JSON.stringify(needle)}`);
  return i;
}

// The checks of one Run All: counts, no errors, decoded charts, the report as a table.
function checkRun(cs) {
  const code = cs.filter((c) => c.code);
  assert.equal(code.length, 7, 'exercise2 has 7 code cells');
  code.forEach((c, k) => {
    assert.notEqual(count(c.prompt), null, `code cell ${k + 1} has no execution count (${c.prompt})`);
    assert.equal(c.errors, 0, `code cell ${k + 1} shows an error: ${c.text.slice(0, 500)}`);
    assert.doesNotMatch(c.stderr, /^(panic: |fatal error: |exit status \d|signal: |error|Error:)/m,
      `code cell ${k + 1} failed: ${c.stderr.slice(0, 500)}`);
    for (const img of c.images) assert.ok(img.ok, `code cell ${k + 1}: an image was not decoded`);
  });
  const train = cs[find(cs, 'lab.Train(exercise())')];
  assert.equal(train.live, 0, 'the live chart area is still live after training');
  assert.equal(train.images.length, 1, 'the training cell shows one chart (the final curves)');
  const evalPlot = cs[find(cs, 'plots.ConfusionMatrix')];
  assert.ok(evalPlot.images.filter((i) => i.ok && i.w > 200 && i.h > 200).length >= 2,
    'the training curves and the confusion matrix are rendered');
  const report = evalPlot.tables.find((t) => /precision/.test(t.head) && /recall/.test(t.head));
  assert.ok(report, 'the classification report is rendered as a table');
  assert.ok(report.rows >= 11, `the classification report has ${report.rows} rows`);
  const acc = /Test accuracy: ([0-9.]+)/.exec(cs[find(cs, 'Test accuracy')].text);
  assert.ok(acc, 'no test accuracy printed');
  return { train: train.text, acc: Number(acc[1]) };
}

function runs() {
  // A run's folder is named after its 16-hex-digit key (predictions/ holds the saved predictions).
  return fs.readdirSync(runsDir).filter((d) => /^[0-9a-f]{16}$/.test(d) && fs.statSync(path.join(runsDir, d)).isDirectory()).sort();
}

// Replaces the Epochs line of the hyperparameter cell by typing into its editor.
async function setEpochs(from, to) {
  const line = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .cm-line', { hasText: `Epochs          = lab.Pick(50, ${from})` });
  await line.click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.insertText(`Epochs          = lab.Pick(50, ${to})       // upper bound; early stopping usually ends sooner`);
  await page.keyboard.press('Escape');
  const cs = await cells();
  assert.match(cs[find(cs, 'Epochs          =')].source, new RegExp(`Epochs += lab\\.Pick\\(50, ${to}\\)`));
}

before(async () => {
  profile = process.env.CHROMIUM_PROFILE || fs.mkdtempSync(path.join(os.tmpdir(), 'cifarlab-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-crash-reporter', '--disable-breakpad'],
    viewport: { width: 1280, height: 1000 },
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(30_000);
});

after(async () => {
  fs.writeFileSync(path.join(out, 'timings.json'), JSON.stringify({ timings, seen }, null, 1) + '\n');
  await context?.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
});

step('open exercise2.ipynb in JupyterLab, kernel gonb idle', async () => {
  await page.goto(`${base}/lab/tree/${NB}?token=${token}`);
  await page.waitForSelector('.jp-NotebookPanel .jp-Notebook .jp-Cell', { timeout: 60_000 });
  const t0 = Date.now();
  while (!(await kernelsIdle())) {
    assert.ok(Date.now() - t0 < 60_000, 'the gonb kernel did not start');
    await sleep(200);
  }
  const sessions = await (await api('/api/sessions')).json();
  assert.equal(sessions[0]?.kernel?.name, 'gonb');
  await watchLive();
});

step('Run All: every cell ran, no errors, charts decoded, report table, live chart changed', async () => {
  timings.run_all_first_s = await runAll('during-training');
  const cs = await cells();
  seen.first = checkRun(cs);
  assert.match(seen.first.train, /Epoch 3\/3/);
  assert.doesNotMatch(seen.first.train, /loaded run/, 'the first run trained');
  const live = await liveSeen(true);
  seen.first.live = live;
  assert.ok(live.charts >= 2, `the live chart changed ${live.charts} time(s) during training, want >= 2`);
  assert.ok(live.statuses.some((s) => /^Epoch 1\/3 .* left$/.test(s)), `statuses: ${live.statuses}`);
  assert.equal(runs().length, 1, 'one training run memoized');
  await shotOfCell(0, 'before-top');
  await shotOfCell(find(cs, 'lab.Train(exercise())'), 'before-training');
  await shotOfCell(find(cs, 'plots.ConfusionMatrix'), 'before-evaluation');
});

step('warm cell: the model summary cell again (kernel warm, build cached)', async () => {
  const cs = await cells();
  const i = find(cs, 'exercise().NewModel()');
  const cell = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell').nth(i);
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
  while (!(await kernelsIdle())) await sleep(100);
});

step('PDF: save, export as WebPDF through JupyterLab, pdftotext', async () => {
  await page.keyboard.press('Control+s');
  await sleep(1500);
  const saved = JSON.parse(fs.readFileSync(path.join(out, 'work', NB), 'utf8'));
  const trainCell = saved.cells.find((c) => c.source.join('').includes('lab.Train(exercise())'));
  const displays = trainCell.outputs.filter((o) => o.output_type === 'display_data');
  assert.equal(displays.length, 1, 'the saved training cell holds one chart');
  assert.ok(displays[0].data['image/png'], 'the saved chart is a PNG');
  assert.ok(!displays[0].data['text/html'], 'the saved chart is not the live HTML');
  const t0 = Date.now();
  const r = await api(`/nbconvert/webpdf/${NB}?download=true`);
  const pdf = Buffer.from(await r.arrayBuffer());
  timings.webpdf_export_s = (Date.now() - t0) / 1000;
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  const file = path.join(out, 'exercise2.pdf');
  fs.writeFileSync(file, pdf);
  const text = execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-']).toString().replace(/\s+/g, ' ');
  // The end of the first cell's long line is there only when long lines wrap (print CSS).
  for (const s of ['Exercise 2', 'Hyperparameters', 'Training', 'Test accuracy', 'precision', 'Trained 3 epochs',
    'go get github.com/cifarlab/cifarlab/...@v0.0.0-00010101000000-000000000000']) {
    assert.ok(text.includes(s), `the PDF has no ${JSON.stringify(s)}`);
  }
  const images = execFileSync('pdfimages', ['-list', file]).toString().trim().split('\n').length - 2;
  assert.ok(images >= 3, `the PDF has ${images} images, want the final training curves, the curves and the confusion matrix`);
  seen.pdf = { bytes: pdf.length, images };
});

step('edit Epochs 3 -> 4 and Run All: retrained with 4 epochs, live chart again', async () => {
  await setEpochs(3, 4);
  await shotOfCell(find(await cells(), 'Epochs          ='), 'after-edit');
  timings.run_all_after_edit_s = await runAll('during-training-after-edit');
  const cs = await cells();
  seen.edited = checkRun(cs);
  assert.match(seen.edited.train, /Epoch 4\/4/);
  assert.match(seen.edited.train, /Trained 4 epochs/);
  assert.doesNotMatch(seen.edited.train, /loaded run/, 'the changed run was trained');
  assert.match(cs[find(cs, 'Test accuracy')].text, /this run: 4 epochs/);
  const live = await liveSeen(true);
  assert.ok(live.charts >= 2 && live.statuses.some((s) => s.startsWith('Epoch 4/4')), `live: ${JSON.stringify(live)}`);
  assert.equal(runs().length, 2, 'two training runs memoized (the evaluation cells loaded the new one)');
  await shotOfCell(find(cs, 'lab.Train(exercise())'), 'after-training');
  await shotOfCell(find(cs, 'plots.ConfusionMatrix'), 'after-evaluation');
});

step('Epochs back to 3 and Run All: every training loaded from the memo, same results', async () => {
  const before = runs().map((d) => fs.statSync(path.join(runsDir, d)).mtimeMs);
  await setEpochs(4, 3);
  timings.run_all_memoized_s = await runAll(null);
  const cs = await cells();
  const again = checkRun(cs);
  assert.match(again.train, /loaded run [0-9a-f]+ from /, 'the unchanged run was loaded');
  assert.match(again.train, /Trained 3 epochs/);
  assert.equal(again.acc, seen.first.acc, 'the loaded run gives the first run\'s test accuracy');
  assert.equal((await liveSeen(true)).charts, 0, 'no live chart for a loaded run');
  assert.deepEqual(runs().map((d) => fs.statSync(path.join(runsDir, d)).mtimeMs), before, 'nothing retrained');
  await shotOfCell(find(cs, 'lab.Train(exercise())'), 'memoized-training');
});

step('Run All again, nothing changed: cached builds, every training loaded', async () => {
  timings.run_all_unchanged_s = await runAll(null);
  const again = checkRun(await cells());
  assert.match(again.train, /loaded run [0-9a-f]+ from /);
  assert.equal(again.acc, seen.first.acc);
  assert.equal(runs().length, 2, 'nothing retrained');
  console.log(`timings: ${JSON.stringify(timings)}`);
});
