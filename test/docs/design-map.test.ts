import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import MarkdownIt from 'markdown-it';

/**
 * The README and the design map are read by people on a forge that renders Markdown: a stray fence there
 * turned half the README into a code block once, and comments cited "invariant 5" from a map a clone did
 * not have. These checks read the documents the way a renderer does (markdown-it, CommonMark).
 */

const root = resolve(__dirname, '..', '..');
const md = new MarkdownIt();
type Token = ReturnType<typeof md.parse>[number];

function parse(file: string): { text: string; tokens: Token[] } {
  const text = readFileSync(join(root, file), 'utf8');
  return { text, tokens: md.parse(text, {}) };
}

function headings(tokens: Token[]): { level: number; text: string }[] {
  const out: { level: number; text: string }[] = [];
  tokens.forEach((t, i) => {
    if (t.type === 'heading_open') out.push({ level: Number(t.tag.slice(1)), text: tokens[i + 1]?.content ?? '' });
  });
  return out;
}

/** GitHub's anchor for a heading: lower case, punctuation other than '-' and '_' dropped, spaces to '-'. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function links(tokens: Token[]): string[] {
  const out: string[] = [];
  const walk = (ts: Token[]): void => {
    for (const t of ts) {
      if (t.type === 'link_open') out.push(String(t.attrGet('href') ?? ''));
      if (t.children) walk(t.children);
    }
  };
  walk(tokens);
  return out;
}

/** Every fenced block must end with its own closing fence; an unclosed one swallows the rest of the file. */
function unclosedFences(text: string, tokens: Token[]): number[] {
  const lines = text.split('\n');
  return tokens
    .filter((t) => t.type === 'fence' && t.map !== null)
    .filter((t) => {
      const last = lines[(t.map as [number, number])[1] - 1] ?? '';
      return !/^\s*(`{3,}|~{3,})\s*$/.test(last) || (t.map as [number, number])[1] - 1 === (t.map as [number, number])[0];
    })
    .map((t) => (t.map as [number, number])[0] + 1);
}

const documents = ['README.md', 'docs/DESIGN.md'];

describe.each(documents)('%s renders as intended', (file) => {
  const { text, tokens } = parse(file);

  test('every code fence is closed and no heading sits inside a code block', () => {
    expect(unclosedFences(text, tokens)).toEqual([]);
    const swallowed = tokens
      .filter((t) => t.type === 'fence')
      .flatMap((t) => t.content.split('\n').filter((l) => /^#{1,6} \S/.test(l)));
    expect(swallowed).toEqual([]);
  });

  test('every link to a file of the repository reaches an existing file and heading', () => {
    const broken: string[] = [];
    for (const href of links(tokens)) {
      if (/^[a-z]+:/i.test(href)) continue;
      const [path = '', anchor] = href.split('#');
      const target = path === '' ? join(root, file) : resolve(dirname(join(root, file)), path);
      if (!existsSync(target) || relative(root, target).startsWith('..')) {
        broken.push(`${href}: no such file in the repository`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md')) {
        const slugs = headings(parse(relative(root, target)).tokens).map((h) => slug(h.text));
        if (!slugs.includes(anchor)) broken.push(`${href}: no heading with that anchor`);
      }
    }
    expect(broken).toEqual([]);
  });

  test('it sends no reader to a file outside the repository', () => {
    expect(text).not.toMatch(/shared folder|\.\.\/shared\//);
  });
});

test('the README has its sections as top-level headings, in order, none inside another block', () => {
  const level2 = headings(parse('README.md').tokens)
    .filter((h) => h.level === 2)
    .map((h) => h.text.replace(/ \(.*\)$/, ''));
  expect(level2).toEqual(['Quick start', 'Status', 'Commands', 'How it works', 'Development', 'Repository layout']);
  const level3 = headings(parse('README.md').tokens).filter((h) => h.level === 3).map((h) => h.text);
  expect(level3).toEqual(expect.arrayContaining(['The paper', 'Reading ballots']));
});

test('the quick start is exactly two commands: the main job and the whole test suite', () => {
  const { tokens } = parse('README.md');
  const quick = tokens.find((t) => t.type === 'fence' && t.info === 'sh');
  const commands = (quick?.content ?? '').split('\n').filter((l) => l.trim() !== '').map((l) => l.split('#')[0]?.trim());
  expect(commands).toEqual(['npm start', 'npm test']);
});

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.(ts|mjs|js|md|sql)$/.test(name)) out.push(rel);
  }
  return out;
}

test('every "invariant N" the code and its documents cite is defined in docs/DESIGN.md', () => {
  const defined = new Set(
    headings(parse('docs/DESIGN.md').tokens)
      .map((h) => /^Invariant (\d+)\b/.exec(h.text)?.[1])
      .filter((n): n is string => n !== undefined),
  );
  expect(defined.size).toBeGreaterThanOrEqual(7);
  const cited: string[] = [];
  for (const dir of ['app', 'ballots', 'calibration', 'firmware-bridge', 'scripts', 'test']) {
    for (const file of sourceFiles(dir)) {
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(/\binvariants? (\d+)/gi)) {
        if (!defined.has(m[1] as string)) cited.push(`${file}: invariant ${m[1]}`);
      }
    }
  }
  expect(cited).toEqual([]);
});

test('the checks above catch what they are for', () => {
  // the fault this test was written for: a stray fence left open before a section
  const broken = 'text\n\n```\n\n### The paper\n\nmore\n';
  const tokens = md.parse(broken, {});
  expect(unclosedFences(broken, tokens)).toEqual([3]);
  expect(slug('Invariant 1 — no ballot in the box without a durable record')).toBe(
    'invariant-1--no-ballot-in-the-box-without-a-durable-record',
  );
});
