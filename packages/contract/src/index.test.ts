import { describe, expect, it } from 'vitest';
import { VigilError } from '@vigil/errors';
import { LAYER_METRICS, loadContract, runEventFromWire, runEventToWire, timingMetrics, worstVerdict, type RunEvent, type RunEventBody } from './index.ts';

// Serialize and deserialize with the very functions gRPC uses for ReportRun: the TS union survives the wire.
const method = loadContract().vigil.v1.ProbeService.service.ReportRun;

function roundTrip(body: RunEventBody): RunEvent {
  const e: RunEvent = { runId: 'r1', attempt: 2, seq: 7, atMs: 1_790_000_000_123, probeId: 'p', body };
  const bytes = method.requestSerialize(runEventToWire(e));
  return runEventFromWire(method.requestDeserialize(bytes));
}

describe('run events on the wire', () => {
  const bodies: RunEventBody[] = [
    { kind: 'run_started', journeyVersionId: 'v', targetId: 't', region: 'eu', channel: 'chat.openai' },
    { kind: 'step_started', stepIndex: 0, stepKind: 'say', name: 'say "hi"' },
    { kind: 'step_finished', stepIndex: 0, stepKind: 'say', verdict: 'fail', durationMs: 12, errorCode: undefined, errorMessage: undefined },
    { kind: 'timing', stepIndex: 0, timing: { layer: 'chat_turn', timeToFirstTokenMs: 12.5, timeToFullReplyMs: 40.25, streamed: true, replyChars: 10 } },
    { kind: 'timing', stepIndex: 1, timing: { layer: 'call_setup', postDialDelayMs: 80, answerMs: 900, setupMs: 910, finalStatus: 200, earlyMedia: true } },
    { kind: 'timing', stepIndex: 3, timing: { layer: 'call_end', durationMs: 12_500, endedBy: 'remote', lossPercent: 0.5, jitterMs: 3.25, rttMs: 41, mos: 4.25, packetsReceived: 600, srtpSuite: 'AES_CM_128_HMAC_SHA1_80' } },
    { kind: 'transcript', stepIndex: 0, speaker: 'bot', text: 'hello', structured: { intent: 'greeting' } },
    { kind: 'assertion', stepIndex: 1, assertion: 'contains "x"', verdict: 'pass', expected: 'x', actual: 'xyz', message: 'ok' },
    { kind: 'artifact', stepIndex: 0, name: 'call.wav', sha256: 'a'.repeat(64), bytes: 1024, mediaType: 'audio/wav' },
    { kind: 'run_finished', verdict: 'error', durationMs: 1500, errorCode: 'VIGIL_E_CHANNEL_TIMEOUT', errorMessage: 'slow', stepsPassed: 1, stepsFailed: 1 },
  ];
  it.each(bodies.map((b) => [b.kind, b] as const))('%s survives protobuf encoding', (_, body) => {
    const back = roundTrip(body);
    expect(back).toEqual({ runId: 'r1', attempt: 2, seq: 7, atMs: 1_790_000_000_123, probeId: 'p', body });
  });

  it('refuses events without run id, seq or body, naming the field', () => {
    const ok = runEventToWire({ runId: 'r', attempt: 1, seq: 1, atMs: 1, probeId: 'p', body: bodies[0]! });
    expect(() => runEventFromWire({ ...ok, runId: '' } as never)).toThrow(expect.objectContaining({ code: 'VIGIL_E_RUN_EVENT_INVALID', field: 'run_id' }));
    expect(() => runEventFromWire({ ...ok, seq: 0 } as never)).toThrow(VigilError);
    expect(() => runEventFromWire({ ...ok, body: undefined, runStarted: undefined } as never)).toThrow(expect.objectContaining({ field: 'body' }));
  });

  it('flattens every layer to metric names, skipping durations not measured', () => {
    expect(timingMetrics({ layer: 'chat_turn', timeToFirstTokenMs: 10, timeToFullReplyMs: 30, streamed: false, replyChars: 1 })).toEqual([
      { metric: 'time_to_first_token', valueMs: 10 }, { metric: 'time_to_full_reply', valueMs: 30 },
    ]);
    expect(timingMetrics({ layer: 'voice_turn', turnLatencyMs: 700, timeToFirstAudioMs: 0, bargeInStopMs: 0 })).toEqual([{ metric: 'turn_latency', valueMs: 700 }]);
    for (const fields of Object.values(LAYER_METRICS)) for (const f of Object.values(fields)) expect(String(f)).toMatch(/Ms$/);
  });

  it('orders verdicts error > fail > inconclusive > pass', () => {
    expect(worstVerdict(['pass', 'inconclusive'])).toBe('inconclusive');
    expect(worstVerdict(['fail', 'error', 'pass'])).toBe('error');
    expect(worstVerdict([])).toBe('pass');
  });
});
