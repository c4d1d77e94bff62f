// The console in Debian's chromium (headless, driven by playwright-core; no
// browser is downloaded). Started by tests/e2e/console_e2e.sh, which runs the
// server and passes its address and tokens in XF_* variables.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = process.env;
const URL = env.XF_CONSOLE_URL;
const ART = env.XF_ARTIFACTS ?? "test-artifacts";
mkdirSync(ART, { recursive: true });
const secrets = {
  name: "张秘密",
  id: "11010519491231002X",
  phone: "13812345678",
  summary: "秘密指控某领导克扣工资XYZ",
  request: "请求查处克扣行为QRS",
};
let ctx;
let tracking = "";
let queryCode = ""; // the petitioner's, from the printed receipt
// Petitions received in the simulated month: the script's (XF_REGISTERED) and this file's.
let registered = Number(env.XF_REGISTERED ?? 0);
const LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function xfctl(token, ...args) {
  return execFileSync(env.XF_XFCTL, ["--server", env.XF_GRPC, "--token", token, ...args], { encoding: "utf8" });
}

before(async () => {
  ctx = await chromium.launchPersistentContext(env.XF_PROFILE ?? join(ART, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: LAUNCH_ARGS,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    locale: "zh-CN",
  });
  // window.print() is counted, not sent to a printer.
  await ctx.addInitScript(() => { window.print = () => { window.__printed = (window.__printed ?? 0) + 1; }; });
});
after(async () => { await ctx?.close(); });

// Every answer of the API a page received, for checks on what reached the browser.
function recordApi(page) {
  const bodies = [];
  page.on("response", async (r) => {
    if (!r.url().includes("/xinfang.v1.")) return;
    try { bodies.push(await r.text()); } catch { /* streams */ }
  });
  return bodies;
}

async function fill(page, sel, value) {
  const el = page.locator(sel).first();
  const tag = await el.evaluate((n) => n.tagName);
  const target = tag === "INPUT" || tag === "TEXTAREA" ? el : el.locator("input, textarea").first();
  await target.fill(value);
}
// Picks an option and checks that the select shows it; a click that lands
// while the dropdown is still opening is not taken by Element Plus, so it is
// tried again (at most three times) rather than failing later as an empty field.
async function pick(page, sel, optionText) {
  for (let i = 0; i < 3; i++) {
    await page.locator(sel).first().click();
    const item = page.locator(".el-select-dropdown__item:visible", { hasText: optionText }).first();
    await item.waitFor();
    await item.click();
    try {
      await page.locator(sel).first().filter({ hasText: optionText }).waitFor({ timeout: 2000 });
      return;
    } catch {
      await page.keyboard.press("Escape");
    }
  }
  assert.fail(`${sel}: ${optionText} could not be picked`);
}
async function shot(page, name) { await page.screenshot({ path: join(ART, `${name}.png`), fullPage: true }); }

// Signs in with the administrator's initial password, choosing one's own.
async function signIn(page, account, lang = "zh") {
  await page.goto(`${URL}/signin`);
  await fill(page, "input[name=account]", account);
  await fill(page, "input[name=password]", `Initial-${account}-1`);
  await page.click("[data-test=signin]");
  await page.waitForSelector(lang === "zh" ? "text=首次登录" : "text=First sign-in");
  await fill(page, "input[name=newPassword]", `${account}-自己的密码-9`);
  await fill(page, "input[name=repeat]", `${account}-自己的密码-9`);
  await page.click("[data-test=signin]");
  await page.waitForSelector("[data-test=me]");
}

// Signs in again (a new tab has its own session) with the password chosen above.
async function signInAgain(page, account) {
  await page.goto(`${URL}/signin`);
  await fill(page, "input[name=account]", account);
  await fill(page, "input[name=password]", `${account}-自己的密码-9`);
  await page.click("[data-test=signin]");
  await page.waitForSelector("[data-test=me]");
}

