// A small SVG line-chart writer for the cost curves: a row of panels, each with a few polylines,
// axes with tick labels, and a legend. Hand-written because a headless benchmark needs nothing
// more than that, and a charting library would bring a DOM or a canvas along.

export interface Series {
  name: string;
  points: { x: number; y: number }[];
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

export interface Chart {
  title: string;
  xLabel: string;
  panels: Panel[];
}

const PANEL_W = 300;
const PANEL_H = 220;
const MARGIN = { left: 62, right: 14, top: 34, bottom: 44 };
const COLOURS = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df'];
const DASHES = ['', '6 4', '2 3', '8 3 2 3'];

/**
 * Values that span decades read better on a log axis (and a log axis needs them all > 0): the
 * parameters from a tenfold span (10, 100, 1000 members), the costs from a hundredfold, so a
 * cost that merely doubles keeps a linear axis where its slope can be read.
 */
export function wantsLogScale(values: number[], minRatio = 100): boolean {
  const positive = values.filter((v) => v > 0);
  if (positive.length < 2 || positive.length < values.length) return false;
  return Math.max(...positive) / Math.min(...positive) >= minRatio;
}

interface Axis {
  log: boolean;
  min: number;
  max: number;
  ticks: number[];
}

function axisFor(values: number[], forceLinearFromZero = false): Axis {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { log: false, min: 0, max: 1, ticks: [0, 1] };
  if (!forceLinearFromZero && wantsLogScale(finite)) {
    const min = 10 ** Math.floor(Math.log10(Math.min(...finite)));
    const max = 10 ** Math.ceil(Math.log10(Math.max(...finite)));
    const ticks: number[] = [];
    for (let t = min; t <= max * 1.0001; t *= 10) ticks.push(t);
    return { log: true, min, max, ticks };
  }
  const top = Math.max(...finite);
  const step = niceStep(top / 4 || 1);
  const max = Math.max(step, Math.ceil(top / step) * step);
  const ticks: number[] = [];
  for (let t = 0; t <= max + step / 2; t += step) ticks.push(t);
  return { log: false, min: 0, max, ticks };
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * power >= raw) return m * power;
  return 10 * power;
}

/** The x axis: the measured parameter values themselves are the ticks (3, 5; or 10, 100, 1000). */
function xAxisFor(values: number[]): Axis {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  const log = wantsLogScale(distinct, 10);
  const min = distinct[0];
  const max = distinct[distinct.length - 1];
  return { log, min: min === max ? min - 1 : min, max: min === max ? max + 1 : max, ticks: distinct };
}

function scale(axis: Axis, v: number, from: number, to: number): number {
  const f = axis.log ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min)) : (v - axis.min) / (axis.max - axis.min || 1);
  return from + f * (to - from);
}

export function formatNumber(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (abs >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (abs === 0) return '0';
  return String(+v.toPrecision(3));
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x: number, y: number, s: string, attrs = '') => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ' ' + attrs : ''}>${escape(s)}</text>`;

function drawPanel(panel: Panel, xLabel: string, originX: number, originY: number): string[] {
  const all = panel.series.flatMap((s) => s.points);
  const xAxis = xAxisFor(all.map((p) => p.x));
  const yAxis = axisFor(all.map((p) => p.y));
  const left = originX + MARGIN.left;
  const right = originX + PANEL_W - MARGIN.right;
  const top = originY + MARGIN.top;
  const bottom = originY + PANEL_H - MARGIN.bottom;
  const out: string[] = [text(originX + PANEL_W / 2, originY + 18, panel.title, 'text-anchor="middle" font-weight="bold"')];
  for (const t of yAxis.ticks) {
    const y = scale(yAxis, t, bottom, top);
    out.push(`<line x1="${left}" y1="${y.toFixed(1)}" x2="${right}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(text(left - 6, y + 4, formatNumber(t), 'text-anchor="end"'));
  }
  for (const t of xAxis.ticks) {
    const x = scale(xAxis, t, left, right);
    out.push(`<line x1="${x.toFixed(1)}" y1="${bottom}" x2="${x.toFixed(1)}" y2="${bottom + 4}" stroke="#333"/>`);
    out.push(text(x, bottom + 17, formatNumber(t), 'text-anchor="middle"'));
  }
  out.push(`<polyline points="${left},${top} ${left},${bottom} ${right},${bottom}" fill="none" stroke="#333"/>`);
  const scaleNote = [xAxis.log ? 'log x' : '', yAxis.log ? 'log y' : ''].filter(Boolean).join(', ');
  out.push(text((left + right) / 2, bottom + 34, xLabel + (scaleNote ? ` (${scaleNote})` : ''), 'text-anchor="middle"'));
  const yMid = (top + bottom) / 2;
  out.push(text(originX + 14, yMid, panel.yLabel, `text-anchor="middle" transform="rotate(-90 ${originX + 14} ${yMid.toFixed(1)})"`));
  panel.series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.y) && (!yAxis.log || p.y > 0)).sort((a, b) => a.x - b.x);
    const coords = pts.map((p) => `${scale(xAxis, p.x, left, right).toFixed(1)},${scale(yAxis, p.y, bottom, top).toFixed(1)}`);
    const colour = COLOURS[i % COLOURS.length];
    const dash = DASHES[i % DASHES.length] ? ` stroke-dasharray="${DASHES[i % DASHES.length]}"` : '';
    out.push(`<polyline points="${coords.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
    for (const c of coords) {
      const [cx, cy] = c.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${colour}"/>`);
    }
  });
  return out;
}

/** The whole chart as an SVG document: panels side by side, one legend for all of them (series names are shared). */
export function renderChart(chart: Chart): string {
  const width = PANEL_W * chart.panels.length;
  const legendNames = [...new Set(chart.panels.flatMap((p) => p.series.map((s) => s.name)))];
  const height = 30 + PANEL_H + 26;
  const body: string[] = [text(width / 2, 20, chart.title, 'text-anchor="middle" font-size="14" font-weight="bold"')];
  chart.panels.forEach((panel, i) => body.push(...drawPanel(panel, chart.xLabel, i * PANEL_W, 24)));
  let x = 20;
  legendNames.forEach((name, i) => {
    const y = height - 10;
    const dash = DASHES[i % DASHES.length] ? ` stroke-dasharray="${DASHES[i % DASHES.length]}"` : '';
    body.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 24}" y2="${y - 4}" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2"${dash}/>`);
    body.push(text(x + 30, y, name));
    x += 50 + name.length * 7; // about the width of the name at 11 px
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
