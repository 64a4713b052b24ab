import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ELECTRON = { name: 'electron', message: 'Only app/main and app/preload may import electron.' };

/**
 * Import boundaries between the station and the auditor (issue 17). Each folder below is flat (no
 * subfolders), so a module's relative imports say exactly where they go: `../x` is app/x, `../../x` is the
 * top-level folder x. Anything not allowed is refused, so a new folder of app/ is outside the boundary
 * until someone adds it here.
 *
 * - app/audit, the auditor: a product apart from the station, run by an auditor on their own machine
 *   against a bundle. It may import only app/formats (the contract), the ledger's read-only format and
 *   verification modules named in LEDGER_READ_ONLY, lib/, ballots/ (reading a paper ballot) and
 *   calibration/profile (the scan levels for a ballot image). Never app/station, app/main, app/print,
 *   app/chain (the publisher), app/cli, electron, or the ledger's storage.
 * - app/formats, the contract: the bytes the publisher writes and the auditor reads. It may import only
 *   LEDGER_READ_ONLY and lib/; both products import it, so it can carry nothing of either.
 * - app/chain, the publisher: must not import the auditor (what both need belongs in app/formats).
 */
export const LEDGER_READ_ONLY = ['bundle-format', 'canonical-json', 'checkpoint', 'entries', 'merkle', 'record', 'record-pack', 'tally'];
export const BOUNDARIES = {
  // county/tlog: the C2SP note, checkpoint and tlog-proof formats, read by `audit verify --county-proof`
  'app/audit': { app: ['formats', 'county/tlog'], ledger: LEDGER_READ_ONLY, top: ['lib', 'ballots', 'calibration/profile'] },
  'app/formats': { app: [], ledger: LEDGER_READ_ONLY, top: ['lib'] },
};

/** `no-restricted-imports` allowing, from a flat folder under app/, only the imports `allow` names. */
function onlyImports(folder, allow) {
  const alt = (names) => names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const appAllowed = [...allow.app.map((a) => `${alt([a])}(?:/|$)`), `ledger/(?:${alt(allow.ledger)})$`];
  const message = `${folder} may import only ${[...allow.app.map((a) => `app/${a}`), `app/ledger/{${allow.ledger.join(',')}}`, ...allow.top].join(', ')} (see BOUNDARIES in eslint.config.mjs).`;
  return [
    'error',
    {
      paths: [ELECTRON],
      patterns: [
        // ../x: another folder of app/
        { regex: `^\\.\\./(?!\\.\\./)(?!(?:${appAllowed.join('|')}))`, message },
        // ../../x: a top-level folder
        { regex: `^\\.\\./\\.\\./(?!\\.\\./)(?!(?:${allow.top.map((t) => `${alt([t])}(?:/|$)`).join('|')}))`, message },
        // ../../../x: outside the project
        { regex: '^(?:\\.\\./){3,}', message },
      ],
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'out/**', 'test-output/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': ['error', { paths: [ELECTRON] }],
    },
  },
  {
    // the main process and the preload are the two ends of the Electron bridge; nothing else may import it
    files: ['app/main/**/*.ts', 'app/preload/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  ...Object.entries(BOUNDARIES).map(([folder, allow]) => ({ files: [`${folder}/**/*.ts`], rules: { 'no-restricted-imports': onlyImports(folder, allow) } })),
  {
    files: ['app/chain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [ELECTRON], patterns: [{ regex: '^\\.\\./audit(?:/|$)', message: 'The publisher (app/chain) must not import the auditor (app/audit): what both need belongs in app/formats.' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
