/**
 * Drift notifications to webhooks: generic JSON, Slack, Microsoft Teams and PagerDuty Events v2. Alarms of one
 * series raised within `groupMs` go out as one message; a series' message carries a dedup key (series and
 * baseline) so a receiver folds repeats; re-baselining sends the resolve under the same key. Each message links
 * to the drift state, the run that alarmed and its evidence. Failed posts are retried with backoff.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { VigilError } from '@vigil/errors';
import { rank } from './drift.ts';

export type WebhookKind = 'json' | 'slack' | 'teams' | 'pagerduty';
export interface WebhookConfig { kind: WebhookKind; url: string; /** PagerDuty integration (routing) key. */ routingKey?: string }

export interface NotifiedAlarm {
  detector: string; layer: string | null; direction: string; ratio: number | null; pValue: number | null; changeRunId: string; changeAt: string; alarmRunId: string;
  /** The target versions reported from the change on, when they changed near it. */
  versionChange?: Record<string, string>;
}
/** One delivery attempt's outcome, for the alert history. */
export interface Delivery { baselineId: string; status: 'firing' | 'resolved'; webhook: WebhookKind; detectors: string[]; delivered: boolean; httpStatus: number | null; attempts: number; error: string | null }
export interface SeriesLabels { journey: string; target: string; region: string }

const KINDS: WebhookKind[] = ['json', 'slack', 'teams', 'pagerduty'];

/** Parses VIGIL_NOTIFY_WEBHOOKS (a JSON array of {kind, url, routingKey?}); errors name the entry and field. */
export function parseWebhooks(text: string | undefined): WebhookConfig[] {
  if (!text) return [];
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw new VigilError('VIGIL_E_CONFIG_INVALID', 'VIGIL_NOTIFY_WEBHOOKS is not JSON', { field: 'VIGIL_NOTIFY_WEBHOOKS', fix: 'e.g. [{"kind":"slack","url":"https://hooks.slack.com/services/…"}]' }); }
  if (!Array.isArray(v)) throw new VigilError('VIGIL_E_CONFIG_INVALID', 'VIGIL_NOTIFY_WEBHOOKS must be a JSON array', { field: 'VIGIL_NOTIFY_WEBHOOKS', fix: 'e.g. [{"kind":"json","url":"https://ops.example/hooks/vigil"}]' });
  return v.map((w: { kind?: unknown; url?: unknown; routingKey?: unknown }, i) => {
    const field = `VIGIL_NOTIFY_WEBHOOKS[${i}]`;
    if (!KINDS.includes(w?.kind as WebhookKind)) throw new VigilError('VIGIL_E_CONFIG_INVALID', `${field}.kind must be one of ${KINDS.join(', ')}`, { field: `${field}.kind`, fix: 'json, slack, teams or pagerduty' });
    if (typeof w.url !== 'string' || !/^https?:\/\//.test(w.url)) throw new VigilError('VIGIL_E_CONFIG_INVALID', `${field}.url must be an http(s) URL`, { field: `${field}.url`, fix: w.kind === 'pagerduty' ? 'https://events.pagerduty.com/v2/enqueue' : 'the incoming-webhook URL' });
    if (w.kind === 'pagerduty' && (typeof w.routingKey !== 'string' || !w.routingKey)) throw new VigilError('VIGIL_E_CONFIG_INVALID', `${field}.routingKey is required for PagerDuty`, { field: `${field}.routingKey`, fix: 'the Events API v2 integration key of the service' });
    return { kind: w.kind as WebhookKind, url: w.url, ...(typeof w.routingKey === 'string' ? { routingKey: w.routingKey } : {}) };
  });
}

interface Pending { labels: SeriesLabels; baselineId: string; alarms: NotifiedAlarm[]; timer: NodeJS.Timeout }

export class DriftNotifier {
  readonly #hooks: WebhookConfig[];
  readonly #baseUrl: string;
  readonly #groupMs: number;
  readonly #log: Logger;
  readonly #pending = new Map<string, Pending>();
  /** Per series: the baseline and detectors already notified (dedupe), so resolve knows what to close. */
  readonly #open = new Map<string, { baselineId: string; detectors: Set<string>; alarms: NotifiedAlarm[] }>();
  readonly #inflight = new Set<Promise<void>>();

