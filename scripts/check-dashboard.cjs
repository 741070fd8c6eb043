// Drives `llm-loadtest serve` in headless Chromium (puppeteer-core over the system's
// Chromium) as a person would, and keeps what it saw in OUTDIR: a screenshot of each page
// in light and dark mode, and summary.json (pages, the run started, the WebSocket frames
// and page updates seen, every URL requested). Fails when a page logs to the console
// (a script error, a Content-Security-Policy violation, a blocked request), opens a
// dialog, or asks for anything but 127.0.0.1. The test that runs this
// (tests/it/dashboard.rs) checks the summary.
//
// Usage: node scripts/check-dashboard.cjs URL OUTDIR COMPARE_ID COMPARE_ID
// Environment: PUPPETEER_MODULE (the puppeteer-core folder), CHROMIUM (the browser),
// HOSTILE_MODEL (the model name the run is started with).
"use strict";

const fs = require("fs");
const path = require("path");
const puppeteer = require(process.env.PUPPETEER_MODULE || "puppeteer-core");

const [base, out, first, second] = process.argv.slice(2);
if (!base || !out || !second) {
  console.error("usage: check-dashboard.cjs URL OUTDIR COMPARE_ID COMPARE_ID");
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const problems = [];
const requested = [];
const frames = [];

function watch(page) {
  page.on("console", (m) => problems.push(`console ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("dialog", async (d) => {
    problems.push(`dialog: ${d.message()}`);
    await d.dismiss();
  });
  page.on("request", (r) => requested.push(r.url()));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
}

async function shoot(page, url, name) {
  const shots = [];
  for (const scheme of ["light", "dark"]) {
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
    const response = await page.goto(base + url, { waitUntil: "networkidle0" });
    if (!response.ok()) {
      problems.push(`${url}: HTTP ${response.status()}`);
    }
    const file = path.join(out, `${name}-${scheme}.png`);
    await page.screenshot({ path: file, fullPage: false });
    shots.push(file);
  }
  return { url, name, shots };
}

// The run page's progress: WebSocket frames (from the DevTools protocol) and DOM updates,
// until the run ends and the page reloads to its report.
async function startRun(page) {
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  await page.goto(base + "/new", { waitUntil: "networkidle0" });
  await page.select("#simulator", "fixed-20ms");
  await page.type("#model", process.env.HOSTILE_MODEL || "m");
  await page.type("#concurrency", "2, 4");
  await page.type("#num_prompts", "24");
  await page.type("#input_len", "64");
  await page.type("#output_len", "40");
  const cdp = await page.createCDPSession();
  await cdp.send("Network.enable");
  cdp.on("Network.webSocketFrameReceived", (e) => frames.push(JSON.parse(e.response.payloadData)));
  await Promise.all([page.waitForNavigation(), page.click("#start")]);
  const runUrl = page.url();
  const runId = decodeURIComponent(runUrl.split("/runs/")[1]);
  let loads = 0;
  page.on("load", () => loads++);
  await page.waitForFunction(() => Number(document.getElementById("live")?.dataset.updates) >= 3, {
    timeout: 60000,
  });
  const updatesBeforeReload = await page.$eval("#live", (e) => Number(e.dataset.updates));
  const loadsWhileRunning = loads;
  await page.screenshot({ path: path.join(out, "run-live-light.png") });
  await page.waitForSelector("#report", { timeout: 90000 });
  const report = page.frames().find((f) => f.url().includes("/report"));
  await report.waitForSelector("h1");
  const reportTitle = await report.$eval("h1", (e) => e.textContent);
  await cdp.detach();
  return { runId, updatesBeforeReload, loadsWhileRunning, reportTitle };
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--proxy-server=127.0.0.1:9",
    ],
  });
  const summary = { pages: [] };
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    watch(page);
    const pair = `id=${encodeURIComponent(first)}&id=${encodeURIComponent(second)}`;
    const pages = [
      ["/", "overview"],
      ["/history", "history"],
      [`/runs/${encodeURIComponent(first)}`, "run"],
      [`/compare?${pair}`, "compare"],
      ["/trends", "trends"],
      ["/new", "new"],
    ];
    for (const [url, name] of pages) {
      summary.pages.push(await shoot(page, url, name));
    }
    summary.run = await startRun(page);
    summary.pages.push(await shoot(page, `/runs/${encodeURIComponent(summary.run.runId)}`, "run-finished"));
    await page.goto(base + "/history", { waitUntil: "networkidle0" });
    summary.history = await page.$$eval("tr[data-run-id]", (rows) =>
      rows.map((r) => ({ id: r.dataset.runId, text: r.textContent })),
    );
    summary.images = await page.$$eval("img", (images) => images.length);
    summary.scripts = await page.$$eval("script", (s) => s.map((e) => e.src));
  } catch (e) {
    problems.push(`failed: ${e.stack || e}`);
  } finally {
    await browser.close();
  }
  summary.frames = frames;
  summary.requested = requested;
  summary.problems = problems;
  fs.writeFileSync(path.join(out, "summary.json"), JSON.stringify(summary, null, 2));
  if (problems.length > 0) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  console.log(`ok: ${out}`);
})();
