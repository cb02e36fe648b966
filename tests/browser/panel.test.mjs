// The panel in a real browser: Debian's chromium driven by playwright-core against the real
// build/onair streaming to a real SRT ingest (srt-live-transmit), with a real backup "phone"
// (ffmpeg pushing SRT) for the failover step. Screenshots go to $SCREENSHOT_DIR.
// Run by tests/browser/run (ctest: test_e2e_panel_browser).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const ONAIR = process.env.ONAIR_BINARY;
const SOURCE_DIR = process.env.ONAIR_SOURCE_DIR;
const SHOTS = process.env.SCREENSHOT_DIR || path.resolve("screenshots");
const TOKEN = "browser-test-token-8c1f";
const WAIT = 20_000; // every wait is bounded by this

const work = fs.mkdtempSync(path.join(os.tmpdir(), "onair-browser-"));
const children = [];
let base, context, page, httpPort, backupPort, ingest;

function freeTcpPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A UDP port below the ephemeral range that binds right now (SRT listeners need one).
async function freeUdpPort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    const ok = await new Promise((resolve) => {
      const socket = dgram.createSocket("udp4");
      socket.once("error", () => resolve(false));
      socket.bind(port, "127.0.0.1", () => socket.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error("no free UDP port found in 50 tries");
}

function start(name, argv, env = {}) {
  const log = fs.openSync(path.join(work, `${name}.log`), "a");
  const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", log, log], env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill("SIGKILL"), 3000);
    child.once("exit", () => { clearTimeout(kill); resolve(); });
    child.kill("SIGTERM");
  });
}

async function until(what, pred, timeout = WAIT) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    try { if (await pred()) return; } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}; onair log:\n` + fs.readFileSync(path.join(work, "onair.log"), "utf8").slice(-3000));
}

async function api(target, init = {}) {
  const res = await fetch(base + target, { ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers || {}) } });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}
const status = async () => JSON.parse((await api("/api/v1/status")).body);

// In the page: whether the preview's centre is the phone's blue (the stage camera's bars are green there).
function previewIsBlue(expected) {
  const img = document.getElementById("preview");
  if (!img.naturalWidth) return false;
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const [r, g, b] = ctx.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data;
  return (b > 180 && r < 90 && g < 120) === expected;
}

async function shot(name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

before(async () => {
  assert.ok(ONAIR && fs.existsSync(ONAIR), `ONAIR_BINARY not found: ${ONAIR}`);
  fs.mkdirSync(SHOTS, { recursive: true });
  httpPort = await freeTcpPort();
  const ingestPort = await freeUdpPort();
  backupPort = await freeUdpPort();
  ingest = start("ingest", ["srt-live-transmit", "-q", `srt://127.0.0.1:${ingestPort}?mode=listener&latency=120`, "file://con"]);
  const config = path.join(work, "onair.yaml");
  fs.writeFileSync(config, `video: { width: 640, height: 360, framerate: 30 }
audio: { enabled: true, bitrate_kbps: 96 }
sources:
  primary: { type: test, label: stage camera }
  backup: { type: srt, url: "srt://:${backupPort}?mode=listener&latency=200", label: phone }
failover: { failback_hold_ms: 1000 }
encoder: { type: x264, bitrate_kbps: 1500, bitrate_min_kbps: 300 }
uplink:
  destinations:
    - { name: ingest, url: "srt://127.0.0.1:${ingestPort}?mode=caller&latency=120&peeridletimeo=4000" }
display: { sink: none }
control: { listen: "127.0.0.1:${httpPort}", token: "${TOKEN}" }
stream: { autostart: true }
`);
  start("onair", [ONAIR, "--config", config], { ONAIR_DATA_DIR: SOURCE_DIR });
  base = `http://127.0.0.1:${httpPort}`;
  await until("onair's /healthz", async () => (await fetch(base + "/healthz")).ok);
  context = await chromium.launchPersistentContext(path.join(work, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1366, height: 900 },
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(WAIT);
});

after(async () => {
  await context?.close().catch(() => {});
  for (const child of children.reverse()) await stop(child);
  if (!process.env.KEEP_LOGS) fs.rmSync(work, { recursive: true, force: true });
});

