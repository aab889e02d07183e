export type { Delivery, ConsumeOptions, Subscription, RegionQueueOptions, RunBus } from './types.ts';
export { JetStreamBus, connectNats, checkRegion, STREAM, type JetStreamBusOptions } from './jetstream.ts';
export { MemoryBus } from './memory.ts';
