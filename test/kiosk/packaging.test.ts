import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const yml = fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8');
/** `key: value` lines under a top-level section (the file is flat enough for this, and no YAML parser is a dependency). */
function section(name: string): string[] {
  const lines = yml.split('\n');
  const start = lines.indexOf(`${name}:`);
  if (start < 0) throw new Error(`no ${name}: section`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.length > 0 && !line.startsWith(' ')) break;
    if (line.trim().length > 0 && !line.trim().startsWith('#')) out.push(line.trim());
  }
  return out;
}

describe('electron-builder.yml', () => {
  test('fuses: no run-as-node, no NODE_OPTIONS, no inspect flags, app only from the asar', () => {
    expect(section('electronFuses')).toEqual(
      expect.arrayContaining(['runAsNode: false', 'enableNodeOptionsEnvironmentVariable: false', 'enableNodeCliInspectArguments: false', 'onlyLoadAppFromAsar: true']),
    );
  });

  test('Linux deb and AppImage; npmRebuild off with its reason', () => {
    expect(section('linux')).toEqual(expect.arrayContaining(['- deb', '- AppImage']));
    expect(yml).toMatch(/^# npmRebuild: false, because .*\n(#.*\n)*npmRebuild: false$/m);
  });

  test('every native module and wasm file the app loads is unpacked from the asar', () => {
    const unpack = section('asarUnpack');
    for (const pkg of ['better-sqlite3', 'sharp', '@serialport/bindings-cpp']) {
      expect(unpack).toContain(`- "**/node_modules/${pkg}/**"`);
      expect(fs.existsSync(path.join(ROOT, 'node_modules', pkg))).toBe(true);
    }
    expect(unpack).toContain('- "**/node_modules/zxing-wasm/dist/**/*.wasm"');
    expect(fs.readdirSync(path.join(ROOT, 'node_modules', 'zxing-wasm', 'dist', 'reader')).some((f) => f.endsWith('.wasm'))).toBe(true);
  });

  test('the packaged entry point is the Electron main this repository builds', () => {
    expect(section('extraMetadata')).toContain('main: dist/app/main/main.js');
    expect(fs.existsSync(path.join(ROOT, 'app', 'main', 'main.ts'))).toBe(true);
  });
});
