// A small inline SVG chart of a rate series (no chart library): an area under a line, scaled to its maximum.
const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 300;
const HEIGHT = 48;

export function rateChart(label: string, values: number[], intervalSeconds: number): HTMLElement {
  const box = document.createElement('div');
  box.className = 'chart';
  const caption = document.createElement('span');
  caption.className = 'label';
  const latest = values.length > 0 ? values[values.length - 1] : 0;
  const span = values.length * intervalSeconds;
  const window = span < 60 ? `${span} s` : `${Math.round(span / 60)} min`;
  caption.textContent = values.length < 2 ? `${label}: collecting (a point every ${intervalSeconds} s)` : `${label}: ${formatRate(latest)}/s now, last ${window}`;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', caption.textContent);
  if (values.length > 1) {
    const max = Math.max(...values, 1);
    const step = WIDTH / (values.length - 1);
    const points = values.map((v, i) => `${(i * step).toFixed(1)},${(HEIGHT - 2 - (v / max) * (HEIGHT - 6)).toFixed(1)}`);
    const area = document.createElementNS(SVG, 'polygon');
    area.setAttribute('class', 'area');
    area.setAttribute('points', `0,${HEIGHT} ${points.join(' ')} ${WIDTH},${HEIGHT}`);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('class', 'line');
    line.setAttribute('points', points.join(' '));
    svg.append(area, line);
  }
  box.append(caption, svg);
  return box;
}

export function formatRate(n: number): string {
  return n >= 100 ? Math.round(n).toString() : n >= 10 ? n.toFixed(1) : n.toFixed(2).replace(/\.?0+$/, '') || '0';
}
