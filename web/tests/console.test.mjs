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

function xfctl(token, ...args) {
  return execFileSync(env.XF_XFCTL, ["--server", env.XF_GRPC, "--token", token, ...args], { encoding: "utf8" });
}

before(async () => {
  ctx = await chromium.launchPersistentContext(env.XF_PROFILE ?? join(ART, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
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
async function pick(page, sel, optionText) {
  await page.locator(sel).first().click();
  await page.locator(".el-select-dropdown__item:visible", { hasText: optionText }).first().click();
}
async function shot(page, name) { await page.screenshot({ path: join(ART, `${name}.png`), fullPage: true }); }

// Signs in with the administrator's initial password, choosing one's own.
async function signIn(page, account) {
  await page.goto(`${URL}/signin`);
  await fill(page, "input[name=account]", account);
  await fill(page, "input[name=password]", `Initial-${account}-1`);
  await page.click("[data-test=signin]");
  await page.waitForSelector("text=首次登录");
  await fill(page, "input[name=newPassword]", `${account}-自己的密码-9`);
  await fill(page, "input[name=repeat]", `${account}-自己的密码-9`);
  await page.click("[data-test=signin]");
  await page.waitForSelector("[data-test=me]");
}

test("a clerk signs in, registers a visit with every field checked as typed, prints the receipt", async () => {
  const page = await ctx.newPage();
  const t0 = Date.now();
  await page.goto(`${URL}/signin`);
  await page.waitForSelector("[data-test=signin]");
  console.log(`first screen in ${Date.now() - t0} ms`);
  await shot(page, "01-signin");
  await signIn(page, "clerk1");
  await page.goto(`${URL}/desk`);
  await page.waitForSelector("[data-test=register]");
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
  await pick(page, "[data-test=category]", "wages.arrears");
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
  await page.click("[data-test=do-serve]");
  await page.waitForSelector("text=served");
  await shot(page, "05-served");
  // My queue: nearest deadline first.
  await page.goto(`${URL}/queue`);
  const late = page.locator("[data-test=queue] tr", { hasText: env.XF_LATE_CASE });
  await late.waitFor();
  assert.match(await late.innerText(), /\d+ 天/);
  await shot(page, "06-queue");
  await page.close();
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
  await shot(page, "08-stats");
  // The CSV opens in Excel on Chinese Windows: UTF-8 with a BOM.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-test=csv]")]);
  const csv = readFileSync(await download.path());
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  assert.match(csv.toString("utf8"), /按期受理告知率,/);
  // A unit with no cases: 0 of 0 is "—", never 0 %.
  await fill(page, "[data-test=stats-unit]", "prov.city-a");
  await page.click("[data-test=stats-load]");
  await page.waitForFunction(() => document.querySelector("[data-test=rates]")?.textContent?.includes("—"));
  assert.ok(!(await page.locator("[data-test=rates]").innerText()).includes("0.0%"));
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
