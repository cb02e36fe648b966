// The host's panel: polls the status twice a second and drives the API with the control token.
"use strict";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
let token = localStorage.getItem("onair.token") || "";

async function call(path, body) {
  if (!token) await askToken();
  const res = await fetch(path, {
    method: "POST",
    headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : "",
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 || res.status === 403) { token = ""; localStorage.removeItem("onair.token"); }
  $("action-error").textContent = res.ok ? "" : (data.error || res.statusText);
  refresh();
}

function askToken() {
  return new Promise((resolve) => {
    const dlg = $("login");
    dlg.addEventListener("close", () => {
      token = $("token").value;
      localStorage.setItem("onair.token", token);
      resolve();
    }, { once: true });
    dlg.showModal();
  });
}

function render(s) {
  $("state").textContent = s.state;
  $("state").dataset.state = s.state;
  $("ready").textContent = s.ready ? "ready" : s.ready_reason;
  const streaming = ["starting", "live", "reconnecting"].includes(s.state);
  $("golive").disabled = streaming;
  $("stop").disabled = !streaming;
  $("mode").textContent = s.source_mode === "manual" ? `manual: ${s.forced_source}` : "auto";
  $("sources").innerHTML = s.sources.map((src) => `
    <div class="source ${src.active ? "on-air" : ""}">
      <span><span class="dot ${src.healthy ? "ok" : src.state === "failed" ? "bad" : "wait"}"></span>
      <b>${esc(src.role)}</b> <span class="muted">${esc(src.type)}</span></span>
      <span class="muted">${src.healthy ? `${esc(src.input)} · ${src.fps} fps` : esc(src.reason || src.state)}${src.active ? " · ON AIR" : ""}</span>
    </div>`).join("");
  document.querySelectorAll("[data-source]").forEach((b) => {
    const name = b.dataset.source;
    b.classList.toggle("active", name === "auto" ? s.source_mode === "auto" : s.forced_source === name);
    b.disabled = name !== "auto" && !s.sources.some((src) => src.role === name);
  });
  $("destinations").innerHTML = s.destinations.map((d) => `
    <div class="dest"><span><span class="dot ${d.state === "connected" ? "ok" : d.state === "stopped" ? "" : "bad"}"></span>
      <b>${esc(d.name)}</b> <span class="muted">${esc(d.url)}</span></span>
      <span class="muted">${d.state === "connected"
        ? `${(d.send_rate_mbps ?? 0).toFixed(2)} Mb/s · RTT ${(d.rtt_ms ?? 0).toFixed(0)} ms · lost ${d.packets_lost}`
        : esc(d.reason || d.state)}</span></div>`).join("");
  const e = s.encoder;
  $("encoder").innerHTML = `
    <dt>Encoder</dt><dd>${esc(e.name)} <span class="muted">${esc(e.note)}</span></dd>
    <dt>Bitrate</dt><dd>${e.actual_kbps} / ${e.bitrate_kbps} kb/s</dd>
    <dt>Program</dt><dd>${s.program.width}×${s.program.height} @ ${s.program.fps} fps</dd>
    <dt>Dropped</dt><dd>${s.program.frames_dropped} frames</dd>
    <dt>Display</dt><dd>${esc(s.display.sink)}</dd>`;
}

async function refresh() {
  try {
    const [status, events] = await Promise.all([
      fetch("/api/v1/status").then((r) => r.json()),
      fetch("/api/v1/events").then((r) => r.json()),
    ]);
    render(status);
    $("events").innerHTML = events.events.slice(0, 50).map((ev) =>
      `<li><span class="muted">${esc(ev.time.slice(11, 19))}</span> ${esc(ev.kind)}: ${esc(ev.from)} → ${esc(ev.to)} <span class="muted">${esc(ev.reason)}</span></li>`).join("");
  } catch (err) {
    $("state").textContent = "offline";
    $("state").dataset.state = "error";
    $("ready").textContent = "cannot reach onair";
  }
}

$("golive").onclick = () => call("/api/v1/stream/start");
$("stop").onclick = () => call("/api/v1/stream/stop");
document.querySelectorAll("[data-source]").forEach((b) => { b.onclick = () => call("/api/v1/source", { source: b.dataset.source }); });
refresh();
setInterval(refresh, 500);
