/**
 * The import rules of the tree (README "Repository layout"; checked by test/structure/dependencies.test.ts,
 * which `npm test` runs). Layers, lowest first: a layer may import the layers below it, never one above.
 *
 *   lib/                                   helpers with no election meaning: imports nothing of the project
 *   ballots/ calibration/ firmware-bridge/ the paper, the reader, the scanner: never import app/
 *   app/ledger/                            imports nothing of app/ but itself
 *   app/chain reports print county station audit …   the station's parts (the auditor apart: below)
 *   app/cli/ app/main/ app/preload/        the entry points: nothing below imports them
 *   app/renderer/                          browser code: imports nothing of the Node code
 *
 * Electron is imported only by the two ends of the kiosk's bridge, app/main and app/preload.
 * Every module graph is also free of cycles, type-only imports included (they are design cycles too).
 */
const DOMAIN = '^(ballots|calibration|firmware-bridge)/';
const ENTRY = '^app/(cli|main|preload)/';

/** The publisher's own modules: the auditor shares the formats (formats.ts) with it, never its workings. */
const PUBLISHER = '^app/chain/(publish|broadcast|outbox|outbox-schema|station-wallet|tx-build|discover|status-now|export-publishing|publication|signed-qr)\\.ts$';

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'an import cycle: the modules cannot be understood, tested or moved one at a time',
      from: {},
      to: { circular: true },
    },
    {
      name: 'lib-imports-nothing',
      severity: 'error',
      comment: 'lib/ holds helpers with no election meaning: it imports nothing of the project',
      from: { path: '^lib/' },
      to: { path: '^(app|ballots|calibration|firmware-bridge)/' },
    },
    {
      name: 'domain-not-app',
      severity: 'error',
      comment: 'ballots/, calibration/ and firmware-bridge/ serve app/, never the reverse',
      from: { path: DOMAIN },
      to: { path: '^app/' },
    },
    {
      name: 'ledger-imports-nothing-above',
      severity: 'error',
      comment: 'the ledger is the base of app/: it imports nothing of app/ but itself',
      from: { path: '^app/ledger/' },
      to: { path: '^app/', pathNot: '^app/ledger/' },
    },
    {
      name: 'entry-points-on-top',
      severity: 'error',
      comment: 'the CLI and the Electron app are entry points: nothing below them imports them',
      from: { pathNot: ENTRY },
      to: { path: ENTRY },
    },
    {
      name: 'cli-not-electron-app',
      severity: 'error',
      comment:
        'the CLI and the Electron app share code through the layers below, not through each other (the station.json schema both read is app/station/station-config.ts)',
      from: { path: '^app/cli/' },
      to: { path: '^app/(main|preload)/' },
    },
    {
      name: 'electron-app-not-cli',
      severity: 'error',
      comment: 'the Electron app does not run the CLI',
      from: { path: '^app/(main|preload)/' },
      to: { path: '^app/cli/' },
    },
    {
      name: 'renderer-is-browser-code',
      severity: 'error',
      comment: 'app/renderer runs in the browser: it imports nothing outside itself (JSDoc type references are not imports)',
      from: { path: '^app/renderer/' },
      to: { pathNot: '^app/renderer/' },
    },
    {
      name: 'nothing-imports-renderer',
      severity: 'error',
      comment: 'Node code serves the renderer as files, it does not import it',
      from: { pathNot: '^app/renderer/' },
      to: { path: '^app/renderer/' },
    },
    {
      name: 'electron-only-in-the-kiosk',
      severity: 'error',
      comment: 'only app/main and app/preload import electron, so tests and the CLI never load it',
      from: { pathNot: '^app/(main|preload)/' },
      to: { path: '(^|/)node_modules/electron/' },
    },
    {
      name: 'auditor-apart-from-the-station',
      severity: 'error',
      comment: "the auditor (app/audit/) checks the station's records with as little of the station's code as possible: not the station, the kiosk, the CLI, the printers, the county log (only its C2SP formats in app/county/tlog/, for county proofs), nor the publisher's workings",
      from: { path: '^app/audit/' },
      to: { path: [`^app/(station|main|preload|renderer|cli|print|county)/`, PUBLISHER], pathNot: '^app/county/tlog/' },
    },
  ],
  options: {
    // node_modules is a symlink in worktrees: its resolved paths may lie outside the tree, so match anywhere
    doNotFollow: { path: '(^|/)node_modules/' },
    exclude: { path: '(^|/)(dist|test-output|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['require', 'node', 'default'] },
  },
};
