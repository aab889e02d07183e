export { startRefBot, type RefBot, type RefBotOptions } from './server.ts';
export { respond, newState, type DialogueState, type BotTurn, type Intent } from './dialogue.ts';

import { fileURLToPath } from 'node:url';
/** Folder of the example journeys that run against this bot (used by the demo). */
export const EXAMPLE_JOURNEYS_DIR = fileURLToPath(new URL('../journeys/', import.meta.url));
