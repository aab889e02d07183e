/**
 * Pass rates over finished runs, per journey, target and region, with 95 % Wilson intervals; and per assertion,
 * so an assertion that sometimes passes and sometimes fails shows as flaky instead of hiding in a red/green run.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { classifyAssertion, wilsonInterval } from '@vigil/stats';
import { Ref, errorResponses } from './common.ts';

const Interval = Type.Object({ low: Type.Number(), high: Type.Number() });
const Group = Type.Object({
  journey: Type.String(), target: Type.String(), region: Type.String(),
  runs: Type.Integer(), pass: Type.Integer(), fail: Type.Integer(), error: Type.Integer(), inconclusive: Type.Integer(),
  passRate: Type.Number(), wilson95: Interval,
  assertions: Type.Array(Type.Object({
    assertion: Type.String(), n: Type.Integer(), pass: Type.Integer(), fail: Type.Integer(), passRate: Type.Number(), wilson95: Interval,
    stability: Type.Union([Type.Literal('stable_pass'), Type.Literal('stable_fail'), Type.Literal('flaky')]),
  })),
});

export const statsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { store } = app.deps;
  app.get('/stats/pass-rates', {
    schema: {
      tags: ['runs'], summary: 'Pass rates with 95 % Wilson intervals per journey/target/region, and per assertion (flaky ones marked)',
      querystring: Type.Object({
        journey: Type.Optional(Ref), target: Type.Optional(Ref), region: Type.Optional(Type.String()),
        since: Type.Optional(Type.String({ format: 'date-time' })), until: Type.Optional(Type.String({ format: 'date-time' })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ groups: Type.Array(Group) }), ...errorResponses },
    },
  }, async (req) => {
    const q = req.query;
    const o = await store.outcomes({ journey: q.journey, target: q.target, region: q.region, since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined });
    const key = (x: { journey: string; target: string; region: string }) => `${x.journey}\u0000${x.target}\u0000${x.region}`;
    const interval = (p: number, n: number) => { const w = wilsonInterval(p, n); return { low: w.low, high: w.high }; };
    return {
      groups: o.runs.map((g) => ({
        ...g, passRate: g.runs ? g.pass / g.runs : 0, wilson95: interval(g.pass, g.runs),
        assertions: o.assertions.filter((a) => key(a) === key(g)).map((a) => ({
          assertion: a.assertion, n: a.n, pass: a.pass, fail: a.fail, passRate: a.n ? a.pass / a.n : 0, wilson95: interval(a.pass, a.n), stability: classifyAssertion(a.pass, a.n),
        })),
      })),
    };
  });
};
