/**
 * The auditor's bundle's format name, alone in a module with no imports: the auditor (app/audit) and the
 * bundle-file schemas (app/formats) read it without pulling in the ledger's storage behind `export.ts`.
 */
export const BUNDLE_FORMAT = 'tallyproof-bundle/1';
