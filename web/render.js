// Turns the status document into the page. Pure DOM updates; no state of its own.
export const $ = (id) => document.getElementById(id);

const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const STREAMING = ["starting", "live", "reconnecting"];

export function isStreaming(state) {
  return STREAMING.includes(state);
}

// The big button: what pressing it would do, from the true state and what the host just pressed.
export function renderGoLive(s, ui) {
  const button = $("golive");
  const streaming = isStreaming(s.state);
  button.classList.toggle("live", !streaming);
  button.classList.toggle("stop", streaming);
  button.classList.toggle("armed", streaming && ui.armedStop);
  if (ui.pending) button.textContent = ui.pending;
  else if (s.state === "stopping") button.textContent = "Stopping…";
  else if (streaming) button.textContent = ui.armedStop ? "Tap again to stop" : "Stop";
  else button.textContent = "Go Live";
  button.disabled = !ui.canControl || !!ui.pending || s.state === "stopping";
  button.dataset.action = streaming ? "stop" : "start";
}

export function renderHeader(s, linkUp) {
  const badge = $("state");
  // A stale "LIVE" is worse than none: without a link to the box, say so instead.
  badge.textContent = linkUp ? s.state : "no link";
  badge.dataset.state = linkUp ? s.state : "unknown";
  const active = (s.sources || []).find((src) => src.active);
  // "On air" only while it really goes out; otherwise it is what the program (and display) shows.
  const prefix = isStreaming(s.state) ? "on air" : "program";
  $("on-air").textContent = active ? `${prefix}: ${active.label || active.role}` : "";
  $("state-reason").textContent = s.state_reason || "";
  $("ready").textContent = s.ready ? "ready: a camera is on air and the uplink is connected" : `not ready: ${s.ready_reason || "…"}`;
  $("preview-label").textContent = active ? `${active.label || active.role} · ${s.program?.width}×${s.program?.height}` : "";
}

function sourceLine(src) {
  if (!src.healthy) return esc(src.reason || src.state);
  const input = src.input ? `${esc(src.input)} in · ` : "";
  return `${input}${src.fps} fps`;
}

export function renderSources(s, canControl) {
  $("mode").textContent = s.source_mode === "manual" ? `· held on ${s.forced_source}` : "· automatic";
  $("source-list").innerHTML = (s.sources || []).map((src) => `
    <div class="item ${src.active ? "on-air" : ""}" data-role="${esc(src.role)}">
      <span class="dot ${src.healthy ? "ok" : src.state === "failed" ? "bad" : "wait"}"></span>
      <span class="name"><b>${esc(src.label || src.role)}</b> <span class="muted">${esc(src.role)} · ${esc(src.type)}</span></span>
      <span class="detail">${sourceLine(src)}</span>
      ${src.active ? '<span class="tag">ON AIR</span>' : ""}
    </div>`).join("");
  document.querySelectorAll("[data-source]").forEach((b) => {
    const name = b.dataset.source;
    const exists = name === "auto" || (s.sources || []).some((src) => src.role === name);
    b.classList.toggle("selected", name === "auto" ? s.source_mode === "auto" : s.source_mode === "manual" && s.forced_source === name);
    b.disabled = !canControl || !exists;
  });
}

function rate(mbps) {
  return mbps >= 1 ? `${mbps.toFixed(2)} Mb/s` : `${(mbps * 1000).toFixed(0)} kb/s`;
}

const QUIET_MS = 250;  // the uplink's kPeerQuietMs

export function renderDestinations(s) {
  $("destinations").innerHTML = (s.destinations || []).map((d) => {
    const up = d.state === "connected";
    // Connected but no answer for a moment (a drop-out; declared down after the idle timeout).
    const quiet = up && (d.peer_silent_ms ?? 0) >= QUIET_MS;
    const detail = quiet
      ? `no answer from the ingest for ${(d.peer_silent_ms / 1000).toFixed(1)} s`
      : up
        ? `${rate(d.send_rate_mbps ?? 0)} · RTT ${(d.rtt_ms ?? 0).toFixed(0)} ms · lost ${d.packets_lost ?? 0} · resent ${d.packets_retransmitted ?? 0}`
        : esc(d.reason || d.state);
    return `<div class="item" data-destination="${esc(d.name)}">
      <span class="dot ${quiet ? "wait" : up ? "ok" : d.state === "stopped" ? "" : "bad"}"></span>
      <span class="name"><b>${esc(d.name)}</b> <span class="muted">${esc(quiet ? "connected, quiet" : d.state)}</span></span>
      <span class="detail">${detail}</span>
      <span class="url muted">${esc(d.url)}</span>
    </div>`;
  }).join("");
  const e = s.encoder || {};
  const p = s.program || {};
  $("encoder").innerHTML = `
    <dt>Encoder</dt><dd>${esc(e.name)} <span class="muted">${esc(e.note)}</span></dd>
    <dt>Bitrate</dt><dd id="bitrate">${e.actual_kbps ?? "–"} of ${e.bitrate_kbps ?? "–"} kb/s ${e.bitrate_fixed
      ? "(fixed)" : `(${e.bitrate_min_kbps}–${e.bitrate_max_kbps})`}</dd>
    <dt>Adapting</dt><dd id="abr">${e.bitrate_fixed
      ? `off <span class="muted">(the encoder's bitrate is fixed while it runs: ${esc(e.bitrate_fixed)})</span>`
      : adapting(e.abr)}</dd>
    <dt>Program</dt><dd>${p.width}×${p.height} · ${p.fps} fps · ${p.frames_dropped ?? 0} frames dropped</dd>
    <dt>Display</dt><dd>${esc(s.display?.sink)}</dd>`;
}

// Why the bitrate is where it is: what the controller the encoder follows is doing, and its
// last step's reason (the host asks "why is the stream at 800 kb/s?").
const PHASES = {
  steady: "steady", congested: "cutting: the link is congested", draining: "at the floor until the link clears",
  probing: "stepping up", outage: "holding: the link is quiet",
};

function adapting(abr) {
  if (!abr) return "–";
  if (!abr.enabled) return `off <span class="muted">(encoder.abr: false; the bitrate stays where it is set)</span>`;
  const d = (abr.destinations || []).find((x) => x.name === abr.following) || (abr.destinations || [])[0];
  if (!d) return "on";
  const cap = abr.ceiling_kbps < abr.max_kbps ? ` · capped at ${abr.ceiling_kbps} kb/s` : "";
  return `${esc(PHASES[d.phase] || d.phase)} <span class="muted">(${esc(d.name)}${cap})</span>` +
    (d.reason ? `<br><span class="muted">${esc(d.reason)}</span>` : "");
}

// The box stamps events in UTC; the host reads the venue's clock.
function localTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? String(iso ?? "") : d.toLocaleTimeString([], { hour12: false });
}

export function renderEvents(events) {
  $("events").innerHTML = (events || []).map((ev) => `
    <li><span class="muted">${esc(localTime(ev.time))}</span>
      <b>${esc(ev.kind)}</b> ${esc(ev.from)}${ev.from ? " → " : ""}${esc(ev.to)}
      <span class="muted">${esc(ev.reason)}</span></li>`).join("");
}
