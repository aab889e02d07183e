export * from './g711.ts';
export * from './wav.ts';
