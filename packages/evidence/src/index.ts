export { canonicalJson, contentHash, sha256Hex } from './jcs.ts';
export {
  IN_TOTO_PAYLOAD_TYPE, envelopePayload, generateSigningKey, isEnvelope, keyIdOf, pae, privateKeyToPem, publicKeyFromRaw, signEnvelope, signingKeyFromPem, verifyEnvelope,
  type DsseEnvelope, type SigningKey,
} from './keys.ts';
export { EMPTY_ROOT, MerkleTree, leafHash, nodeHash, verifyConsistency, verifyInclusion } from './merkle.ts';
export { checkpointBody, parseVerifierKey, signCheckpoint, verifierKey, verifyCheckpoint, type Checkpoint } from './checkpoint.ts';
export {
  ERASURE_PREDICATE, PLANE_OUTCOMES, PROBE_OUTCOMES, RUN_PREDICATE, STATEMENT_TYPE, erasureStatement, parseStatement, runStatement, saltedHash,
  type AssertionRecord, type ErasurePredicate, type EvidenceArtifact, type ParsedStatement, type RunOutcome, type RunPredicate, type Statement,
} from './statement.ts';
export {
  BUNDLE_FORMAT, MANIFEST_PAYLOAD_TYPE, bundleLines, logLeaf, signManifest, trustRootLog, verifyBundle,
  type BundleInput, type BundleLine, type BundleManifest, type ProbeKeyEntry, type TrustRoot, type VerifyOptions, type VerifyProblem, type VerifyReport,
} from './bundle.ts';
