/**
 * Summarises a V8 .cpuprofile (written by `bench/load.ts --cpu-prof DIR`):
 * `tsx bench/lib/cpuprofile.ts FILE [TOP] [--last SECONDS]` prints the self
 * time by function and by source file, the biggest first; `--last` keeps only
 * the samples of the profile's last SECONDS (the measured phase, not the preload).
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileLine {
  name: string;
  ms: number;
  percent: number;
}

function shortUrl(url: string): string {
  const i = url.indexOf('/src/');
  if (i >= 0) return url.slice(i + 1);
  const n = url.lastIndexOf('node_modules/');
  if (n >= 0) return url.slice(n);
  return url === '' ? '(native)' : url.replace(/^file:\/\//, '');
}

export function summarizeProfile(
  profile: CpuProfile,
  lastSeconds = Number.POSITIVE_INFINITY,
): { byFunction: ProfileLine[]; byFile: ProfileLine[]; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const from = profile.endTime - lastSeconds * 1e6;
  let at = profile.startTime;
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from) return;
    totalUs += dt;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  });
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const url = shortUrl(node.callFrame.url);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${url}:${node.callFrame.lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
    file.set(url, (file.get(url) ?? 0) + us);
  }
  const lines = (m: Map<string, number>): ProfileLine[] =>
    [...m]
      .map(([name, us]) => ({ name, ms: us / 1000, percent: (100 * us) / totalUs }))
      .sort((a, b) => b.ms - a.ms);
  return { byFunction: lines(fn), byFile: lines(file), totalMs: totalUs / 1000 };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const li = args.indexOf('--last');
  const last = li < 0 ? Number.POSITIVE_INFINITY : Number(args.splice(li, 2)[1]);
  const file = args[0];
  if (file === undefined || Number.isNaN(last)) {
    console.error('usage: tsx bench/lib/cpuprofile.ts FILE.cpuprofile [TOP] [--last SECONDS]');
    process.exitCode = 2;
  } else {
    const top = Number(args[1] ?? 25);
    const s = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, last);
    console.log(`total ${s.totalMs.toFixed(0)} ms`);
    console.log('\nself time by function:');
    for (const l of s.byFunction.slice(0, top))
      console.log(`${l.percent.toFixed(1).padStart(5)}%  ${l.name}`);
    console.log('\nself time by file:');
    for (const l of s.byFile.slice(0, top)) console.log(`${l.percent.toFixed(1).padStart(5)}%  ${l.name}`);
  }
}
