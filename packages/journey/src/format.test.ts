import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { VigilError } from '@vigil/errors';
import { journeyJsonSchema, parseJourney, type JourneyIssue } from './index.ts';

const EXAMPLES = new URL('../../refbot/journeys/', import.meta.url);

function issuesOf(src: string): JourneyIssue[] {
  try {
    parseJourney(src, 'j.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(VigilError);
    return ((e as VigilError).details?.issues ?? []) as JourneyIssue[];
  }
  throw new Error('expected the journey to be refused');
}

describe('parseJourney', () => {
  it('parses a full journey with defaults filled in', () => {
    const { journey, contentHash } = parseJourney([
      'version: 1', 'name: demo', 'channel: chat', 'steps:',
      '  - say: hi', '  - expect: hello', '  - wait: { ms: 10 }', '  - expect:', '      - jsonpath: { path: $.intent, equals: greeting }', '      - max_latency_ms: 100',
    ].join('\n'));
    expect(contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(journey.settings).toEqual({ stepTimeoutMs: 15000, stopOnFailure: true });
    expect(journey.steps).toEqual([
      { kind: 'say', text: 'hi', name: undefined },
      { kind: 'expect', assertions: [{ kind: 'contains', value: 'hello', ignoreCase: false }], name: undefined },
      { kind: 'wait', ms: 10, name: undefined },
      { kind: 'expect', assertions: [{ kind: 'jsonpath', path: '$.intent', test: { op: 'equals', value: 'greeting' }, name: undefined }, { kind: 'max_latency_ms', limitMs: 100, name: undefined }], name: undefined },
    ]);
  });

  it('reports every problem with its position, not just the first', () => {
    const issues = issuesOf([
      'version: 2', 'name: ok', 'channel: sms', 'colour: red', 'steps:', '  - say: 42', '  - expect: { contains: a, equals: b }', '  - wait: -1',
    ].join('\n'));
    expect(issues.map((i) => [i.line, i.column, i.field])).toEqual([
      [4, 1, 'colour'], [1, 10, 'version'], [3, 10, 'channel'], [6, 10, 'steps[0].say'], [7, 13, 'steps[1].expect'], [8, 11, 'steps[2].wait'],
    ]);
    expect(issues[4]!.message).toMatch(/exactly one kind, found contains and equals/);
  });

  it('points a missing required field at the document', () => {
    const issues = issuesOf('version: 1\nchannel: chat\nsteps:\n  - say: x\n');
    expect(issues).toEqual([expect.objectContaining({ field: '(document)', line: 1, column: 1, message: expect.stringMatching(/^name is required/) })]);
  });

  it('refuses an expect before any say, and YAML syntax errors with a position', () => {
    expect(issuesOf('version: 1\nname: a\nchannel: chat\nsteps:\n  - expect: x\n  - say: y\n')[0]).toMatchObject({ field: 'steps[0].expect', line: 5 });
    let err: VigilError | undefined;
    try { parseJourney('a: [1, 2\n', 'x.yaml'); } catch (e) { err = e as VigilError; }
    expect(err?.code).toBe('VIGIL_E_JOURNEY_YAML');
    expect(err?.message).toMatch(/^x\.yaml:\d+:\d+: /);
  });

  it('refuses duplicate keys instead of silently keeping one', () => {
    let err: VigilError | undefined;
    try { parseJourney('version: 1\nname: a\nname: b\nchannel: chat\nsteps:\n  - say: y\n'); } catch (e) { err = e as VigilError; }
    expect(err?.code).toBe('VIGIL_E_JOURNEY_YAML');
  });
});

describe('published JSON Schema agrees with parseJourney', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate = ajv.compile(journeyJsonSchema());

  it('accepts every example journey', () => {
    for (const f of readdirSync(EXAMPLES).filter((x) => x.endsWith('.yaml'))) {
      const src = readFileSync(new URL(f, EXAMPLES), 'utf8');
      parseJourney(src, f);
      expect(validate(parseDocument(src).toJS()), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  it.each([
    ['unknown step kind', { version: 1, name: 'a', channel: 'chat', steps: [{ shout: 'x' }] }],
    ['two kinds in one step', { version: 1, name: 'a', channel: 'chat', steps: [{ say: 'x', wait: 1 }] }],
    ['unknown assertion', { version: 1, name: 'a', channel: 'chat', steps: [{ say: 'x' }, { expect: { matches: 'x' } }] }],
    ['bad name', { version: 1, name: 'A B', channel: 'chat', steps: [{ say: 'x' }] }],
    ['wrong version', { version: 3, name: 'a', channel: 'chat', steps: [{ say: 'x' }] }],
  ])('both refuse: %s', (_, doc) => {
    expect(validate(doc)).toBe(false);
    expect(() => parseJourney(JSON.stringify(doc))).toThrow(VigilError);
  });
});

describe('voice journeys', () => {
  it('take listen, dtmf and hangup steps; chat journeys do not', () => {
    const { journey } = parseJourney('version: 1\nname: ivr\nchannel: voice\nsteps:\n  - listen: {}\n  - expect: welcome\n  - dtmf: "12#"\n  - dtmf: 5\n  - hangup: {}\n');
    expect(journey.steps.map((s) => s.kind)).toEqual(['listen', 'expect', 'dtmf', 'dtmf', 'hangup']);
    expect(journey.steps[3]).toMatchObject({ kind: 'dtmf', digits: '5' });
    const issues = issuesOf('version: 1\nname: c\nchannel: chat\nsteps:\n  - say: hi\n  - dtmf: "1"\n');
    expect(issues[0]).toMatchObject({ field: 'steps[1].dtmf', line: 6, message: expect.stringContaining('a chat journey has no dtmf steps') });
    expect(issuesOf('version: 1\nname: v\nchannel: voice\nsteps:\n  - listen: {}\n  - dtmf: "12x"\n')[0]).toMatchObject({ field: 'steps[1].dtmf' });
  });

  it('take wait_for_silence, barge_in, hold, expect_transfer and expect_hangup steps, each checked', () => {
    const { journey } = parseJourney([
      'version: 1', 'name: ivr', 'channel: voice', 'steps:',
      '  - listen: {}', '  - wait_for_silence: 800', '  - barge_in: { say: agent please, after_ms: 700 }', '  - expect: { max_barge_in_ms: 600 }',
      '  - hold: { ms: 2000 }', '  - expect_transfer: { to: "sip:agents@" }', '  - expect_transfer: { follow: false }', '  - expect_hangup: {}', '',
    ].join('\n'));
    expect(journey.steps).toMatchObject([
      { kind: 'listen' }, { kind: 'wait_for_silence', ms: 800 }, { kind: 'barge_in', text: 'agent please', afterMs: 700 },
      { kind: 'expect', assertions: [{ kind: 'max_barge_in_ms', limitMs: 600 }] }, { kind: 'hold', ms: 2000 },
      { kind: 'expect_transfer', to: 'sip:agents@', follow: true }, { kind: 'expect_transfer', follow: false }, { kind: 'expect_hangup' },
    ]);
    const bad = (step: string) => issuesOf(`version: 1\nname: v\nchannel: voice\nsteps:\n  - listen: {}\n  - ${step}\n`)[0];
    expect(bad('wait_for_silence: 20')).toMatchObject({ field: 'steps[1].wait_for_silence' });
    expect(bad('say: { wav: prompts/a.wav }')).toMatchObject({ field: 'steps[1].say.wav' });
    expect(bad('say: { text: hi, wav: /a.wav }')).toMatchObject({ field: 'steps[1].say' });
    expect(parseJourney('version: 1\nname: v\nchannel: voice\nsteps:\n  - say: { wav: /srv/a.WAV }\n').journey.steps[0]).toMatchObject({ kind: 'say', wav: '/srv/a.WAV', text: '[audio a.WAV]' });
    expect(issuesOf('version: 1\nname: c\nchannel: chat\nsteps:\n  - say: { wav: /srv/a.wav }\n')[0]).toMatchObject({ field: 'steps[0].say.wav' });
    expect(bad('barge_in: { after_ms: 100 }')).toMatchObject({ field: 'steps[1].barge_in.say' });
    expect(bad('barge_in: { say: hi, after_ms: -1 }')).toMatchObject({ field: 'steps[1].barge_in.after_ms' });
    expect(bad('hold: forever')).toMatchObject({ field: 'steps[1].hold' });
    expect(bad('expect_transfer: { to: "" }')).toMatchObject({ field: 'steps[1].expect_transfer.to' });
    expect(bad('expect_transfer: { where: x }')).toMatchObject({ field: 'steps[1].expect_transfer.where' });
    expect(issuesOf('version: 1\nname: c\nchannel: chat\nsteps:\n  - say: hi\n  - hold: 100\n')[0]).toMatchObject({ field: 'steps[1].hold' });
  });
});
