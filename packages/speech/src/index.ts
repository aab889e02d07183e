export { normaliseWords, integerWords, NORMALISATION_VERSION } from './normalise.ts';
export { align, wordErrorRate, charErrorRate, corpusRate, type Alignment, type AlignOp, type ErrorRate, type ScoreOptions } from './wer.ts';
export { parseTrn, scoreTrn, type TrnUtterance, type TrnScore, type UtteranceScore } from './trn.ts';
export { buildArpa } from './arpa.ts';
export {
  FliteSynthesizer, EspeakSynthesizer, WavFileSynthesizer, OpenAiSynthesizer, OpenAiTranscriber, PocketsphinxTranscriber, matchPhrase,
  type Synthesizer, type Transcriber, type Transcript, type OpenAiSpeechOptions,
} from './engines.ts';
