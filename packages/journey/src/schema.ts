/**
 * The published JSON Schema of journey format v1 (draft 2020-12), for editors (`# yaml-language-server:
 * $schema=...`) and other tools. `parseJourney` is the authority and gives positioned errors; a test keeps the
 * two in agreement on the example journeys and on bad inputs.
 */
import { ASSERTION_KINDS, STEP_KINDS } from './format.ts';
import { PII_KINDS } from './pii.ts';

export function journeyJsonSchema(): Record<string, unknown> {
  const text = { type: ['string', 'number'] };
  const named = { name: { type: 'string', description: 'Label shown in reports.' } };
  const assertion = {
    oneOf: [
      { type: 'string', description: 'Shorthand for { contains: <string> }.' },
      { type: 'object', required: ['equals'], additionalProperties: false, properties: { equals: text, ignore_case: { type: 'boolean' }, ...named } },
      { type: 'object', required: ['contains'], additionalProperties: false, properties: { contains: text, ignore_case: { type: 'boolean' }, ...named } },
      { type: 'object', required: ['not_contains'], additionalProperties: false, properties: { not_contains: text, ignore_case: { type: 'boolean' }, ...named } },
      { type: 'object', required: ['regex'], additionalProperties: false, properties: { regex: { type: 'string' }, flags: { type: 'string', pattern: '^[imsu]*$' }, ...named } },
      { type: 'object', required: ['any_of'], additionalProperties: false, properties: { any_of: { type: 'array', minItems: 1, items: { $ref: '#/$defs/assertion' } }, ...named } },
      {
        type: 'object', required: ['jsonpath'], additionalProperties: false,
        properties: {
          jsonpath: {
            type: 'object', required: ['path'], additionalProperties: false, minProperties: 2, maxProperties: 2,
            properties: { path: { type: 'string', pattern: '^\\$' }, exists: { type: 'boolean' }, equals: {}, contains: { type: 'string' }, regex: { type: 'string' } },
          },
          ...named,
        },
      },
      { type: 'object', required: ['max_latency_ms'], additionalProperties: false, properties: { max_latency_ms: { type: 'number', exclusiveMinimum: 0 }, ...named } },
      { type: 'object', required: ['max_first_token_ms'], additionalProperties: false, properties: { max_first_token_ms: { type: 'number', exclusiveMinimum: 0 }, ...named } },
      { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'integer', minimum: 100, maximum: 599, description: 'the HTTP status of an http step\'s response' }, ...named } },
      { type: 'object', required: ['no_pii'], additionalProperties: false, properties: { no_pii: { oneOf: [{ type: ['object', 'null', 'boolean'], maxProperties: 0 }, { type: 'array', minItems: 1, items: { enum: [...PII_KINDS] } }], description: 'no PII/PCI in the reply: {} for every detector, or a list' }, ...named } },
      { type: 'object', required: ['fuzzy'], additionalProperties: false, properties: { fuzzy: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1 }, min: { type: 'number', minimum: 0, maximum: 1 } } }, ...named } },
      { type: 'object', required: ['max_wer'], additionalProperties: false, properties: { max_wer: { type: 'object', required: ['expected'], additionalProperties: false, properties: { expected: { type: 'string', minLength: 1 }, max: { type: 'number', minimum: 0, maximum: 1 } } }, ...named } },
      ...(['min_mos', 'max_loss_percent', 'max_jitter_ms'] as const).map((k) => ({
        type: 'object', required: [k], additionalProperties: false,
        properties: { [k]: { type: 'number', minimum: k === 'min_mos' ? 1 : 0, maximum: k === 'min_mos' ? 4.5 : k === 'max_loss_percent' ? 100 : 10000, description: 'voice, journey-wide assertions only: checked on the call\'s end-of-call statistics' }, ...named },
      })),
      { type: 'object', required: ['policy'], additionalProperties: false, properties: { policy: { type: 'object', additionalProperties: false, properties: { name: { type: 'string' }, require: { type: 'array', items: { type: 'string', minLength: 1 } }, forbid: { type: 'array', items: { type: 'string', minLength: 1 } } } }, ...named } },
      { type: 'object', required: ['slots'], additionalProperties: false, properties: { slots: { type: 'object', required: ['expect'], additionalProperties: false, properties: { expect: { type: 'object', minProperties: 1, additionalProperties: { type: 'object', required: ['describe', 'equals'], additionalProperties: false, properties: { describe: { type: 'string' }, equals: { type: ['string', 'number', 'null'] } } } }, of: { enum: ['reply', 'caller'] } } }, ...named } },
      { type: 'object', required: ['semantic'], additionalProperties: false, properties: { semantic: { type: 'object', required: ['to'], additionalProperties: false, properties: { to: { type: 'string', minLength: 1 }, min: { type: 'number', minimum: 0, maximum: 1 } } }, ...named } },
      { type: 'object', required: ['intent'], additionalProperties: false, properties: { intent: { type: 'object', required: ['expected', 'labels'], additionalProperties: false, properties: { expected: { type: 'string' }, labels: { type: 'object', minProperties: 2, additionalProperties: { type: 'string' } }, of: { enum: ['reply', 'caller'] } } }, ...named } },
      { type: 'object', required: ['judge'], additionalProperties: false, properties: { judge: { oneOf: [{ type: 'string', minLength: 10 }, { type: 'object', additionalProperties: false, minProperties: 1, properties: { rubric: { type: 'string', minLength: 10 }, rubric_file: { type: 'string', pattern: '^/\\S+\\.ya?ml$' }, samples: { type: 'integer', minimum: 1, maximum: 15 } } }], description: 'an LLM judge decides whether the last reply meets the rubric (majority of samples)' }, ...named } },
      { type: 'object', required: ['max_barge_in_ms'], additionalProperties: false, properties: { max_barge_in_ms: { type: 'number', exclusiveMinimum: 0, description: 'voice: the far end stops talking within this many ms of the caller barging in' }, ...named } },
    ],
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://vigil.dev/schemas/journey-v1.json',
    title: 'Vigil journey, format v1',
    description: `A multi-step conversation with assertions. Step kinds: ${STEP_KINDS.join(', ')}. Assertion kinds: ${ASSERTION_KINDS.join(', ')}.`,
    type: 'object',
    required: ['version', 'name', 'channel', 'steps'],
    additionalProperties: false,
    properties: {
      version: { const: 1 },
      name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,99}$' },
      description: { type: 'string' },
      channel: { enum: ['chat', 'voice'], description: 'voice journeys may also use listen, dtmf, hangup, wait_for_silence, barge_in, hold, expect_transfer and expect_hangup steps; both take say, expect, wait, http and capture' },
      settings: {
        type: 'object', additionalProperties: false,
        properties: {
          step_timeout_ms: { type: 'integer', minimum: 100, maximum: 600000 },
          stop_on_failure: { type: 'boolean' },
        },
      },
      steps: { type: 'array', minItems: 1, maxItems: 200, items: { $ref: '#/$defs/step' } },
      assertions: { type: 'array', items: { $ref: '#/$defs/assertion' } },
    },
    $defs: {
      assertion,
      step: {
        oneOf: [
          {
            type: 'object', required: ['say'], additionalProperties: false,
            properties: {
              say: {
                oneOf: [
                  { type: 'string', minLength: 1 },
                  { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1 } } },
                  { type: 'object', required: ['wav'], additionalProperties: false, properties: { wav: { type: 'string', pattern: '^/\\S+\\.[wW][aA][vV]$', description: 'voice: a recording on the probe host, played as the caller' } } },
                ],
              },
              ...named,
            },
          },
          {
            type: 'object', required: ['expect'], additionalProperties: false,
            properties: { expect: { oneOf: [{ $ref: '#/$defs/assertion' }, { type: 'array', minItems: 1, items: { $ref: '#/$defs/assertion' } }] }, ...named },
          },
          { type: 'object', required: ['listen'], additionalProperties: false, properties: { listen: { type: ['object', 'null'], maxProperties: 0 }, ...named } },
          { type: 'object', required: ['hangup'], additionalProperties: false, properties: { hangup: { type: ['object', 'null'], maxProperties: 0 }, ...named } },
          { type: 'object', required: ['expect_hangup'], additionalProperties: false, properties: { expect_hangup: { type: ['object', 'null'], maxProperties: 0 }, ...named } },
          ...(['wait_for_silence', 'hold'] as const).map((k) => ({
            type: 'object', required: [k], additionalProperties: false,
            properties: {
              [k]: { oneOf: [{ type: 'integer', minimum: k === 'hold' ? 0 : 100, maximum: k === 'hold' ? 600000 : 60000 }, { type: 'object', required: ['ms'], additionalProperties: false, properties: { ms: { type: 'integer', minimum: k === 'hold' ? 0 : 100, maximum: k === 'hold' ? 600000 : 60000 } } }] },
              ...named,
            },
          })),
          {
            type: 'object', required: ['barge_in'], additionalProperties: false,
            properties: { barge_in: { type: 'object', required: ['say'], additionalProperties: false, properties: { say: { type: 'string', minLength: 1 }, after_ms: { type: 'integer', minimum: 0, maximum: 60000 } } }, ...named },
          },
          {
            type: 'object', required: ['expect_transfer'], additionalProperties: false,
            properties: { expect_transfer: { type: ['object', 'null'], additionalProperties: false, properties: { to: { type: 'string', minLength: 1 }, follow: { type: 'boolean' } } }, ...named },
          },
          {
            type: 'object', required: ['http'], additionalProperties: false,
            properties: {
              http: {
                type: 'object', required: ['url', 'expect'], additionalProperties: false,
                description: 'A cross-system check: the request goes to an origin listed in the target\'s config.httpAllow; {{run.id}}, {{session.id}}, {{call.id}}, {{vars.x}}, {{secrets.x}} (headers and body only) and captured names are filled in.',
                properties: {
                  method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'get', 'post', 'put', 'patch', 'delete'] },
                  url: { type: 'string', pattern: '^(https?://|\\{\\{)' },
                  headers: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[A-Za-z0-9-]+$' } },
                  body: { description: 'a string, or any JSON value (sent as JSON)' },
                  until_ms: { type: 'integer', minimum: 0, maximum: 600000, description: 'repeat the request until the expectations hold or this much time has passed' },
                  every_ms: { type: 'integer', minimum: 50, maximum: 60000 },
                  expect: { oneOf: [{ $ref: '#/$defs/assertion' }, { type: 'array', minItems: 1, items: { $ref: '#/$defs/assertion' } }] },
                },
              },
              ...named,
            },
          },
          {
            type: 'object', required: ['capture'], additionalProperties: false,
            properties: {
              capture: {
                type: 'object', required: ['as'], additionalProperties: false, minProperties: 2, maxProperties: 2,
                properties: { as: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, jsonpath: { type: 'string', pattern: '^\\$' }, regex: { type: 'string' } },
              },
              ...named,
            },
          },
          {
            type: 'object', required: ['wait_webhook'], additionalProperties: false,
            properties: {
              wait_webhook: {
                type: 'object', additionalProperties: false, description: 'the next call to this run\'s {{webhook.url}} on the probe',
                properties: { timeout_ms: { type: 'integer', minimum: 100, maximum: 600000 }, expect: { oneOf: [{ $ref: '#/$defs/assertion' }, { type: 'array', minItems: 1, items: { $ref: '#/$defs/assertion' } }] } },
              },
              ...named,
            },
          },
          {
            type: 'object', required: ['simulate'], additionalProperties: false,
            properties: {
              simulate: {
                type: 'object', required: ['persona', 'goal'], additionalProperties: false,
                description: 'An LLM plays the caller (VIGIL_SIMULATOR_* or the judge endpoint); the judge then decides from the whole conversation whether the goal was met.',
                properties: {
                  persona: { type: 'string', minLength: 5 }, goal: { type: 'string', minLength: 5 },
                  constraints: { type: 'array', items: { type: 'string', minLength: 1 } },
                  max_turns: { type: 'integer', minimum: 1, maximum: 30 }, seed: { type: 'integer', minimum: 0 },
                  judge_goal: { type: 'boolean' }, phrases: { type: 'array', items: { type: 'string', minLength: 1 }, description: 'voice: what the bot may say, for recognition' },
                },
              },
              ...named,
            },
          },
          { type: 'object', required: ['dtmf'], additionalProperties: false, properties: { dtmf: { type: ['string', 'integer'], pattern: '^[0-9*#A-Da-d]{1,32}$' }, ...named } },
          {
            type: 'object', required: ['wait'], additionalProperties: false,
            properties: {
              wait: { oneOf: [{ type: 'integer', minimum: 0, maximum: 600000 }, { type: 'object', required: ['ms'], additionalProperties: false, properties: { ms: { type: 'integer', minimum: 0, maximum: 600000 } } }] },
              ...named,
            },
          },
        ],
      },
    },
  };
}
