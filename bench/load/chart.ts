/**
 * A hand-made SVG of the load bench: for each scenario (database × AI latency × roles), throughput
 * (accepted requests/s and end-to-end workflows/s) and latency (ingest p99 and end-to-end p99 less
 * the injected AI latency) against the offered load. "max" is drawn at the rate it reached.
 */

type Point = {
  offered: number | 'max';
  acceptedPerSecond: number;
  workflowsPerSecond: number;
  ingestMs: { p99: number };
  e2eLessInjectedMs: { p99: number };
};
/** `roles` is missing from results files written before --roles existed (they ran one `all` process). */
type Scenario = { database: string; aiLatencyMs: number; roles?: string; points: Point[] };

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function niceMax(v: number): number {
  if (!Number.isFinite(v) || v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function renderChart(scenarios: Scenario[]): string {
  const W = 1000;
  const H = 480;
  const panel = { w: 420, h: 320, top: 50 };
  const lefts = [70, 570];
  const x = (p: Point) => (p.offered === 'max' ? p.acceptedPerSecond : p.offered);
  const all = scenarios.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(...all.map(x), 1));
  const tMax = niceMax(Math.max(...all.map((p) => Math.max(p.acceptedPerSecond, p.workflowsPerSecond)), 1));
  const lMax = niceMax(
    Math.max(...all.map((p) => Math.max(p.ingestMs.p99, p.e2eLessInjectedMs.p99)).filter(Number.isFinite), 1),
  );
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  const axes = (left: number, yMax: number, title: string, yLabel: string, log: boolean) => {
    out.push(
      `<text x="${left + panel.w / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
    );
    out.push(
      `<rect x="${left}" y="${panel.top}" width="${panel.w}" height="${panel.h}" fill="none" stroke="#444"/>`,
    );
    for (let i = 0; i <= 5; i++) {
      const xv = (xMax * i) / 5;
      const px = left + (panel.w * i) / 5;
      out.push(
        `<line x1="${px}" y1="${panel.top + panel.h}" x2="${px}" y2="${panel.top + panel.h + 4}" stroke="#444"/>`,
      );
      out.push(
        `<text x="${px}" y="${panel.top + panel.h + 16}" text-anchor="middle">${Math.round(xv)}</text>`,
      );
      const yv = log ? 10 ** ((Math.log10(yMax) * i) / 5) : (yMax * i) / 5;
      const py = panel.top + panel.h - (panel.h * i) / 5;
      out.push(`<line x1="${left}" y1="${py}" x2="${left + panel.w}" y2="${py}" stroke="#eee"/>`);
      out.push(
        `<text x="${left - 6}" y="${py + 4}" text-anchor="end">${yv < 10 ? yv.toFixed(1) : Math.round(yv)}</text>`,
      );
    }
    out.push(
      `<text x="${left + panel.w / 2}" y="${panel.top + panel.h + 34}" text-anchor="middle">offered load (requests/s; "max" at the rate reached)</text>`,
    );
    out.push(
      `<text x="${left - 48}" y="${panel.top + panel.h / 2}" text-anchor="middle" transform="rotate(-90 ${left - 48} ${panel.top + panel.h / 2})">${esc(yLabel)}</text>`,
    );
  };
  axes(lefts[0] ?? 70, tMax, 'Throughput', 'per second', false);
  axes(lefts[1] ?? 570, lMax, 'Latency p99 (log scale)', 'ms', true);
  const ty = (v: number) => panel.top + panel.h - (panel.h * v) / tMax;
  const ly = (v: number) =>
    panel.top + panel.h - (panel.h * Math.log10(Math.max(1, v))) / Math.log10(Math.max(10, lMax));
  const line = (left: number, pts: Point[], fy: (p: Point) => number, color: string, dash: boolean) => {
    const coords = pts
      .filter((p) => Number.isFinite(fy(p)))
      .map((p) => `${(left + (panel.w * x(p)) / xMax).toFixed(1)},${fy(p).toFixed(1)}`);
    out.push(
      `<polyline points="${coords.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const c of coords) {
      const [cx, cy] = c.split(',');
      out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${color}"/>`);
    }
  };
  scenarios.forEach((s, i) => {
    const color = COLORS[i % COLORS.length] ?? '#000';
    const pts = [...s.points].sort((a, b) => x(a) - x(b));
    line(lefts[0] ?? 70, pts, (p) => ty(p.acceptedPerSecond), color, true);
    line(lefts[0] ?? 70, pts, (p) => ty(p.workflowsPerSecond), color, false);
    line(lefts[1] ?? 570, pts, (p) => ly(p.ingestMs.p99), color, true);
    line(lefts[1] ?? 570, pts, (p) => ly(p.e2eLessInjectedMs.p99), color, false);
    const ly0 = panel.top + panel.h + 56 + Math.floor(i / 2) * 14;
    const lx = 70 + (i % 2) * 450;
    out.push(`<line x1="${lx}" y1="${ly0}" x2="${lx + 20}" y2="${ly0}" stroke="${color}" stroke-width="2"/>`);
    out.push(
      `<text x="${lx + 26}" y="${ly0 + 4}">${esc(`${s.database}, AI latency ${s.aiLatencyMs} ms, roles ${s.roles ?? 'all'}`)}</text>`,
    );
  });
  out.push(
    `<text x="${W / 2}" y="${H - 4}" text-anchor="middle" fill="#444">dashed: accepted requests/s and ingest p99 · solid: end-to-end workflows/s and end-to-end p99 less the injected AI latency</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
