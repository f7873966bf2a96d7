// nbgrader on the class hub, end to end in Debian's Chromium (run by hub/test.sh, as root): the
// assignment's round trip with a teacher (HUB_TEACHER) and two students (HUB_STUDENTS: the first
// writes the network the exercise asks for, the second a wrong one).
//   teacher: the formgrader (Nbgrader > Formgrader in JupyterLab, then its page): the exercise2
//            assignment the hub put in ~/cifarlab-course/source, Generate, Release;
//   students (at the same time): Nbgrader > Assignment List, Fetch, open the notebook, write the
//            model in the cell marked YOUR CODE HERE (typed into the editor), Run All (quick mode),
//            save, Submit; the formgrader is not theirs (HTTP 404, no menu item);
//   teacher: Collect, Autograde each submission (the notebook runs in the Go kernel; the hidden
//            tests check the architecture and the test accuracy), the scores (the right network
//            all points, the wrong one fewer), Generate Feedback, Release Feedback;
//   students: Fetch Feedback; each opens their own feedback page (their score, their failed test)
//            and gets 403/404 for the other's.
// Prints one JSON line "RESULT {...}" (scores, timings, what was seen); exits 1 on a failure.
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { base, codeCells, fetchIn, login, menu, PANEL, runAll, sleep } from './browser.mjs';

const out = process.env.OUT;
const students = JSON.parse(process.env.HUB_STUDENTS); // [right, wrong]: [{name, password}]
const teacher = JSON.parse(process.env.HUB_TEACHER);
const course = process.env.CIFARLAB_HUB_COURSE || 'cifarlab';
const RUN_TIMEOUT = Number(process.env.HUB_RUN_TIMEOUT || 900) * 1000;
const ASSIGNMENT = 'exercise2';