test("log in: a wrong token is refused, the right one opens the panel (HttpOnly cookie)", async () => {
  await page.goto(base + "/");
  await page.locator("#login").waitFor({ state: "visible" });
  await shot("1-login");
  await page.fill("#token", "not-the-token");
  await page.click("#login-button");
  await page.locator("#login-error", { hasText: "Wrong token." }).waitFor();
  await page.fill("#token", TOKEN);
  await page.click("#login-button");
  await page.locator("#panel").waitFor({ state: "visible" });
  const cookies = await context.cookies(base);
  const session = cookies.find((c) => c.name === "onair_session");
  assert.ok(session, "no session cookie");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  assert.equal(await page.evaluate(() => document.cookie), ""); // scripts cannot read it
});

test("live state is pushed, the chart moves, the preview refreshes", async () => {
  await page.locator("#state", { hasText: "live" }).waitFor();
  await page.locator("#link", { hasText: "live link" }).waitFor();
  assert.equal((await status()).state, "live");
  const before = await page.evaluate(() => document.getElementById("c-bitrate").toDataURL());
  await page.waitForFunction((b) => document.getElementById("c-bitrate").toDataURL() !== b, before);
  await page.waitForFunction(() => /^\d+(\.\d)? \/ 1500 kb\/s$/.test(document.getElementById("v-bitrate").textContent));
  await page.waitForFunction(() => document.getElementById("preview").naturalWidth === 640);
  const src = await page.getAttribute("#preview", "src");
  await page.waitForFunction((s) => document.getElementById("preview").getAttribute("src") !== s, src);
  await page.locator('#source-list [data-role="primary"].on-air').waitFor();
  await page.locator('#destinations [data-destination="ingest"]', { hasText: "RTT" }).waitFor();
  await page.locator("#events li").first().waitFor();
  await shot("2-live-laptop");
});

test("Stop (two taps) and Go Live: the panel follows the real state", async () => {
  await page.locator("#golive", { hasText: "Stop" }).waitFor();
  await page.click("#golive");
  await page.locator("#golive", { hasText: "Tap again to stop" }).waitFor();
  assert.equal((await status()).state, "live"); // one tap changed nothing
  await page.click("#golive");
  await page.locator("#state", { hasText: "idle" }).waitFor();
  assert.equal((await status()).state, "idle");
  await page.locator("#golive", { hasText: "Go Live" }).waitFor();
  assert.equal(await page.isEnabled("#golive"), true);
  await shot("3-stopped");
  await page.click("#golive");
  await page.locator("#state", { hasText: "live" }).waitFor();
  assert.equal((await status()).state, "live");
  await page.locator("#golive", { hasText: "Stop" }).waitFor();
});

test("force the backup camera with a phone sending, see the source change, then back to auto", async () => {
  // The phone sends plain blue, so the preview can tell it from the stage camera's colour bars.
  start("phone", ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "color=c=0x1030f0:size=640x360:rate=30",
    "-f", "lavfi", "-i", "sine=f=880:sample_rate=48000", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
    "-g", "30", "-b:v", "800k", "-c:a", "aac", "-f", "mpegts", `srt://127.0.0.1:${backupPort}?mode=caller&latency=200000`]);
  await page.locator('#source-list [data-role="backup"] .dot.ok').waitFor();
  await page.click('[data-source="backup"]');
  await page.locator("#on-air", { hasText: "phone" }).waitFor();
  await page.locator('#source-list [data-role="backup"].on-air').waitFor();
  await page.locator("#mode", { hasText: "held on backup" }).waitFor();
  const s = await status();
  assert.equal(s.active_source, "backup");
  assert.equal(s.source_mode, "manual");
  await page.locator("#preview-label", { hasText: "phone" }).waitFor();
  await page.waitForFunction(previewIsBlue, true);  // the picture itself, not just the label
  await shot("4-backup-on-air");
  await page.click('[data-source="auto"]');
  await page.locator("#mode", { hasText: "automatic" }).waitFor();
  await page.locator("#on-air", { hasText: "stage camera" }).waitFor();
  assert.equal((await status()).active_source, "primary");
  await page.waitForFunction(previewIsBlue, false);
});

test("the backup camera's QR code and URL are shown", async () => {
  await page.waitForFunction(() => document.getElementById("qr").naturalWidth > 0);
  const url = await page.textContent("#backup-url");
  assert.match(url, new RegExp(`^srt://[0-9.]+:${backupPort}\\?mode=caller&latency=200$`));
  const qr = await api("/api/v1/backup/qr.svg");
  assert.equal(qr.status, 200);
  assert.equal(qr.type, "image/svg+xml");
});

