/**
 * Replays one vector file over one connection: for each step, prepare the
 * request, send it, read one response, compare it with the expected one.
 * A failed step does not stop the file.
 */

import { Tag } from '../../src/kmip/spec/index.js';
import { decodeTtlv, encodeTtlv } from '../../src/kmip/ttlv/binary.js';
import type { TtlvDictionary } from '../../src/kmip/ttlv/dictionary.js';
import type { TtlvItem } from '../../src/kmip/ttlv/types.js';
import type { VectorStep } from '../../src/kmip/ttlv/vectors.js';
import { xmlElementToTtlv } from '../../src/kmip/ttlv/xml.js';
import { type Comparison, compareResponse, type Difference, type RuleName } from './compare.js';
import { SentinelTable } from './placeholders.js';
import { noteResponseValues, prepareRequest, type Substitution } from './request.js';
import { type Clock, ReplayState, systemClock } from './state.js';

export type StepOutcome = 'pass' | 'fail' | 'error';

export interface StepResult {
  /** 1-based */
  index: number;
  operations: string[];
  outcome: StepOutcome;
  diff?: Difference;
  differences?: number;
  error?: string;
  info: string[];
  rules: Map<RuleName, number>;
  substitutions: Map<Substitution, number>;
}

/** Sends one encoded request and returns the encoded response. */
export type Exchange = (request: Buffer) => Promise<Buffer>;

export interface ReplayOptions {
  dict: TtlvDictionary;
  clock?: Clock;
  clockSlack?: number;
}

export async function replaySteps(
  steps: readonly VectorStep[],
  exchange: Exchange,
  opts: ReplayOptions,
): Promise<StepResult[]> {
  const state = new ReplayState(opts.clock ?? systemClock);
  const sentinels = new SentinelTable();
  const results: StepResult[] = [];
  let broken: string | undefined;
  for (const [i, step] of steps.entries()) {
    const result: StepResult = {
      index: i + 1,
      operations: operationsOf(step),
      outcome: 'error',
      info: [],
      rules: new Map(),
      substitutions: new Map(),
    };
    results.push(result);
    if (broken !== undefined) {
      result.error = `not sent: ${broken}`;
      continue;
    }
    if (step.response === undefined) {
      result.error = 'the vector has no expected response';
      continue;
    }
    let request: TtlvItem;
    let expected: TtlvItem;
    try {
      const prepared = prepareRequest(step.request, opts.dict, state);
      request = prepared.item;
      result.substitutions = prepared.substitutions;
      expected = xmlElementToTtlv(step.response, opts.dict, {
        placeholder: (text, type) => sentinels.sentinel(text, type),
      });
    } catch (e) {
      result.error = `cannot build the step: ${errorText(e)}`;
      continue;
    }
    let actual: TtlvItem;
    try {
      const answer = await exchange(encodeTtlv(request));
      actual = decodeTtlv(answer);
    } catch (e) {
      result.error = errorText(e);
      if (/closed|timed out|ECONNRESET|EPIPE/.test(result.error)) broken = result.error;
      continue;
    }
    // A request with Init Indicator starts a new stream (KMIP 1.3 §4.29 ff.): its
    // Correlation Value is new, though the TC-STREAM-* files reuse one placeholder.
    if (startsStream(request)) {
      for (const [text, item] of state.bindings) {
        if (item.tag === Tag.CorrelationValue) state.bindings.delete(text);
      }
    }
    const cmp: Comparison = compareResponse(expected, actual, {
      dict: opts.dict,
      sentinels,
      state,
      request,
      clockSlack: opts.clockSlack,
    });
    noteResponseValues(actual, state);
    result.outcome = cmp.ok ? 'pass' : 'fail';
    result.rules = cmp.rules;
    result.info = cmp.info;
    if (cmp.diff) {
      result.diff = cmp.diff;
      result.differences = cmp.differences;
    }
  }
  return results;
}

function startsStream(item: TtlvItem): boolean {
  if (item.tag === Tag.InitIndicator) return item.type === 'Boolean' && item.value;
  return item.type === 'Structure' && item.value.some(startsStream);
}

export function operationsOf(step: VectorStep): string[] {
  return step.request.children
    .filter((c) => c.name === 'BatchItem')
    .map((b) => b.children.find((c) => c.name === 'Operation')?.attrs.value ?? '?');
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
