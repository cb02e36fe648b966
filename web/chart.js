// A small time-series line chart on a canvas: the last `span` seconds of samples, one or more
// series, a few horizontal grid lines with their values. No library, no build step.
const SPAN_S = 60;

export class LineChart {
  // series: [{ key, label, color }]; unit: shown with values; floor: the smallest top of the y axis.
  constructor(canvas, { series, unit, floor = 1, digits = 0 }) {
    this.canvas = canvas;
    this.series = series;
    this.unit = unit;
    this.floor = floor;
    this.digits = digits;
    this.points = []; // samples: { t (ms), [key]: number }
    this.ctx = canvas.getContext("2d");
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.draw();
    }
  }

  setHistory(samples) {
    this.points = samples.filter((s) => typeof s.t === "number");
    this.draw();
  }

  push(sample) {
    if (typeof sample.t !== "number") return;
    this.points.push(sample);
    const oldest = sample.t - SPAN_S * 1000;
    while (this.points.length && this.points[0].t < oldest) this.points.shift();
    this.draw();
  }

  // The newest value of a series, or undefined.
  latest(key) {
    for (let i = this.points.length - 1; i >= 0; i--) {
      if (typeof this.points[i][key] === "number") return this.points[i][key];
    }
    return undefined;
  }

  format(v) {
    return v === undefined ? "–" : v.toFixed(this.digits);
  }

  draw() {
    const { ctx, canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.width, h = canvas.height;
    const padL = 44 * dpr, padR = 6 * dpr, padT = 6 * dpr, padB = 6 * dpr;
    ctx.clearRect(0, 0, w, h);
    const now = this.points.length ? this.points[this.points.length - 1].t : Date.now();
    let top = this.floor;
    for (const p of this.points) for (const s of this.series) if (typeof p[s.key] === "number") top = Math.max(top, p[s.key]);
    top = niceCeil(top * 1.1);
    const x = (t) => padL + (w - padL - padR) * (1 - (now - t) / (SPAN_S * 1000));
    const y = (v) => padT + (h - padT - padB) * (1 - v / top);

    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 2; i++) {
      const v = (top * i) / 2;
      ctx.strokeStyle = "#2a3040";
      ctx.lineWidth = dpr;
      ctx.beginPath();
      ctx.moveTo(padL, y(v));
      ctx.lineTo(w - padR, y(v));
      ctx.stroke();
      ctx.fillStyle = "#8a92a6";
      ctx.fillText(shortNumber(v), padL - 6 * dpr, Math.min(h - padB, Math.max(padT + 6 * dpr, y(v))));
    }
    for (const s of this.series) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2 * dpr;
      ctx.lineJoin = "round";
      ctx.beginPath();
      let drawing = false;
      for (const p of this.points) {
        const v = p[s.key];
        if (typeof v !== "number") { drawing = false; continue; } // a gap: no link, no frames
        if (drawing) ctx.lineTo(x(p.t), y(v));
        else ctx.moveTo(x(p.t), y(v));
        drawing = true;
      }
      ctx.stroke();
    }
  }
}

function niceCeil(v) {
  const step = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= v) return m * step;
  return 10 * step;
}

function shortNumber(v) {
  if (v >= 10000) return (v / 1000).toFixed(0) + "k";
  if (v >= 1000) return (v / 1000).toFixed(1) + "k";
  return v >= 10 || v === 0 ? v.toFixed(0) : v.toFixed(1);
}
