/** JUnit XML for CI systems: one testsuite per journey run, one testcase per step. */
import type { RunEventBody } from '@vigil/contract';

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  // XML 1.0 forbids most control characters.
  // eslint-disable-next-line no-control-regex
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function toJUnit(journeyName: string, target: string, events: RunEventBody[]): string {
  const cases: string[] = [];
  let failures = 0;
  let errors = 0;
  let totalMs = 0;
  const names = new Map<number, string>();
  const asserts = new Map<number, string[]>();
  for (const e of events) {
    if (e.kind === 'step_started') names.set(e.stepIndex, e.name);
    if (e.kind === 'assertion' && e.verdict !== 'pass') asserts.set(e.stepIndex, [...(asserts.get(e.stepIndex) ?? []), `${e.assertion}: ${e.message} (actual: ${e.actual})`]);
    if (e.kind === 'step_finished') {
      totalMs += e.durationMs;
      const name = `${e.stepIndex + 1}. ${names.get(e.stepIndex) ?? e.stepKind}`;
      let inner = '';
      if (e.verdict === 'error') { errors++; inner = `<error type="${esc(e.errorCode ?? 'error')}" message="${esc(e.errorMessage ?? '')}"/>`; }
      else if (e.verdict !== 'pass') { failures++; const msg = (asserts.get(e.stepIndex) ?? [e.verdict]).join('\n'); inner = `<failure type="assertion" message="${esc(msg.split('\n')[0]!)}">${esc(msg)}</failure>`; }
      cases.push(`    <testcase classname="${esc(`vigil.${journeyName}`)}" name="${esc(name)}" time="${(e.durationMs / 1000).toFixed(3)}">${inner}</testcase>`);
    }
    if (e.kind === 'run_finished' && e.verdict === 'error' && cases.length === 0) {
      errors++;
      cases.push(`    <testcase classname="${esc(`vigil.${journeyName}`)}" name="run" time="0"><error type="${esc(e.errorCode ?? 'error')}" message="${esc(e.errorMessage ?? '')}"/></testcase>`);
    }
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="vigil" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${(totalMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${esc(journeyName)}" tests="${cases.length}" failures="${failures}" errors="${errors}" time="${(totalMs / 1000).toFixed(3)}">`,
    `    <properties><property name="target" value="${esc(target)}"/></properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
