/**
 * The shipped Prometheus alert rules and Grafana dashboard: `promtool check rules` and `promtool test rules`
 * pass, and every PromQL expression in them names only metrics a running plane really exports (read from its
 * /metrics), and only PromQL functions and keywords besides.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, startPlane, type Plane } from '@vigil/plane';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RULES = `${ROOT}deploy/prometheus/alerts.yml`;
const DASHBOARD = `${ROOT}deploy/grafana/vigil-overview.json`;
const PROMTOOL = existsSync('/usr/bin/promtool');

const PROMQL_WORDS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool',
  'rate', 'irate', 'increase', 'delta', 'histogram_quantile', 'label_values', 'abs', 'clamp_min', 'clamp_max', 'absent', 'topk', 'bottomk', 'time', 'vector',
]);

/** Identifiers an expression names outside strings, label matchers, ranges and grouping clauses. */
export function identifiers(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1')
    .replace(/\blabel_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)/g, 'label_values($1)')
    .replace(/\boffset\s+\w+/g, 'offset');
  return [...bare.matchAll(/(?<![\w$.])[a-zA-Z_:][\w:]*/g)].map((m) => m[0]).filter((w) => !/^\d/.test(w));
}

describe('alert rules and dashboard', () => {
  let plane: Plane;
  let exported: Set<string>;
  beforeAll(async () => {
    plane = await startPlane({ httpPort: 0, grpcPort: 0 }, { logger: createLogger('silent', 'observability-test') });
    const text = await (await fetch(`${plane.httpUrl}/metrics`)).text();
    exported = new Set();
    for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
      exported.add(m[1]!);
      if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exported.add(`${m[1]}${s}`);
    }
  });
  afterAll(async () => { await plane?.close(0); });

  const rules = () => (parseYaml(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string; annotations: Record<string, string> }> }> }).groups.flatMap((g) => g.rules);
  const panelExprs = () => {
    const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }>; templating: { list: Array<{ name: string; query?: { query: string } | string }> } };
    return [
      ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
      ...d.templating.list.filter((v) => typeof v.query === 'object').map((v) => ({ where: `variable ${v.name}`, expr: (v.query as { query: string }).query })),
    ];
  };

  it('every expression names only exported metrics (and at least one)', () => {
    const all = [...rules().map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })), ...panelExprs()];
    expect(all.length).toBeGreaterThan(25);
    for (const { where, expr } of all) {
      const names = identifiers(expr).filter((w) => !PROMQL_WORDS.has(w));
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const n of names) expect(exported.has(n), `${where} names ${n}, which the plane does not export`).toBe(true);
    }
  });

  it('every alert links to the runs or evidence behind it', () => {
    for (const r of rules()) {
      expect(Object.values(r.annotations).join(' '), r.alert).toMatch(/\{\{ \$externalLabels\.vigil_url \}\}\/v1\//);
      expect(r.annotations.summary, r.alert).toBeTruthy();
    }
  });

  it('the identifier reader skips labels, strings, ranges and grouping', () => {
    expect(identifiers('sum by (journey, le) (rate(vigil_x_bucket{region=~"$region", a="b c"}[5m] offset 1d)) > 0.5 * vigil_y')).toEqual(['sum', 'by', 'rate', 'vigil_x_bucket', 'offset', 'vigil_y']);
    expect(identifiers('label_values(vigil_runs_total, region)')).toEqual(['label_values', 'vigil_runs_total']);
  });

  it.skipIf(!PROMTOOL)(`passes promtool check rules and promtool test rules${PROMTOOL ? '' : ' (skipped: apt-get install prometheus)'}`, () => {
    const check = execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(check).toMatch(/SUCCESS: \d+ rules found/);
    const test = execFileSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: `${ROOT}deploy/prometheus`, encoding: 'utf8' });
    expect(test).toMatch(/SUCCESS/);
  });
});
