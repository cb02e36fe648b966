// The host's panel: logs in (HttpOnly session cookie), follows /api/v1/live (a snapshot, then
// merge-patch deltas several times a second), draws the charts, refreshes the preview about
// once a second while visible, and drives the API. What it shows is always what the box pushed.
import { LineChart } from "./chart.js";
import { $, isStreaming, renderDestinations, renderEvents, renderGoLive, renderHeader, renderSources } from "./render.js";

const STALE_MS = 1500;       // no push for this long: the link to the box is down
const PREVIEW_MS = 1000;
const ARM_MS = 3000;         // Stop needs a second tap within this
const PENDING_MS = 8000;     // give up waiting for the state to follow a press

const ui = { role: "none", canControl: false, armedStop: false, pending: "", pendingFrom: "" };
let doc = null;               // { status, events } as pushed
let seq = 0;
let lastPush = 0;
let socket = null;
let retryMs = 500;
let armTimer = 0, pendingTimer = 0, previewTimer = 0;

const charts = {
  bitrate: new LineChart($("c-bitrate"), { unit: "kb/s", floor: 500, series: [
    { key: "bitrate_target_kbps", color: "#5b8cff" }, { key: "bitrate_actual_kbps", color: "#34d399" }] }),
  fps: new LineChart($("c-fps"), { unit: "fps", floor: 30, series: [{ key: "fps", color: "#34d399" }] }),
  rtt: new LineChart($("c-rtt"), { unit: "ms", floor: 10, digits: 1, series: [{ key: "rtt_ms", color: "#fbbf24" }] }),
  loss: new LineChart($("c-loss"), { unit: "%", floor: 1, digits: 1, series: [
    { key: "loss_pct", color: "#f87171" }, { key: "retrans_pct", color: "#fbbf24" }] }),
  latency: new LineChart($("c-latency"), { unit: "ms", floor: 20, series: [
    { key: "encode_ms", color: "#a78bfa" }, { key: "pipeline_ms", color: "#5b8cff" }] }),
  cpu: new LineChart($("c-cpu"), { unit: "%", floor: 100, series: [{ key: "cpu_pct", color: "#f472b6" }] }),
};

function showChartValues() {
  const v = (chart, key, digits = 0) => { const x = chart.latest(key); return x === undefined ? "–" : x.toFixed(digits); };
  $("v-bitrate").textContent = `${v(charts.bitrate, "bitrate_actual_kbps")} / ${v(charts.bitrate, "bitrate_target_kbps")} kb/s`;
  $("v-fps").textContent = v(charts.fps, "fps", 1);
  $("v-rtt").textContent = `${v(charts.rtt, "rtt_ms", 1)} ms`;
  $("v-loss").textContent = `${v(charts.loss, "loss_pct", 1)} %`;
  $("v-latency").textContent = `${v(charts.latency, "encode_ms")} / ${v(charts.latency, "pipeline_ms")} ms`;
  $("v-cpu").textContent = `${v(charts.cpu, "cpu_pct")} %`;
}

// RFC 7386: null removes, objects merge, anything else replaces.
function mergePatch(target, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = target !== null && typeof target === "object" && !Array.isArray(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function linkUp() {
  return socket?.readyState === WebSocket.OPEN && Date.now() - lastPush < STALE_MS;
}

function render() {
  const up = linkUp();
  $("link").dataset.link = up ? "up" : "down";
  $("link").textContent = up ? "live link" : "reconnecting…";
  document.body.classList.toggle("stale", !up);
  if (!doc) return;
  const s = doc.status || {};
  // The state followed the press (or the press changed nothing): stop waiting.
  if (ui.pending && s.state !== ui.pendingFrom) clearPending();
  renderHeader(s, up);
  renderGoLive(s, ui);
  renderSources(s, ui.canControl);
  renderDestinations(s);
  renderEvents(doc.events);
}

function onMessage(event) {
  const msg = JSON.parse(event.data);
  if (msg.type === "snapshot") {
    doc = msg.doc;
    seq = msg.seq;
    for (const chart of Object.values(charts)) chart.setHistory(msg.history || []);
  } else if (msg.type === "delta") {
    if (msg.seq !== seq + 1) { socket.close(); return; } // missed one: start over with a snapshot
    seq = msg.seq;
    doc = mergePatch(doc, msg.patch);
    for (const chart of Object.values(charts)) chart.push(msg.sample || {});
  }
  lastPush = Date.now();
  retryMs = 500;
  showChartValues();
  render();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  socket = new WebSocket(scheme + location.host + "/api/v1/live");
  socket.onmessage = onMessage;
  socket.onclose = async () => {
    socket = null;
    render();
    if (!(await checkSession())) return;
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 5000);
  };
}

async function checkSession() {
  try {
    const res = await fetch("/api/v1/session", { cache: "no-store" });
    if (res.status === 401) { showLogin(""); return false; }
    if (res.ok) setRole((await res.json()).role);
  } catch { /* the box is unreachable: keep retrying */ }
  return true;
}

function setRole(role) {
  ui.role = role;
  ui.canControl = role === "control";
  $("role").textContent = ui.canControl ? "" : "view only";
}

async function call(path, body) {
  $("action-error").textContent = "";
  try {
    const res = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : "",
    });
    const data = await res.json().catch(() => ({}));
    if (res.status === 401) showLogin("Your session ended: log in again.");
    if (!res.ok) { $("action-error").textContent = data.error || res.statusText; clearPending(); }
    return res.ok;
  } catch (err) {
    $("action-error").textContent = "cannot reach onair";
    clearPending();
    return false;
  }
}