  readonly #record: ((d: Delivery) => Promise<void>) | undefined;

  constructor(o: { hooks: WebhookConfig[]; baseUrl: string; groupMs?: number; logger: Logger; record?: (d: Delivery) => Promise<void> }) {
    this.#hooks = o.hooks;
    this.#record = o.record;
    this.#baseUrl = o.baseUrl.replace(/\/$/, '');
    this.#groupMs = o.groupMs ?? 30_000;
    this.#log = o.logger;
  }

  get enabled(): boolean { return this.#hooks.length > 0; }

  alarm(labels: SeriesLabels, baselineId: string, a: NotifiedAlarm): void {
    if (!this.enabled) return;
    const key = seriesKey(labels);
    const open = this.#open.get(key);
    if (open?.baselineId === baselineId && open.detectors.has(a.detector)) return; // dedupe
    let p = this.#pending.get(key);
    if (!p) {
      p = { labels, baselineId, alarms: [], timer: setTimeout(() => this.#flush(key), this.#groupMs) };
      this.#pending.set(key, p);
    }
    p.alarms.push(a);
  }

  /**
   * The series was re-baselined: close what was raised against `baselineId` (the alarms come from the store, so
   * this works after a restart too). Alarms still waiting to be grouped are dropped unsent.
   */
  resolve(labels: SeriesLabels, baselineId: string, alarms: NotifiedAlarm[]): void {
    if (!this.enabled) return;
    const key = seriesKey(labels);
    const p = this.#pending.get(key);
    if (p) { clearTimeout(p.timer); this.#pending.delete(key); }
    const open = this.#open.get(key);
    if (open?.baselineId === baselineId) this.#open.delete(key);
    const sent = open?.baselineId === baselineId ? open.alarms : alarms.filter((a) => !p || !p.alarms.some((x) => x.detector === a.detector));
    if (sent.length) this.#send('resolved', labels, baselineId, sent);
  }

  #flush(key: string): void {
    const p = this.#pending.get(key);
    if (!p) return;
    this.#pending.delete(key);
    const open = this.#open.get(key);
    const base = open?.baselineId === p.baselineId ? open : { baselineId: p.baselineId, detectors: new Set<string>(), alarms: [] };
    for (const a of p.alarms) { base.detectors.add(a.detector); base.alarms.push(a); }
    this.#open.set(key, base);
    this.#send('firing', p.labels, p.baselineId, base.alarms);
  }

  #send(status: 'firing' | 'resolved', labels: SeriesLabels, baselineId: string, alarms: NotifiedAlarm[]): void {
    const dedupKey = `vigil-drift:${labels.journey}:${labels.target}:${labels.region}:${baselineId}`;
    const q = `journey=${encodeURIComponent(labels.journey)}&target=${encodeURIComponent(labels.target)}&region=${encodeURIComponent(labels.region)}`;
    const links = { drift: `${this.#baseUrl}/v1/drift?${q}`, run: alarms[0] ? `${this.#baseUrl}/v1/runs/${alarms[0].alarmRunId}` : `${this.#baseUrl}/v1/runs?${q}`, evidence: `${this.#baseUrl}/v1/evidence/records?${q}` };
    const what = alarms.map((a) => `${a.detector}${a.ratio ? ` ×${a.ratio.toFixed(2)}` : ''}`).join(', ');
    const layer = upstreamLayer(alarms);
    const version = alarms.find((a) => a.versionChange)?.versionChange;
    const summary = status === 'firing'
      ? `Vigil: ${labels.journey} on ${labels.target} (${labels.region}) drifted — ${what}${layer ? `; moved: ${layer}` : ''}${version ? `; target now reports ${Object.entries(version).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`
      : `Vigil: ${labels.journey} on ${labels.target} (${labels.region}) re-baselined — resolved ${what}`;
    for (const h of this.#hooks) {
      const body = payload(h, status, { dedupKey, labels, alarms, links, summary });
      const p = this.#post(h, body)
        .then((r) => this.#record?.({ baselineId, status, webhook: h.kind, detectors: alarms.map((a) => a.detector), ...r }))
        .catch((e) => this.#log.warn({ err: (e as Error).message }, 'could not record the notification'))
        .finally(() => this.#inflight.delete(p));
      this.#inflight.add(p);
    }
  }

  async #post(h: WebhookConfig, body: unknown): Promise<{ delivered: boolean; httpStatus: number | null; attempts: number; error: string | null }> {
    let last: { httpStatus: number | null; error: string | null } = { httpStatus: null, error: null };
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        if (res.ok) return { delivered: true, httpStatus: res.status, attempts: attempt, error: null };
        last = { httpStatus: res.status, error: `HTTP ${res.status}` };
        if (res.status < 500 && res.status !== 429) { this.#log.warn({ kind: h.kind, status: res.status }, 'webhook refused the notification'); return { delivered: false, ...last, attempts: attempt }; }
      } catch (e) { last = { httpStatus: null, error: (e as Error).message }; }
      if (attempt < 5) await sleep(Math.min(30_000, 500 * 2 ** (attempt - 1)));
    }
    this.#log.warn({ kind: h.kind }, 'webhook unreachable; notification dropped after 5 attempts');
    return { delivered: false, ...last, attempts: 5 };
  }

  /** Sends what is grouped now and waits for every post (shutdown, tests). */
  async flush(): Promise<void> {
    for (const [key, p] of this.#pending) { clearTimeout(p.timer); this.#flush(key); }
    await Promise.all([...this.#inflight]);
  }
}

/** The furthest-upstream layer the alarms name (the API's attribution also weighs change points). */
function upstreamLayer(alarms: NotifiedAlarm[]): string | null {
  return alarms.map((a) => a.layer).filter((l): l is string => !!l).sort((a, b) => rank(a) - rank(b))[0] ?? null;
}

const seriesKey = (l: SeriesLabels) => `${l.journey}\u0000${l.target}\u0000${l.region}`;

function payload(h: WebhookConfig, status: 'firing' | 'resolved', m: { dedupKey: string; labels: SeriesLabels; alarms: NotifiedAlarm[]; links: Record<string, string>; summary: string }): unknown {
  switch (h.kind) {
    case 'json':
      return { version: 1, source: 'vigil', status, dedupKey: m.dedupKey, series: m.labels, alarms: m.alarms, links: m.links, at: new Date().toISOString() };
    case 'slack':
      return { text: `${status === 'firing' ? ':rotating_light:' : ':white_check_mark:'} ${m.summary}\n<${m.links.drift}|drift> · <${m.links.run}|run> · <${m.links.evidence}|evidence>` };
    case 'teams':
      return {
        '@type': 'MessageCard', '@context': 'https://schema.org/extensions', summary: m.summary, themeColor: status === 'firing' ? 'D83B01' : '2EB886', title: m.summary,
        sections: [{ facts: m.alarms.map((a) => ({ name: a.detector, value: `${a.direction}${a.ratio ? `, ×${a.ratio.toFixed(2)}` : ''}${a.pValue !== null ? `, p=${a.pValue.toExponential(2)}` : ''}, since run ${a.changeRunId}` })) }],
        potentialAction: Object.entries(m.links).map(([name, uri]) => ({ '@type': 'OpenUri', name, targets: [{ os: 'default', uri }] })),
      };
    case 'pagerduty':
      return {
        routing_key: h.routingKey, event_action: status === 'firing' ? 'trigger' : 'resolve', dedup_key: m.dedupKey,
        ...(status === 'firing' ? { payload: { summary: m.summary.slice(0, 1024), source: `${m.labels.target} (${m.labels.region})`, severity: 'warning', component: m.labels.journey, group: m.labels.region, class: 'drift', custom_details: { alarms: m.alarms } } } : {}),
        links: Object.entries(m.links).map(([text, href]) => ({ href, text })),
      };
  }
}
