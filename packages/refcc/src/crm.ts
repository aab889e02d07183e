/**
 * The contact center's CRM: customers and cases, which the bots write to during conversations (a lost card
 * opens a case), so cross-system checks have something real to verify. In memory; faults make writes fail or
 * slow down.
 */
import { randomUUID } from 'node:crypto';
import { VigilError } from '@vigil/errors';

export interface Customer { id: string; name: string; accountLast4: string }
export interface Case { id: string; customerId: string | null; subject: string; channel: 'voice' | 'chat'; reference: string; status: 'open' | 'closed'; createdAtMs: number }

export class Crm {
  readonly customers: Customer[] = [
    { id: 'c-1001', name: 'Ada Lovelace', accountLast4: '4421' },
    { id: 'c-1002', name: 'Alan Turing', accountLast4: '1912' },
  ];
  readonly cases: Case[] = [];
  /** Fault switches, read on every write. */
  faults: { fail?: boolean; delayMs?: number } = {};
  /** Where to announce new cases (POST of the case as JSON), as other systems subscribe to a real CRM's events. */
  readonly webhooks = new Set<string>();
  /** Deliveries so far: url, status (0: unreachable). */
  readonly deliveries: Array<{ url: string; caseId: string; status: number }> = [];

  subscribe(url: string): void {
    let u: URL;
    try { u = new URL(url); } catch { throw new VigilError('VIGIL_E_REQUEST_INVALID', `not a URL: ${url}`, { field: 'url', fix: 'an absolute http(s) URL' }); }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new VigilError('VIGIL_E_REQUEST_INVALID', 'webhooks go to http(s) URLs', { field: 'url', fix: 'an absolute http(s) URL' });
    if (this.webhooks.size >= 1000) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'too many webhook subscriptions', { field: 'url', fix: 'DELETE /v1/crm/webhooks first' });
    this.webhooks.add(url);
  }

  #announce(c: Case): void {
    for (const url of this.webhooks) {
      void fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-crm-event': 'case.created' }, body: JSON.stringify({ event: 'case.created', case: c }), signal: AbortSignal.timeout(5000) })
        .then((r) => { this.deliveries.push({ url, caseId: c.id, status: r.status }); if (r.status === 404 || r.status === 410) this.webhooks.delete(url); })
        .catch(() => { this.deliveries.push({ url, caseId: c.id, status: 0 }); });
    }
  }

  async createCase(input: { customerId?: string | null; subject: string; channel: 'voice' | 'chat'; reference: string }): Promise<Case> {
    if (this.faults.delayMs) await new Promise((r) => setTimeout(r, this.faults.delayMs));
    if (this.faults.fail) throw new VigilError('VIGIL_E_INTERNAL', 'CRM write failed (fault switch crmFail)', { fix: 'PUT /v1/faults without crmFail' });
    if (!input.subject.trim()) throw new VigilError('VIGIL_E_REQUEST_INVALID', 'subject must not be empty', { field: 'subject', fix: 'say what the case is about' });
    if (input.customerId && !this.customers.some((c) => c.id === input.customerId)) throw new VigilError('VIGIL_E_REQUEST_INVALID', `no customer ${input.customerId}`, { field: 'customerId', fix: 'GET /v1/crm/customers lists them' });
    const c: Case = { id: `case-${randomUUID().slice(0, 8)}`, customerId: input.customerId ?? null, subject: input.subject, channel: input.channel, reference: input.reference, status: 'open', createdAtMs: Date.now() };
    this.cases.push(c);
    this.#announce(c);
    return c;
  }
}

/** What a bot turn does to the CRM; a failed write changes what the bot says (it must not claim success). */
export async function crmAfterTurn(crm: Crm, channel: 'voice' | 'chat', reference: string, turn: { intent: string; text: string }): Promise<{ intent: string; text: string }> {
  if (turn.intent !== 'card_lost') return turn;
  try {
    await crm.createCase({ subject: 'Lost card: card blocked, replacement ordered', channel, reference });
    return turn;
  } catch {
    return { intent: 'card_lost_failed', text: "I'm sorry, I could not block your card right now. Please call back in a few minutes." };
  }
}