// A call of the Connect API as another person would make it (JSON).
async function api(token, method, body) {
  const r = await fetch(`${URL}/xinfang.v1.${method}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${method}: ${JSON.stringify(json)}`);
  return json;
}
async function until(what, check, ms = 15000) {
  const t0 = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - t0 > ms) assert.fail(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Reported, not asserted: the first screen (page.goto until the sign-in button
// can be clicked) in a fresh profile each time, and what it transferred.
test("first screen: measured in fresh profiles", async () => {
  const RUNS = Number(env.XF_FIRST_SCREEN_RUNS ?? 3);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: LAUNCH_ARGS });
  const times = [], floor = [];
  let bytes = 0, files = 0;
  try {
    for (let i = 0; i < RUNS; i++) {
      // The browser's own floor at this moment: a fresh profile showing one button.
      const bare = await browser.newContext();
      const blank = await bare.newPage();
      const b0 = performance.now();
      await blank.goto("data:text/html,<button>ok</button>");
      await blank.locator("button").click({ trial: true });
      floor.push(performance.now() - b0);
      await bare.close();

      const fresh = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN" });
      const page = await fresh.newPage();
      const loaded = [];
      page.on("requestfinished", (r) => loaded.push(r));
      const t0 = performance.now();
      await page.goto(`${URL}/signin`);
      await page.locator("[data-test=signin]").click({ trial: true });
      times.push(performance.now() - t0);
      if (i === 0) {
        await shot(page, "01-signin");
        for (const r of loaded) bytes += (await r.sizes()).responseBodySize;
        files = loaded.length;
      }
      await fresh.close();
    }
  } finally {
    await browser.close();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[(RUNS - 1) >> 1].toFixed(0);
  console.log(`first screen (fresh profile, ms): ${times.map((t) => t.toFixed(0)).join(" ")}; median ${median(times)}; ` +
    `a bare page's floor: median ${median(floor)}; ` +
    `${files} files, ${(bytes / 1024).toFixed(0)} kB transferred; load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
});

test("an administrator adds a unit and a category, retires one; the server's field errors show on the field", async () => {
  const page = await ctx.newPage();
  await signIn(page, "admin1");
  await page.goto(`${URL}/admin`);
  await page.waitForSelector("[data-test=unit-prov\\.city-a]");
  // A child unit of A市总工会; first with a code the server refuses, on the code field.
  await page.click("[data-test=add-child-prov\\.city-a]");
  await fill(page, "[data-test=unit-code]", "prov.city-a.Dist 2");
  await fill(page, "[data-test=unit-name]", "A市二区总工会");
  await page.click("[data-test=unit-save]");
  await page.waitForSelector("[data-test=unit-error]");
  const codeItem = page.locator("[data-test=unit-form] .el-form-item", { has: page.locator("[data-test=unit-code]") });
  await codeItem.locator(".el-form-item__error").waitFor();
  assert.equal(await page.locator("input[data-test=unit-name], [data-test=unit-name] input").first().inputValue(), "A市二区总工会", "what was typed stays");
  await shot(page, "10-admin-unit-error");
  await fill(page, "[data-test=unit-code]", "prov.city-a.dist-2");
  await page.click("[data-test=unit-save]");
  await page.waitForSelector("[data-test=unit-prov\\.city-a\\.dist-2]");
  assert.match(await page.locator("[data-test=unit-prov\\.city-a\\.dist-2]").innerText(), /A市二区总工会/);
  // Renamed in place.
  await page.click("[data-test=rename-prov\\.city-a\\.dist-2]");
  await fill(page, "[data-test=unit-name]", "A市第二区总工会");
  await page.click("[data-test=unit-save]");
  await page.waitForFunction(() => document.querySelector("[data-test='unit-prov.city-a.dist-2']")?.textContent?.includes("A市第二区总工会"));
  // A new category under 劳动报酬, and 加班与工时 retired.
  await fill(page, "[data-test=cat-code]", "wages.bonus");
  await fill(page, "[data-test=cat-name]", "奖金发放");
  await pick(page, "[data-test=cat-parent]", "（wages）");
  await page.click("[data-test=cat-add]");
  await page.waitForSelector("[data-test=cat-wages\\.bonus]");
  await page.click("[data-test=cat-wages\\.overtime] [data-test=retire]");
  await page.waitForSelector("[data-test=cat-wages\\.overtime] [data-test=reactivate]");
  await shot(page, "11-admin");
  await page.close();
});

test("a clerk signs in, registers a visit with every field checked as typed, prints the receipt", async () => {
  const page = await ctx.newPage();
  await signIn(page, "clerk1");
  await page.goto(`${URL}/desk`);
  await page.waitForSelector("[data-test=register]");
  // The desk offers the administrator's new category, no longer the retired one.
  await page.locator("[data-test=category]").first().click();
  await page.locator(".el-select-dropdown__item:visible", { hasText: "（wages.bonus）" }).waitFor();
  assert.equal(await page.locator(".el-select-dropdown__item", { hasText: "（wages.overtime）" }).count(), 0);
  await page.keyboard.press("Escape");
  await pick(page, "[data-test=category]", "（wages.arrears）");
  // A wrong check digit is caught as typed, before anything is sent.
  await fill(page, "[data-test=id-0]", "110105194912310021");
  await page.waitForSelector("text=校验码应为 X");
  await fill(page, "[data-test=name-0]", secrets.name);
  await fill(page, "[data-test=id-0]", secrets.id);
  await fill(page, "[data-test=phone-0]", secrets.phone);
  await page.locator("[data-test=people] input").fill("7");
  await page.locator("[data-test=people] input").blur();
  await page.waitForSelector("text=来访超过5人，须推选代表");
  await page.locator("[data-test=people] input").fill("2");
  await page.locator("[data-test=people] input").blur();
  await fill(page, "[data-test=summary]", secrets.summary);
  await fill(page, "[data-test=request]", secrets.request);
  await fill(page, "[data-test=complained]", "某领导");
  await pick(page, "[data-test=complained-unit]", "（prov.organs.edu）");
  await shot(page, "02-desk");
  await page.click("[data-test=register]");
  await page.waitForSelector("[data-test=receipt], [data-test=desk-error]");
  if (await page.locator("[data-test=desk-error]").count()) {
    await shot(page, "02-desk-error");
    assert.fail(await page.locator("[data-test=desk-error]").innerText());
  }
  const receipt = await page.locator("[data-test=receipt]").innerText();
  assert.match(receipt, /信访事项回执/);
  tracking = receipt.match(/编号: (XF[0-9-]+)/)[1];
  queryCode = receipt.match(/查询码: ([2-9A-Z]{5}-[2-9A-Z]{5})/)[1];
  assert.match(receipt, new RegExp(`/status\\?t=${tracking}`));
  assert.ok(await page.locator("[data-test=receipt-qr]").isVisible(), "the receipt shows the QR code");
  registered++;
  await page.click("[data-test=print]");
  assert.equal(await page.evaluate(() => window.__printed), 1);
  await shot(page, "03-receipt");
  // Reprintable from the case page.
  await page.goto(`${URL}/case/${tracking}`);
  await page.waitForSelector("[data-test=case-page]");
  await shot(page, "03b-case");
  await page.waitForSelector("[data-test=reprint]");
  await page.click("[data-test=reprint]");
  assert.equal(await page.evaluate(() => window.__printed), 1); // a fresh page: counted anew
  // The clerk accepts it at the desk.
  await fill(page, "[data-test=action-accept] [data-test=field-notice]", "已受理");
  await page.click("[data-test=do-accept]");
  await page.waitForSelector("text=accepted");
  await page.close();
});

test("an officer takes it to served; a stale version says reload and keeps the input", async () => {
  xfctl(env.XF_HEAD_TOKEN, "case", "act", tracking, "assign_officer", "--field", "officer=officer1");
  const page = await ctx.newPage();
  await signIn(page, "officer1");
  // My queue: only the case assigned to me; the switch shows the unit's, with officers.
  await page.goto(`${URL}/queue`);
  await page.locator("[data-test=queue] tr", { hasText: tracking }).waitFor();
  assert.equal(await page.locator("[data-test=queue] tr", { hasText: env.XF_LATE_CASE }).count(), 0,
    "the unassigned case is not in the officer's own queue");
  assert.match(await page.locator("[data-test=queue] tr", { hasText: tracking }).innerText(), /\d+ 天/);
  await shot(page, "06a-queue-mine");
  await page.click("[data-test=mine]");
  const late = page.locator("[data-test=queue] tr", { hasText: env.XF_LATE_CASE });
  await late.waitFor();
  assert.match(await late.innerText(), /\d+ 天/);
  assert.match(await page.locator("[data-test=queue] tr", { hasText: tracking }).innerText(), /officer1/);
  await shot(page, "06b-queue-unit");
  await page.goto(`${URL}/case/${tracking}`);
  await page.waitForSelector("[data-test=do-decide]");
  await pick(page, "[data-test=field-outcome]", "support");
  await fill(page, "[data-test=field-decision_text]", "支持：责成公司十日内支付");
  // Meanwhile the unit head decides (the version moves on).
  xfctl(env.XF_HEAD_TOKEN, "case", "act", tracking, "decide", "--field", "outcome=explain",
    "--field", "decision_text=已向信访人解释");
  await page.click("[data-test=do-decide]");
  await page.waitForSelector("text=此案件已被他人修改，请重新加载");
  assert.equal(await page.locator("[data-test=field-decision_text] textarea, [data-test=field-decision_text] input").first().inputValue(), "支持：责成公司十日内支付");
  await shot(page, "04-conflict");
  await page.click("[data-test=reload]");
  await page.waitForSelector("[data-test=do-serve]");
  const served = page.locator("[data-test=field-served_on] input").first();
  await served.click();
  await served.fill("2026-03-02");
  await served.press("Enter");
  // The proof of service (送达回证): how, the receipt, and who signed it.
  await pick(page, "[data-test=action-serve] [data-test=field-method]", "in_person");
  await pick(page, "[data-test=action-serve] [data-test=field-receipt]", "signed");
  await fill(page, "[data-test=action-serve] [data-test=field-signed_by]", "信访人本人");
  await page.click("[data-test=do-serve]");
  await page.waitForSelector("text=served");
  await shot(page, "05-served");
  await page.close();
  // The unit head sees the unit's queue with the officer of each case, nearest deadline first.
  const head = await ctx.newPage();
  await signIn(head, "head1");
  await head.goto(`${URL}/queue`);
  await head.locator("[data-test=queue] tr", { hasText: env.XF_LATE_CASE }).waitFor();
  const days = await head.locator("[data-test=queue] tbody tr td:nth-child(3)").allInnerTexts();
  assert.ok(days.length >= 2);
  assert.deepEqual(days, [...days].sort(), "nearest deadline first");
  await shot(head, "06c-queue-head");
  await head.close();
});

test("the petitioner looks the case up on a phone with the code from the receipt", async () => {
  const page = await ctx.newPage(); // a tab of its own: no session
  await page.setViewportSize({ width: 390, height: 844 });
  const bodies = recordApi(page);
  await page.goto(`${URL}/status?t=${tracking}`); // the QR code's address
  await page.waitForSelector("[data-test=pub-submit]");
  assert.equal(await page.locator("[data-test=pub-tracking]").first()
    .evaluate((n) => (n.tagName === "INPUT" ? n : n.querySelector("input")).value), tracking);
  // A wrong code: the same answer as an unknown number, in plain words.
  await fill(page, "[data-test=pub-code]", "22222-22222");
  await page.click("[data-test=pub-submit]");
  await page.waitForSelector("[data-test=pub-error]");
  assert.match(await page.locator("[data-test=pub-error]").innerText(), /编号或查询码不正确/);
  await shot(page, "07a-public-wrong");
  // Typed in lower case without the dash.
  await fill(page, "[data-test=pub-code]", queryCode.replace("-", "").toLowerCase());
  await page.click("[data-test=pub-submit]");
  await page.waitForSelector("[data-test=pub-result]");
  const text = await page.locator("[data-test=public-status]").innerText();
  assert.match(text, /处理意见已送达/);
  assert.match(await page.locator("[data-test=pub-number]").innerText(), new RegExp(tracking));
  // The decision served, and the review window with its last day and where to go.
  assert.match(await page.locator("[data-test=pub-decisions]").innerText(), /处理意见书：解释说明[\s\S]*已向信访人解释/);
  assert.match(await page.locator("[data-test=pub-windows]").innerText(),
    /申请复查[\s\S]*截止 2026-04-01[\s\S]*向 省直机关工会 书面申请复查/);
  assert.match(await page.locator("[data-test=pub-dates]").innerText(), /书面告知是否受理[\s\S]*按期/);
  // No staff names, no personal numbers: not on the page, not in what reached the browser.
  for (const s of ["officer1", "head1", "clerk1", secrets.name, secrets.id, secrets.phone]) {
    assert.ok(!text.includes(s), `the page shows ${s}`);
    assert.ok(!bodies.some((b) => b.includes(s)), `an API answer carries ${s}`);
  }
  // Fits the phone: nothing wider than the screen.
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    "no horizontal scrolling at 390 px");
  await shot(page, "07b-public-status");
  await page.close();
});

test("the petitioner evaluates online on a phone: both targets, a 不满意 needs its reason, nothing typed is lost", async () => {
  // A case of its own, registered and driven to served through the API.
  const reg = JSON.parse(xfctl(env.XF_CLERK_TOKEN, "--json", "case", "register", "--channel", "call",
    "--caller-number", "12356", "--name", "周五", "--category", "wages.arrears", "--summary", "拖欠加班费",
    "--complained-about", "某物流公司"));
  registered++;
  const t = reg.case.tracking_number, code = reg.query_code.code;
  assert.match(t, /^XF/);
  assert.ok(code, "the registration answers the query code");
  xfctl(env.XF_HEAD_TOKEN, "case", "act", t, "accept", "--field", "notice=已受理");
  xfctl(env.XF_HEAD_TOKEN, "case", "act", t, "assign_officer", "--field", "officer=officer1");
  xfctl(env.XF_HEAD_TOKEN, "case", "act", t, "decide", "--field", "outcome=support",
    "--field", "decision_text=支持：责成公司补发加班费");
  xfctl(env.XF_HEAD_TOKEN, "case", "act", t, "serve", "--field", "served_on=2026-03-02",
    "--field", "method=in_person", "--field", "receipt=signed", "--field", "signed_by=信访人本人");

  // The staff form of "evaluate" follows the field specs: a reason is required
  // only while its rating is dissatisfied (required_when), and is asked for then.
  const staff = await ctx.newPage();
  await signInAgain(staff, "officer1");
  await staff.goto(`${URL}/case/${t}`);
  await staff.waitForSelector("[data-test=do-evaluate]");
  assert.equal(await staff.locator("[data-test=action-evaluate_online]").count(), 0, "staff never see the petitioner's action");
  const item = (f) => staff.locator("[data-test=action-evaluate] .el-form-item", { has: staff.locator(`[data-test=field-${f}]`) });
  const isRequired = (f) => item(f).evaluate((n) => n.classList.contains("is-required"));
  assert.equal(await isRequired("rating"), true);
  assert.equal(await isRequired("office_rating_reason"), false, "no reason needed before a rating");
  // One dropdown at a time: "satisfied" is also in the other choices' words.
  const choose = async (f, v) => {
    await pick(staff, `[data-test=action-evaluate] [data-test=field-${f}]`, v);
    await until("the dropdown closed", async () => (await staff.locator(".el-select-dropdown__item:visible").count()) === 0);
  };
  await choose("rating", "satisfied");
  await choose("office_rating", "dissatisfied");
  await choose("channel", "call");
  assert.doesNotMatch(await staff.locator("[data-test=action-evaluate] [data-test=field-rating]").innerText(), /dissatisfied|basically/);
  assert.equal(await isRequired("office_rating_reason"), true, "required while office_rating is dissatisfied");
  assert.equal(await isRequired("rating_reason"), false, "not while rating is satisfied");
  const sent = [];
  staff.on("request", (r) => { if (r.url().includes("TakeAction")) sent.push(r.url()); });
  await staff.click("[data-test=do-evaluate]");
  await item("office_rating_reason").locator(".el-form-item__error", { hasText: "必填" }).waitFor();
  assert.equal(await item("rating_reason").locator(".el-form-item__error").count(), 0);
  assert.equal(sent.length, 0, "nothing sent with a required field empty");
  await shot(staff, "07c-staff-evaluate-required");
  await choose("office_rating", "basically_satisfied");
  await until("the reason no longer required", async () => !(await isRequired("office_rating_reason")));
  assert.equal(await item("office_rating_reason").locator(".el-form-item__error").count(), 0);
  await staff.close(); // nothing taken: the petitioner evaluates below

  const page = await ctx.newPage(); // a tab of its own: no session
  await page.setViewportSize({ width: 390, height: 844 });
  const evaluations = [];
  page.on("request", (r) => { if (r.url().includes("PublicService/EvaluateCase")) evaluations.push(r.postData()); });
  const lookUp = async () => {
    await page.waitForSelector("[data-test=pub-submit]");
    await fill(page, "[data-test=pub-tracking]", t);
    await fill(page, "[data-test=pub-code]", code);
    await page.click("[data-test=pub-submit]");
    await page.waitForSelector("[data-test=pub-evaluate]");
  };
  await page.goto(`${URL}/status`);
  await lookUp();
  const form = page.locator("[data-test=pub-evaluate]");
  assert.match(await form.locator("[data-test=eval-unit]").innerText(), /办理单位（.+）[\s\S]*满意[\s\S]*基本满意[\s\S]*不满意/);
  assert.match(await form.locator("[data-test=eval-office]").innerText(), /信访工作机构[\s\S]*满意[\s\S]*基本满意[\s\S]*不满意/);
  assert.equal(await page.locator("[data-test=pub-evaluation]").count(), 0, "no evaluation yet");
  // Large touch targets.
  const box = await page.locator("[data-test=eval-office-dissatisfied] .el-radio-button__inner").boundingBox();
  assert.ok(box.height >= 44 && box.width >= 80, `a choice is ${box.width}×${box.height}`);
  await page.click("[data-test=eval-unit-basically_satisfied]");
  await page.click("[data-test=eval-office-dissatisfied]");
  // 不满意 without a reason: the reason is demanded at its field; nothing is sent, nothing lost.
  assert.equal(await page.locator("[data-test=eval-unit-reason]").count(), 0, "no reason asked with 基本满意");
  await page.waitForSelector("[data-test=eval-office-reason]");
  await page.click("[data-test=eval-submit]");
  const officeReasonItem = page.locator("[data-test=eval-office] .el-form-item", { has: page.locator("[data-test=eval-office-reason]") });
  await officeReasonItem.locator(".el-form-item__error", { hasText: "理由" }).waitFor();
  assert.equal(evaluations.length, 0, "nothing sent without the reason");
  assert.equal(await page.locator("[data-test=eval-unit-basically_satisfied].is-active").count(), 1, "the choices stay");
  assert.equal(await page.locator("[data-test=eval-office-dissatisfied].is-active").count(), 1);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    "no horizontal scrolling at 390 px with the form");
  await shot(page, "07d-evaluate-reason-required");
  // The server decides the same and names the field (the page shows its message there).
  const r = await fetch(`${URL}/xinfang.v1.PublicService/EvaluateCase`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ trackingNumber: t, queryCode: code, unitRating: "basically_satisfied", officeRating: "dissatisfied" }),
  });
  const refused = await r.json();
  assert.equal(refused.code, "invalid_argument");
  assert.match(refused.message, /^office_reason: /);
  // Half a reason typed, then an accidental reload: the choices and the text come back.
  const reasonBox = page.locator("textarea[data-test=eval-office-reason], [data-test=eval-office-reason] textarea").first();
  await reasonBox.fill("来访时等候两小时");
  await page.waitForFunction(() => Object.keys(sessionStorage).some((k) => k.startsWith("xinfang.evaluation.")));
  await page.reload();
  assert.match(page.url(), new RegExp(`t=${t}`), "the number stays in the address");
  await lookUp();
  assert.equal(await page.locator("[data-test=eval-unit-basically_satisfied].is-active").count(), 1, "kept across a reload");
  assert.equal(await page.locator("[data-test=eval-office-dissatisfied].is-active").count(), 1);
  assert.equal(await reasonBox.inputValue(), "来访时等候两小时");
  await reasonBox.fill("来访时等候两小时，无人解释");
  await officeReasonItem.locator(".el-form-item__error").waitFor({ state: "detached" });
  await page.click("[data-test=eval-submit]");
  await page.waitForSelector("[data-test=pub-evaluated]");
  assert.equal(evaluations.length, 1);
  assert.equal(await page.locator("[data-test=pub-evaluate]").count(), 0, "the form is gone");
  assert.equal(await page.locator("[data-test=pub-evaluation]").innerText(),
    "您的评价：办理单位 基本满意；信访工作机构 不满意");
  assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), `xinfang.evaluation.${t}`), null, "the draft is cleared");
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
    "no horizontal scrolling at 390 px");
  await shot(page, "07e-evaluated");
  await page.close();
  // Over the staff API: evaluated, both ratings, by the petitioner.
  const got = await api(env.XF_HEAD_TOKEN, "CaseQueryService/GetCase", { case: { trackingNumber: t } });
  assert.equal(got.case.state, "evaluated");
  assert.equal(got.case.evaluation, "basically_satisfied");
  assert.equal(got.case.officeEvaluation, "dissatisfied");
  const history = await api(env.XF_HEAD_TOKEN, "CaseQueryService/GetHistory", { case: { trackingNumber: t } });
  assert.ok(history.events.some((e) => e.action === "evaluate_online" && e.actor === "petitioner"),
    "the history records the petitioner's online evaluation");
});

test("on the simulated clock the supervisor's board shows the case overdue at rung 1", async () => {
  xfctl(env.XF_SUP_TOKEN, "clock", "advance", "16d");
  const page = await ctx.newPage();
  await signIn(page, "sup1");
  await page.goto(`${URL}/board`);
  const row = page.locator("[data-test=overdue] tr", { hasText: env.XF_LATE_CASE });
  await row.waitFor();
  assert.match(await row.innerText(), /第1级/);
  await shot(page, "07-board");
  await page.goto(`${URL}/stats`);
  await page.click("[data-test=stats-load]");
  await page.waitForSelector("[data-test=rates]");
  // By month beside channel, category and unit: the cases came in March 2026 (simulated clock).
  await page.waitForSelector("[data-test=chart-byMonth] canvas");
  for (const k of ["byChannel", "byCategory", "byUnit"]) await page.waitForSelector(`[data-test=chart-${k}] canvas`);
  // The evaluation per target: the online one above (基本满意 / 不满意) among them.
  const office = page.locator("[data-test=evaluation-office]");
  assert.match(await office.innerText(), /信访工作机构/);
  assert.equal(await office.locator("td").nth(6).innerText(), "1", "one 不满意 of the petition office");
  assert.equal(await page.locator("[data-test=evaluation-unit] td").nth(5).innerText(), "1", "one 基本满意 of the handling body");
  assert.match(await page.locator("[data-test=evaluation]").innerText(), /参评率[\s\S]*满意率[\s\S]*参评满意率[\s\S]*逾期未评价/);
  await shot(page, "08-stats");
  // The CSV opens in Excel on Chinese Windows: UTF-8 with a BOM.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-test=csv]")]);
  const csv = readFileSync(await download.path());
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.match(csv.toString("utf8"), /按期受理告知率,/);
  assert.match(csv.toString("utf8"), new RegExp(`\r\n月份:2026-03,${registered},,\r\n`));
  // A unit with no cases: 0 of 0 is "—", never 0 %.
  await fill(page, "[data-test=stats-unit]", "prov.city-a");
  await page.click("[data-test=stats-load]");
  await page.waitForFunction(() => document.querySelector("[data-test=rates]")?.textContent?.includes("—"));
  assert.ok(!(await page.locator("[data-test=rates]").innerText()).includes("0.0%"));
  await page.close();
});

test("the supervisor's board shows the same-employer warning; a joining petition reloads it; acknowledged, handled with a note, closed", async () => {
  const page = await ctx.newPage();
  await signInAgain(page, "sup1");
  await page.goto(`${URL}/board`);
  // The feed raises it within seconds of the script's three petitions: the list is polled.
  const link = page.locator("[data-test=warning-same_employer]");
  await until("the same_employer warning on the board", async () => {
    if (await link.count()) return true;
    await page.click("[data-test=warnings-refresh]");
    await page.waitForTimeout(300);
    return false;
  });
  const row = page.locator("[data-test=warning-list] tbody tr", { has: link });
  const rowText = await row.innerText();
  assert.match(rowText, /红/, "high severity in its word");
  assert.match(rowText, /某建筑/);
  assert.match(rowText, /\b3\b/, "three petitions");
  assert.equal(await row.locator(".sev-high").count(), 1, "and in its colour");
  await shot(page, "13-warnings");
  await link.click();
  const cases = page.locator("[data-test=warning-cases] tbody tr");
  await until("its three petitions", async () => (await cases.count()) === 3);
  for (const t of await page.locator("[data-test=warning-cases] tbody a").allInnerTexts()) assert.match(t, /^XF/);
  assert.equal(await page.locator("[data-test=drawer-state]").innerText(), "已预警");
  const note = page.locator("[data-test=warning-note] textarea");
  await note.fill("已收悉，约谈该企业负责人");
  // Meanwhile a fourth petition against the same employer joins the warning (its count grows, its
  // version stays), and the unit head acknowledges it from xfctl: the drawer's version is stale.
  const before = (await api(env.XF_SUP_TOKEN, "SupervisionService/ListWarnings", { rule: "same_employer" })).warnings[0];
  xfctl(env.XF_CLERK_TOKEN, "case", "register", "--channel", "call", "--caller-number", "12355", "--name", "孙四",
    "--category", "wages.arrears", "--summary", "工地欠薪", "--complained-about", "某建筑有限责任公司");
  registered++;
  await until("the fourth petition joining the warning", async () => {
    const w = (await api(env.XF_SUP_TOKEN, "SupervisionService/GetWarning", { id: before.id }));
    return w.caseCount === 4;
  });
  const joined = await api(env.XF_SUP_TOKEN, "SupervisionService/GetWarning", { id: before.id });
  assert.equal(joined.version, before.version, "a petition joining does not move the version");
  xfctl(env.XF_HEAD_TOKEN, "sup", "warning", "ack", String(before.id));
  await page.click("[data-test=warn-acknowledged]");
  await page.locator("[data-test=warning-error]", { hasText: "已被他人修改" }).waitFor();
  assert.equal(await note.inputValue(), "已收悉，约谈该企业负责人", "the typed note is kept");
  await until("the reloaded drawer with four petitions", async () => (await cases.count()) === 4);
  await page.locator("[data-test=drawer-state]", { hasText: "已确认" }).waitFor();
  await page.locator("[data-test=warning-steps]", { hasText: "head1" }).waitFor();
  await shot(page, "14-warning-conflict");
  // Handled needs a note: the server names the field and the form shows it there.
  await note.fill("   ");
  await page.click("[data-test=warn-handled]");
  await page.locator("[data-test=warning-note] .el-form-item__error").waitFor();
  assert.equal(await note.inputValue(), "   ", "what was typed stays");
  await shot(page, "15-warning-note-required");
  await note.fill("已约谈企业，责成十日内发放工资");
  await page.click("[data-test=warn-handled]");
  await page.locator("[data-test=drawer-state]", { hasText: "已处置" }).waitFor();
  await page.locator("[data-test=warning-note] .el-form-item__error").waitFor({ state: "detached" });
  await page.click("[data-test=warn-closed]");
  await page.locator("[data-test=drawer-state]", { hasText: "已关闭" }).waitFor();
  assert.equal(await page.locator("[data-test=warning-form]").count(), 0, "a closed warning offers nothing");
  const steps = await page.locator("[data-test=warning-steps]").innerText();
  assert.match(steps, /已预警[\s\S]*已确认[\s\S]*已处置[\s\S]*已约谈企业[\s\S]*已关闭/);
  await shot(page, "16-warning-closed");
  // Gone from the open list, still in the whole list.
  await page.locator(".el-drawer__close-btn").click();
  await until("the closed warning leaving the open list", async () => (await link.count()) === 0);
  await page.click("[data-test=warning-filter-all]");
  await link.waitFor();
  assert.match(await row.innerText(), /已关闭/);
  await page.close();
});

test("the situation report of the month: three periods side by side, charts, English, print on A4, CSV with BOM", async () => {
  const page = await ctx.newPage();
  await signInAgain(page, "sup1");
  await page.goto(`${URL}/report`);
  // The current month by the server's simulated clock (March 2026 and 16 days).
  await page.locator("[data-test=report-heading]", { hasText: "2026-03" }).waitFor();
  const received = page.locator("[data-test=table-overview] tbody tr", { hasText: "收件数" });
  assert.equal(await received.locator("td").nth(1).innerText(), String(registered), "received = the petitions registered");
  assert.equal(await received.locator("td").nth(2).innerText(), "0", "none in February");
  assert.equal(await received.locator("td").nth(3).innerText(), "—", "no change against nothing");
  assert.match(await page.locator("[data-test=table-topEmployers]").innerText(), /某建筑/);
  assert.match(await page.locator("[data-test=table-byChannel]").innerText(), /来电/);
  assert.match(await page.locator("[data-test=table-rates]").innerText(), /按期受理告知率/);
  assert.match(await page.locator("[data-test=table-evaluation] [data-test=evaluation-office]").innerText(), /信访工作机构/);
  assert.match(await page.locator("[data-test=warnings-raised]").innerText(), /[1-9]/);
  await page.waitForSelector("[data-test=chart-byCategory] canvas");
  await page.waitForSelector("[data-test=chart-backlog] canvas");
  await shot(page, "17-report");
  // The CSV opens in Excel on Chinese Windows: UTF-8 with a BOM.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-test=report-csv]")]);
  const csv = readFileSync(await download.path());
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.match(csv.toString("utf8"), new RegExp(`\\r\\n总体情况,收件数,${registered},0,—,`));
  // Printed: no navigation, no pickers, the tables; and an A4 page.
  await page.click("[data-test=report-print]");
  assert.equal(await page.evaluate(() => window.__printed), 1);
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.locator(".top").isVisible(), false, "navigation hidden in print");
  assert.equal(await page.locator("[data-test=report-load]").isVisible(), false, "pickers hidden in print");
  assert.ok(await page.locator("[data-test=table-overview]").isVisible());
  for (const k of ["byCategory", "backlog"]) {
    await page.locator(`[data-test=chart-${k}] img.chart-print`).waitFor({ state: "visible", timeout: 5000 });
  }
  await page.pdf({ path: join(ART, "18-report.pdf"), format: "A4", printBackground: true });
  await page.setViewportSize({ width: 794, height: 1123 }); // A4 at 96 dpi
  await shot(page, "18-report-print");
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ media: "screen" });
  // A quarter asked for: the same month's quarter.
  await page.click("[data-test=kind-quarter]");
  await page.click("[data-test=report-load]");
  await page.locator("[data-test=report-heading]", { hasText: "2026-Q1" }).waitFor();
  // English: the labels switch, the figures stay.
  await page.click("[data-test=lang]");
  await page.locator("[data-test=report-heading]", { hasText: "Situation report" }).waitFor();
  const head = await page.locator("[data-test=table-overview] thead").innerText();
  assert.match(head, /This period[\s\S]*Previous[\s\S]*A year before/);
  assert.match(await page.locator("[data-test=table-byChannel]").innerText(), /call/);
  assert.ok(await page.locator(".el-menu", { hasText: "Situation report" }).count());
  await shot(page, "19-report-english");
  await page.click("[data-test=lang]");
  await page.locator("[data-test=report-heading]", { hasText: "形势分析" }).waitFor();
  await page.close();
});

test("a reader of the complained-about unit sees none of the petitioner's identity or accusation", async () => {
  const page = await ctx.newPage();
  const bodies = recordApi(page);
  await signIn(page, "reader1");
  await page.goto(`${URL}/case/${tracking}`);
  await page.waitForSelector("[data-test=case-page]");
  await page.waitForSelector("text=已隐去信访人身份与反映内容");
  await page.goto(`${URL}/queue`);
  await page.waitForSelector("[data-test=queue]");
  await page.goto(`${URL}/case/${tracking}`);
  await page.waitForSelector("[data-test=case-page]");
  await page.waitForTimeout(500);
  const dom = await page.content();
  const seen = bodies.join("\n");
  assert.ok(bodies.length > 3, "API answers were recorded");
  for (const [what, s] of Object.entries(secrets)) {
    assert.ok(!dom.includes(s), `the page shows the ${what}`);
    assert.ok(!seen.includes(s), `an API answer carries the ${what}`);
  }
  await shot(page, "09-redacted");
  await page.close();
});

test("English beside Chinese: every label switches, Element Plus too, and the choice is remembered", async () => {
  const page = await ctx.newPage();
  await page.goto(`${URL}/signin`);
  await page.waitForSelector("text=信访工作平台 · 登录");
  await page.click("[data-test=lang]");
  await page.waitForSelector("text=Petition office · Sign in");
  assert.equal(await page.locator("[data-test=signin]").innerText(), "Sign in");
  await signIn(page, "head2", "en");
  assert.match(await page.locator(".el-menu").innerText(), /My queue[\s\S]*Supervision board[\s\S]*Statistics/);
  // Remembered across a reload (localStorage), and Element Plus speaks English too.
  await page.goto(`${URL}/stats`);
  await page.waitForSelector("text=Export CSV");
  assert.equal(await page.locator(".el-range-input").first().getAttribute("placeholder"), "Start date");
  await page.click("[data-test=stats-load]");
  await page.waitForSelector("[data-test=chart-byMonth] canvas");
  await page.waitForSelector("text=By month");
  await page.click(".el-menu >> text=My queue");
  await page.waitForSelector("text=Overdue only");
  await page.locator("[data-test=stage]").click();
  await page.locator(".el-select-dropdown__item:visible", { hasText: "All stages" }).waitFor();
  await page.keyboard.press("Escape");
  let text = await page.locator("body").innerText();
  // State titles are the definition's own words ("办理中 in handling"), shown
  // as the API gives them; every label of the console is English, and only
  // the switch back names its language in Chinese.
  for (const title of await page.locator("[data-test=state-title]").allInnerTexts()) {
    text = text.replace(title, "");
  }
  assert.ok(!/[\u4e00-\u9fff]/.test(text.replace("中文", "")),
    `Chinese left on the English queue page: ${text}`);
  await shot(page, "12-english");
  // Back to Chinese for anyone after.
  await page.click("[data-test=lang]");
  await page.waitForSelector("text=我的待办");
  await page.close();
});