function clearPending() {
  ui.pending = "";
  clearTimeout(pendingTimer);
}

function waitForState(label, from) {
  ui.pending = label;
  ui.pendingFrom = from;
  clearTimeout(pendingTimer);
  pendingTimer = setTimeout(() => { clearPending(); render(); }, PENDING_MS);
  render();
}

async function onGoLive() {
  const state = doc?.status?.state;
  if (!isStreaming(state)) {
    waitForState("Starting…", state);
    await call("/api/v1/stream/start");
    return;
  }
  if (!ui.armedStop) { // a stray tap must not end the stream
    ui.armedStop = true;
    clearTimeout(armTimer);
    armTimer = setTimeout(() => { ui.armedStop = false; render(); }, ARM_MS);
    render();
    return;
  }
  ui.armedStop = false;
  clearTimeout(armTimer);
  waitForState("Stopping…", state);
  await call("/api/v1/stream/stop");
}

function refreshPreview() {
  clearTimeout(previewTimer);
  if (document.hidden || $("panel").hidden) return; // nobody looks: the box makes no JPEG
  const img = new Image();
  img.onload = () => {
    $("preview").src = img.src;
    $("preview-missing").hidden = true;
    previewTimer = setTimeout(refreshPreview, PREVIEW_MS);
  };
  img.onerror = () => {
    $("preview-missing").hidden = false;
    previewTimer = setTimeout(refreshPreview, PREVIEW_MS * 2);
  };
  img.src = "/api/v1/preview.jpg?t=" + Date.now();
}

async function loadBackup() {
  const res = await fetch("/api/v1/backup", { cache: "no-store" }).catch(() => null);
  if (!res || !res.ok) { $("backup-none").hidden = false; $("backup-link").hidden = true; return; }
  const link = await res.json();
  $("backup-url").textContent = link.url;
  $("backup-pass").hidden = !link.passphrase_required;
  $("qr").src = link.qr + "?t=" + Date.now();
  $("backup-link").hidden = false;
  $("backup-none").hidden = true;
}

function showLogin(message) {
  if (socket) { socket.onclose = null; socket.close(); socket = null; }
  $("panel").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("token").focus();
}

function showPanel() {
  $("login").hidden = true;
  $("panel").hidden = false;
  for (const chart of Object.values(charts)) chart.resize();
  connect();
  loadBackup();
  refreshPreview();
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const res = await fetch("/api/v1/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: $("token").value }),
  }).catch(() => null);
  if (!res) { $("login-error").textContent = "cannot reach onair"; return; }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    $("login-error").textContent = res.status === 401 ? "Wrong token." : data.error || res.statusText;
    return;
  }
  $("token").value = "";
  setRole(data.role);
  showPanel();
}

async function logout() {
  await fetch("/api/v1/logout", { method: "POST" }).catch(() => null);
  showLogin("Logged out.");
}

$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", logout);
$("golive").addEventListener("click", onGoLive);
document.querySelectorAll("[data-source]").forEach((b) => {
  b.addEventListener("click", () => call("/api/v1/source", { source: b.dataset.source }));
});
document.addEventListener("visibilitychange", refreshPreview);
setInterval(render, 500); // notices a silent link even when no push arrives

(async () => {
  const res = await fetch("/api/v1/session", { cache: "no-store" }).catch(() => null);
  if (res && res.ok) {
    setRole((await res.json()).role);
    showPanel();
  } else {
    showLogin(res ? "" : "cannot reach onair");
  }
})();
