export { startContactCenter, PROMPTS, ASTERISK_PROMPTS, ASTERISK_SOUNDS_DIR, DRIFTED, DRIFTED_DISCLOSURE, LLM_SYSTEM_PROMPT, type DriftVariant, type ContactCenter, type ContactCenterOptions, type Faults, type CallTruth, type TruthEvent, type DesktopEvent, type HandoffContext, type PromptName } from './center.ts';
export { serveApi, parseFaults } from './http.ts';
export { BOT_PHRASES, BOT_GREETING, runBot, addNoise, type BotTruthEvent } from './bot.ts';
export { Crm, crmAfterTurn, type Case, type Customer } from './crm.ts';
import { fileURLToPath } from 'node:url';
/** Folder of the example voice journeys that run against the contact center (used by the demo). */
export const CONTACT_CENTER_JOURNEYS_DIR = fileURLToPath(new URL('../journeys/', import.meta.url));