test("the ingest goes quiet (a venue drop-out): the panel says so at once, then the stream goes on", async () => {
  // The ingest stops answering (SIGSTOP: nothing closes); the link is declared down only after
  // peeridletimeo (4 s here), but the host sees the silence from 250 ms on.
  await page.locator("#abr", { hasText: "steady" }).waitFor();
  const resumes = (await status()).destinations[0].resumes;
  ingest.kill("SIGSTOP");
  try {
    await page.locator('#destinations [data-destination="ingest"] .dot.wait').waitFor();
    await page.locator('#destinations [data-destination="ingest"]', { hasText: "no answer from the ingest for" }).waitFor();
    await page.locator("#abr", { hasText: "holding: the link is quiet" }).waitFor();  // an outage is not congestion
    await shot("6-drop-out");
  } finally {
    ingest.kill("SIGCONT");
  }
  await page.locator('#destinations [data-destination="ingest"] .dot.ok').waitFor();
  await page.locator('#destinations [data-destination="ingest"]', { hasText: "RTT" }).waitFor();
  const d = (await status()).destinations[0];
  assert.equal(d.state, "connected");
  assert.equal(d.resumes, resumes);  // never declared down: the same link went on
  assert.ok(d.peer_silent_ms < 250, `still quiet: ${d.peer_silent_ms} ms`);
});

test("phone layout: one column, everything readable", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator("#state", { hasText: "live" }).waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page scrolls sideways on a phone (${width} px)`);
  const go = await page.locator("#golive").boundingBox();
  assert.ok(go.height >= 60 && go.width >= 300, "Go Live/Stop is not big enough to hit on a phone");
  await shot("5-phone");
  await page.setViewportSize({ width: 1366, height: 900 });
});

test("log out: the session ends and the panel asks for the token again", async () => {
  await page.click("#logout");
  await page.locator("#login").waitFor({ state: "visible" });
  assert.equal((await page.evaluate(async () => (await fetch("/api/v1/status")).status)), 401);
});

test("an encoder whose bitrate cannot change while it runs (stand-in fragment: x264enc's quantizer; vah264enc needs a VA device): the panel says adapting is off, and why", async () => {
  // A second onair on tests/data/fixedrate, as in test_e2e_onair_control: the shipped data dir
  // whose one encoder is x264 with a quantizer GStreamer cannot change while playing.
  const data = path.join(SOURCE_DIR, "tests", "data", "fixedrate");
  const port = await freeTcpPort();
  const config = path.join(work, "fixedrate.yaml");
  // Nobody listens at the destination: the panel shows the encoder whether or not it is live.
  fs.writeFileSync(config, `video: { width: 640, height: 360, framerate: 30 }
sources:
  primary: { type: test, label: stage camera }
encoder: { type: fixedrate, bitrate_kbps: 1500, bitrate_min_kbps: 300 }
uplink:
  destinations:
    - { name: ingest, url: "srt://127.0.0.1:${await freeUdpPort()}?mode=caller&latency=120" }
display: { sink: none }
control: { listen: "127.0.0.1:${port}", token: "${TOKEN}" }
`);
  const onair = start("onair-fixedrate", [ONAIR, "--config", config], { ONAIR_DATA_DIR: data });
  const fixedBase = `http://127.0.0.1:${port}`;
  const fixedPage = await context.newPage();
  try {
    await until("the second onair's /healthz", async () => (await fetch(fixedBase + "/healthz")).ok);
    await fixedPage.goto(fixedBase + "/");
    await fixedPage.fill("#token", TOKEN);
    await fixedPage.click("#login-button");
    await fixedPage.locator("#panel").waitFor({ state: "visible" });
    const abr = fixedPage.locator("#abr");
    await abr.filter({ hasText: "the encoder's bitrate is fixed while it runs: x264enc's quantizer cannot change while it plays" }).waitFor();
    assert.match(await abr.innerText(), /^off /);
    // No range it could move in: 1500 kb/s is what it runs at.
    assert.match(await fixedPage.locator("#bitrate").innerText(), /of 1500 kb\/s \(fixed\)$/);
    await fixedPage.screenshot({ path: path.join(SHOTS, "7-fixed-bitrate.png"), fullPage: true });
  } catch (e) {
    e.message += "\nsecond onair's log:\n" + fs.readFileSync(path.join(work, "onair-fixedrate.log"), "utf8").slice(-3000);
    throw e;
  } finally {
    await fixedPage.close();
    await stop(onair);
  }
});
