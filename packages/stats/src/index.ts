export { wilsonInterval, classifyAssertion, type AssertionStability } from './wilson.ts';
