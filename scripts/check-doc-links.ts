// Every relative link in the README and the guides resolves: the file exists,
// and a #fragment names a heading in it (GitHub's anchor rules). Run by
// `npm run lint`, so a moved section or a renamed file cannot leave a dead link.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const DOCS = [
  'README.md',
  'bench/README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsIn(file: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && line.match(/^#{1,6}\s+(.*)$/);
    if (heading) anchors.add(anchorOf(heading[1] ?? ''));
  }
  return anchors;
}

const problems: string[] = [];
for (const file of DOCS) {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
  for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target)) continue;
    const [path = '', fragment] = target.split('#');
    const resolved = path ? normalize(join(dirname(file), path)) : file;
    if (!existsSync(join(ROOT, resolved))) {
      problems.push(`${file}: ${target} (no file ${resolved})`);
    } else if (fragment && resolved.endsWith('.md') && !anchorsIn(resolved).has(fragment)) {
      problems.push(`${file}: ${target} (no heading #${fragment} in ${resolved})`);
    }
  }
}
if (problems.length > 0) {
  console.error(`Dead links in the docs:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`Doc links: ${DOCS.length} files, every relative link resolves.`);
