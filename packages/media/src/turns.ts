/**
 * Turn timing, defined once (version 1) and used by every voice channel. All instants are on the probe's
 * clock in milliseconds: the caller's speech as the probe sent it (exact, from its own send timeline), the
 * bot's speech as it reached the probe (media time of the received stream plus the smallest observed transit).
 *
 *   time to first audio: answer → the bot's first speech onset.
 *   turn latency: the caller's last speech sample of a turn → the bot's next speech onset.
 *   barge-in: the caller starts speaking while the bot speaks; stop latency = caller onset → end of the bot
 *     speech segment it interrupted; `resumed` = the bot spoke again within `resumeWindowMs` after stopping.
 *   talk-over: total time both were speaking at once.
 */
export const TURN_TIMING_VERSION = 1;

export interface Span { startMs: number; endMs: number }

export interface TurnTimings {
  version: number;
  timeToFirstAudioMs: number | null;
  turns: Array<{ callerEndMs: number; botStartMs: number; turnLatencyMs: number }>;
  bargeIns: Array<{ callerStartMs: number; botStopMs: number; stopLatencyMs: number; resumed: boolean }>;
  talkOverMs: number;
}

export interface TurnInput {
  answerMs: number;
  caller: Span[];
  bot: Span[];
  /** @default 2000 */
  resumeWindowMs?: number;
}

export function measureTurns(i: TurnInput): TurnTimings {
  const caller = [...i.caller].sort((a, b) => a.startMs - b.startMs);
  const bot = [...i.bot].sort((a, b) => a.startMs - b.startMs);
  const resumeWindow = i.resumeWindowMs ?? 2000;
  const first = bot.find((b) => b.startMs >= i.answerMs);
  const turns: TurnTimings['turns'] = [];
  const bargeIns: TurnTimings['bargeIns'] = [];
  for (const c of caller) {
    const during = bot.find((b) => b.startMs < c.startMs && b.endMs > c.startMs);
    if (during) {
      const resumed = bot.some((b) => b.startMs >= during.endMs && b.startMs <= during.endMs + resumeWindow);
      bargeIns.push({ callerStartMs: c.startMs, botStopMs: during.endMs, stopLatencyMs: during.endMs - c.startMs, resumed });
      continue;
    }
    const next = bot.find((b) => b.startMs >= c.endMs);
    const nextCaller = caller.find((x) => x.startMs > c.startMs);
    // A reply belongs to this turn only if the caller did not speak again first.
    if (next && (!nextCaller || next.startMs < nextCaller.startMs)) turns.push({ callerEndMs: c.endMs, botStartMs: next.startMs, turnLatencyMs: next.startMs - c.endMs });
  }
  let talkOver = 0;
  for (const c of caller) for (const b of bot) talkOver += Math.max(0, Math.min(c.endMs, b.endMs) - Math.max(c.startMs, b.startMs));
  return { version: TURN_TIMING_VERSION, timeToFirstAudioMs: first ? first.startMs - i.answerMs : null, turns, bargeIns, talkOverMs: talkOver };
}