// What each student writes in the model cell: exercise 2's network, and one that is not it.
const MODELS = {
  right: `// newModel builds and compiles exercise 2's network.
func newModel() *keras.Model {
	model := lab.Must(keras.Sequential([]int{32, 32, 3},
		keras.Flatten(),
		keras.Dense(256, keras.ELU).WithInitializer(keras.HeNormal),
		keras.Dense(256, keras.ELU).WithInitializer(keras.HeNormal),
		keras.Dense(256, keras.ELU).WithInitializer(keras.HeNormal),
		keras.Dense(256, keras.ELU).WithInitializer(keras.HeNormal),
		keras.Dense(10, keras.Softmax),
	))
	lab.Check(model.SetSeed(Seed))
	lab.Check(model.Compile(keras.CompileConfig{
		Optimizer: keras.Nadam(0.001),
		Loss:      keras.LossSparseCategoricalCrossentropy,
		Metrics:   []keras.Metric{keras.MetricAccuracy},
	}))
	return model
}

%%
fmt.Println(newModel().Summary())`,
  wrong: `// newModel: one hidden ReLU layer and Adam (not what the exercise asks for).
func newModel() *keras.Model {
	model := lab.Must(keras.Sequential([]int{32, 32, 3},
		keras.Flatten(),
		keras.Dense(128, keras.ReLU),
		keras.Dense(10, keras.Softmax),
	))
	lab.Check(model.SetSeed(Seed))
	lab.Check(model.Compile(keras.CompileConfig{
		Optimizer: keras.Adam(0.001),
		Loss:      keras.LossSparseCategoricalCrossentropy,
		Metrics:   []keras.Metric{keras.MetricAccuracy},
	}))
	return model
}

%%
fmt.Println(newModel().Summary())`,
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const result = { course, teacher: {}, students: {}, failures: [] };
const shot = (page, name) => page.screenshot({ path: path.join(out, `grading-${name}.png`) }).catch(() => {});

async function openLab(u) {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await login(ctx, u);
  await page.waitForURL(new RegExp(`/user/${u.name}/lab`), { timeout: 240_000 });
  await page.waitForSelector('.jp-DirListing-item', { timeout: 120_000 });
  return { ctx, page, prefix: `/user/${u.name}` };
}

// A formgrader action: clicks the link in column `col` of the row whose cell `key` holds `name`,
// and waits for the success dialog (an error dialog fails, with its log), then closes it.
async function formgraderAction(page, col, key, name, ms = 300_000) {
  const row = page.locator('tr', { has: page.locator(`td.${key}`, { hasText: name }) }).first();
  await row.locator(`td.${col} a`).click();
  const modal = page.locator('.modal.in');
  await modal.waitFor({ timeout: ms });
  const text = (await modal.innerText()).replace(/\s+/g, ' ');
  const id = await modal.getAttribute('id');
  await shot(page, `teacher-${col}-${name}`);
  assert.equal(id, 'success-modal', `formgrader ${col} of ${name}: ${text.slice(0, 1500)}`);
  await modal.locator('button.close').first().click();
  await page.locator('.modal.in').waitFor({ state: 'detached', timeout: 30_000 }).catch(() => {});
  await sleep(500);
  return text;
}

async function assignmentList(page) {
  await menu(page, 'Nbgrader', 'Assignment List');
  await page.waitForSelector('#released_assignments_list');
}

async function studentWork(u, which) {
  const r = { model: which };
  result.students[u.name] = r;
  const { ctx, page, prefix } = await openLab(u);
  // The formgrader is not a student's: no menu item, no page.
  await page.click('.lm-MenuBar-itemLabel:text-is("Nbgrader")');
  r.menu = await page.locator('.lm-Menu:visible .lm-Menu-itemLabel').allTextContents();
  await page.keyboard.press('Escape');
  assert.deepEqual(r.menu.filter((t) => t), ['Assignment List'], `${u.name}: the Nbgrader menu shows ${r.menu}`);
  r.formgrader_status = (await fetchIn(page, `${prefix}/formgrader`)).status;
  assert.equal(r.formgrader_status, 404, `${u.name} -> ${prefix}/formgrader: HTTP ${r.formgrader_status}`);

  // Fetch, open.
  await assignmentList(page);
  const released = page.locator('#released_assignments_list .list_item', { hasText: ASSIGNMENT });
  await released.locator('button', { hasText: 'Fetch' }).click({ timeout: 120_000 });
  const fetched = page.locator('#fetched_assignments_list .list_item', { hasText: ASSIGNMENT }).first();
  await fetched.waitFor({ timeout: 60_000 });
  await shot(page, `${u.name}-fetched`);
  await fetched.locator('a.assignment-notebooks-link').click();
  await fetched.locator('.nested_list_item a', { hasText: ASSIGNMENT }).click();
  await page.waitForSelector(`${PANEL} .jp-Notebook .jp-CodeCell`);
  await shot(page, `${u.name}-opened`);
  await sleep(2000);

  // Write the model where the stub is: select the cell's text and type over it.
  const cell = page.locator(`${PANEL} .jp-CodeCell`, { hasText: 'YOUR CODE HERE' });
  assert.equal(await cell.count(), 1, `${u.name}: want one cell with YOUR CODE HERE`);
  await cell.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(MODELS[which]);
  await page.keyboard.press('Escape');
  const ra = await runAll(page, `${prefix}`, RUN_TIMEOUT, u.name);
  r.run_all_s = ra.seconds;
  const cs = await codeCells(page);
  const summary = cs.find((c) => /Total params/.test(c.text));
  assert.ok(summary, `${u.name}: no model summary after Run All: ${cs.map((c) => c.text.slice(0, 200)).join(' | ')}`);
  r.params = /Total params: ([\d,]+)/.exec(summary.text)?.[1];
  const acc = /test accuracy ([0-9.]+): ok/.exec(cs.map((c) => c.text).join('\n'));
  r.test_accuracy = acc ? Number(acc[1]) : null;
  await shot(page, `${u.name}-ran`);
  await menu(page, 'File', 'Save Notebook');
  await sleep(1500);
  const saved = await fetchIn(page, `${prefix}/api/contents/${ASSIGNMENT}/${ASSIGNMENT}.ipynb?content=1`);
  assert.ok(saved.status === 200, `${u.name}: the fetched notebook: HTTP ${saved.status}`);

  // Submit.
  await page.click(`.lm-TabBar-tab:has-text("Assignments")`);
  await page.locator('#fetched_assignments_list .list_item', { hasText: ASSIGNMENT }).first().locator('button', { hasText: 'Submit' }).click();
  await page.locator('#submitted_assignments_list .list_item', { hasText: ASSIGNMENT }).first().waitFor({ timeout: 60_000 });
  await shot(page, `${u.name}-submitted`);
  return { ctx, page, prefix };
}

async function studentFeedback(u, s) {
  const r = result.students[u.name];
  const { page, prefix } = s;
  await page.click(`.lm-TabBar-tab:has-text("Assignments")`);
  // The list as it is now (the teacher released feedback since it was drawn).
  await page.locator('#nbgrader-assignment-list button[title*="Refresh"], .nbgrader-assignment-list button[title*="Refresh"], button:has(.fa-refresh)').first().click().catch(() => {});
  await sleep(2000);
  const sub = page.locator('#submitted_assignments_list .list_item', { hasText: ASSIGNMENT }).first();
  await sub.locator('button', { hasText: 'Fetch Feedback' }).click({ timeout: 60_000 });
  await sleep(3000);
  await shot(page, `${u.name}-feedback-fetched`);
  const dir = JSON.parse((await fetchIn(page, `${prefix}/api/contents/${ASSIGNMENT}/feedback`)).body);
  assert.ok(dir.content?.length, `${u.name}: no ~/cifarlab-labs/${ASSIGNMENT}/feedback after Fetch Feedback: ${JSON.stringify(dir).slice(0, 300)}`);
  const html = `${ASSIGNMENT}/feedback/${dir.content[0].name}/${ASSIGNMENT}.html`;
  r.feedback = html;
  const fp = await s.ctx.newPage();
  const resp = await fp.goto(`${base}${prefix}/files/${html}`);
  assert.equal(resp.status(), 200, `${u.name}: ${html}: HTTP ${resp.status()}`);
  const text = await fp.innerText('body');
  const m = /Score:\s*([\d.]+)\s*\/\s*([\d.]+)/.exec(text);
  assert.ok(m, `${u.name}: no score in their feedback page`);
  r.feedback_score = `${Number(m[1])} / ${Number(m[2])}`;
  // The failed test's line in its output (the test's source, hidden checks included, is shown to all).
  r.feedback_says_wrong_architecture = /Error: want 6 layers \(Flatten, 4 hidden Dense, the output\), got \d+/.test(text);
  await fp.screenshot({ path: path.join(out, `grading-${u.name}-feedback.png`), fullPage: false });
  await fp.close();
  return html;
}

const t0 = Date.now();
try {
  // The teacher: the assignment is in the course; Generate and Release from the formgrader.
  const T = await openLab(teacher);
  await T.page.click('.lm-MenuBar-itemLabel:text-is("Nbgrader")');
  result.teacher.menu = (await T.page.locator('.lm-Menu:visible .lm-Menu-itemLabel').allTextContents()).filter((t) => t);
  await T.page.keyboard.press('Escape');
  assert.ok(result.teacher.menu.some((t) => /Formgrader/.test(t)), `teacher's Nbgrader menu: ${result.teacher.menu}`);
  await menu(T.page, 'Nbgrader', result.teacher.menu.find((t) => /Formgrader/.test(t)));
  await T.page.frameLocator('iframe').first().locator('text=Manage Assignments').first().waitFor({ timeout: 60_000 });
  await shot(T.page, 'teacher-lab-formgrader');
  const fg = await T.ctx.newPage();
  fg.setDefaultTimeout(60_000);
  await fg.goto(`${base}${T.prefix}/formgrader/manage_assignments`);
  await fg.locator('td.name', { hasText: ASSIGNMENT }).first().waitFor();
  result.teacher.generate = (await formgraderAction(fg, 'assign', 'name', ASSIGNMENT)).slice(0, 200);
  result.teacher.release = (await formgraderAction(fg, 'release', 'name', ASSIGNMENT)).slice(0, 200);

  // The students, at the same time.
  const [right, wrong] = students;
  const t1 = Date.now();
  const work = await Promise.all([studentWork(right, 'right'), studentWork(wrong, 'wrong')]);
  result.students_s = (Date.now() - t1) / 1000;

  // Collect, autograde each, the scores.
  await fg.reload();
  await fg.locator('td.name', { hasText: ASSIGNMENT }).first().waitFor();
  result.teacher.collect = (await formgraderAction(fg, 'collect', 'name', ASSIGNMENT)).slice(0, 200);
  await fg.goto(`${base}${T.prefix}/formgrader/manage_submissions/${ASSIGNMENT}`);
  const scores = {};
  for (const u of students) {
    await fg.locator('td.student-id', { hasText: u.name }).first().waitFor();
    const t = Date.now();
    await formgraderAction(fg, 'autograde', 'student-id', u.name, RUN_TIMEOUT);
    result.teacher[`autograde_${u.name}_s`] = (Date.now() - t) / 1000;
  }
  await fg.reload();
  for (const u of students) {
    const row = fg.locator('tr', { has: fg.locator('td.student-id', { hasText: u.name }) }).first();
    await row.waitFor();
    scores[u.name] = (await row.locator('td.score').innerText()).trim();
  }
  result.teacher.scores = scores;
  await shot(fg, 'teacher-scores');
  const num = (s) => Number(/^([\d.]+)/.exec(s)?.[1]);
  const max = (s) => Number(/\/\s*([\d.]+)/.exec(s)?.[1]);
  assert.ok(num(scores[right.name]) === max(scores[right.name]) && max(scores[right.name]) > 0, `the right network's score: ${scores[right.name]}`);
  assert.ok(num(scores[wrong.name]) < num(scores[right.name]), `the wrong network's score ${scores[wrong.name]} is not below the right one's ${scores[right.name]}`);

  // Feedback: generate, release; each student fetches theirs.
  await fg.goto(`${base}${T.prefix}/formgrader/manage_assignments`);
  await fg.locator('td.name', { hasText: ASSIGNMENT }).first().waitFor();
  result.teacher.generate_feedback = (await formgraderAction(fg, 'generate-feedback', 'name', ASSIGNMENT)).slice(0, 200);
  result.teacher.release_feedback = (await formgraderAction(fg, 'release-feedback', 'name', ASSIGNMENT)).slice(0, 200);
  const pages = await Promise.all([studentFeedback(right, work[0]), studentFeedback(wrong, work[1])]);
  assert.equal(result.students[right.name].feedback_score, scores[right.name].replace(/\s+/g, ' '), `${right.name}'s feedback score`);
  assert.equal(result.students[wrong.name].feedback_score, scores[wrong.name].replace(/\s+/g, ' '), `${wrong.name}'s feedback score`);
  assert.ok(result.students[wrong.name].feedback_says_wrong_architecture, `${wrong.name}'s feedback does not show the failed architecture test`);
  assert.ok(!result.students[right.name].feedback_says_wrong_architecture, `${right.name}'s feedback shows a failed architecture test`);
  // Each student's feedback is theirs alone: the other gets 403/404 for it.
  const peek = await fetchIn(work[1].page, `/user/${right.name}/files/${pages[0]}`);
  result.students[wrong.name].other_feedback_status = peek.status;
  assert.ok([403, 404].includes(peek.status) || peek.type === 'opaqueredirect', `${wrong.name} -> ${right.name}'s feedback: HTTP ${peek.status}`);
  for (const w of work) await w.ctx.close();
  await T.ctx.close();
} catch (e) {
  result.failures.push(String(e.message || e).split('\n').slice(0, 3).join(' '));
  // What each open page showed when it failed.
  let k = 0;
  for (const ctx of browser.contexts()) for (const p of ctx.pages()) await shot(p, `failure-${k++}`);
}
result.wall_s = (Date.now() - t0) / 1000;
await browser.close();
console.log('RESULT ' + JSON.stringify(result));
process.exit(result.failures.length ? 1 : 0);
