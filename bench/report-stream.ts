/** Shared by the benchmarks: streams one run's events to the plane as a probe does, until its final is stored. */
import * as grpc from '@grpc/grpc-js';
import { runEventToWire, type ProbeServiceClient, type RunEvent } from '@vigil/contract';

export function reportRun(client: ProbeServiceClient, token: string, events: RunEvent[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const call = client.ReportRun(md);
    const last = events.at(-1)!.seq;
    call.on('data', (a) => {
      if (a.errorCode) reject(new Error(`${a.errorCode}: ${a.errorMessage}`));
      else if (a.ackedSeq >= last && a.finalStored) { call.end(); resolve(); }
    });
    call.on('error', reject);
    for (const e of events) call.write(runEventToWire(e));
  });
}
