import { expect } from 'chai';
import { isKmipError, KmipError } from '../../../../src/kmip/errors.js';
import { setStandard } from '../../../../src/kmip/model/attributes.js';
import { OPERATIONS } from '../../../../src/kmip/operations/index.js';
import {
  defineCryptoOperation,
  defineObjectOperation,
} from '../../../../src/kmip/operations/support/define.js';
import { StreamRegistry } from '../../../../src/kmip/operations/support/streams.js';
import type { OperationContext } from '../../../../src/kmip/operations/types.js';
import { IdPayload } from '../../../../src/kmip/payloads/lifecycle.js';
import {
  CryptographicUsageMask,
  type KmipVersion,
  ObjectType,
  Operation,
  State,
  Tag,
  UsageLimitsUnit,
} from '../../../../src/kmip/spec/index.js';
import { dateTime, enumeration, longInteger, structure } from '../../../../src/kmip/ttlv/build.js';
import type { TtlvItem } from '../../../../src/kmip/ttlv/types.js';
import { createAes, uid } from '../fixtures.js';
import { useHarness } from '../harness.js';

describe('operations/support/define: the pipeline runs what an operation declares', () => {
  const h = useHarness();
  let calls = 0;
  let between: ((id: string) => Promise<void>) | undefined;

  // Acts on Pre-Active Symmetric Keys that are on-line, like Activate.
  const probe = defineObjectOperation({
    operation: Operation.Activate,
    since: '1.0',
    mutates: true,
    request: IdPayload,
    response: IdPayload,
    object: { states: ['PreActive'], types: [ObjectType.SymmetricKey], online: true },
    async handle(_req, _ctx, target) {
      calls++;
      await between?.(target.obj.id);
      await target.update((obj) => ({
        attributes: setStandard(obj.attributes, enumeration(Tag.State, State.Active)),
      }));
      return { uniqueIdentifier: target.obj.id };
    },
  });

  function ctx(version: KmipVersion): OperationContext {
    return {
      version,
      client: { commonName: 'tester', remoteAddress: '127.0.0.1' },
      principal: { identity: 'tester', tenant: 'default', roles: [], groups: [] },
      idPlaceholder: undefined,
      signal: new AbortController().signal,
      server: {
        vendorIdentification: 't',
        productName: 't',
        productVersion: '0',
        operations: [],
        objectTypes: [],
      },
      services: { objects: h.objects, clock: () => new Date(), streams: new StreamRegistry() },
    };
  }

  async function run(version: KmipVersion, payload: TtlvItem[]): Promise<string | readonly TtlvItem[]> {
    try {
      return await probe.handle(structure(Tag.RequestPayload, payload), ctx(version));
    } catch (e: unknown) {
      if (isKmipError(e)) return e.reason;
      throw e;
    }
  }

  async function newKey(): Promise<string> {
    const created = await h.ok('1.4', Operation.Create, createAes('1.4', 128, 12));
    const id = created.value.find((c) => c.tag === Tag.UniqueIdentifier);
    if (id?.type !== 'TextString') throw new Error('no identifier');
    return id.value;
  }

  beforeEach(() => {
    calls = 0;
    between = undefined;
  });

  it('decodes the request, runs the handler and encodes the response in schema order', async () => {
    const id = await newKey();
    const out = await run('2.1', [uid(id)]);
    expect(out).to.deep.equal([{ tag: Tag.UniqueIdentifier, type: 'TextString', value: id }]);
    expect(calls).to.equal(1);
  });

  for (const [version, reason] of [
    ['1.4', 'ItemNotFound'],
    ['2.1', 'ObjectNotFound'],
  ] as const) {
    it(`answers ${reason} in ${version} for an unknown object, before the handler`, async () => {
      expect(await run(version, [uid('no-such-object')])).to.equal(reason);
      expect(calls).to.equal(0);
    });
  }

  it('needs a Unique Identifier (or an ID Placeholder the executor filled in)', async () => {
    expect(await run('2.1', [])).to.equal('ItemNotFound');
  });

  for (const [version, type, state] of [
    ['1.4', 'InvalidField', 'PermissionDenied'],
    ['2.0', 'InvalidObjectType', 'PermissionDenied'],
    ['2.1', 'InvalidObjectType', 'WrongKeyLifecycleState'],
  ] as const) {
    it(`refuses another Object Type (${type}) and another state (${state}) in ${version}`, async () => {
      const secret = await h.ok(version, Operation.Create, [
        enumeration(Tag.ObjectType, ObjectType.SecretData),
        ...createAes(version, 128, 12).slice(1),
      ]);
      const secretId = secret.value.find((c) => c.tag === Tag.UniqueIdentifier);
      if (secretId?.type !== 'TextString') throw new Error('Create answered no identifier');
      expect(await run(version, [uid(secretId.value)])).to.equal(type);
      const id = await newKey();
      await h.objects.update(id, (obj) => ({
        attributes: setStandard(obj.attributes, enumeration(Tag.State, State.Active)),
      }));
      expect(await run(version, [uid(id)])).to.equal(state);
      expect(calls).to.equal(0);
    });
  }

  it('refuses an archived object with Object Archived when it needs the object on-line', async () => {
    const id = await newKey();
    await h.objects.update(id, (obj) => ({
      attributes: setStandard(obj.attributes, dateTime(Tag.ArchiveDate, new Date())),
    }));
    expect(await run('2.1', [uid(id)])).to.equal('ObjectArchived');
  });

  it('checks the rule again inside the update: a state changed meanwhile is not overwritten', async () => {
    const id = await newKey();
    between = async (target) => {
      await h.objects.update(target, (obj) => ({
        attributes: setStandard(obj.attributes, enumeration(Tag.State, State.Compromised)),
      }));
    };
    expect(await run('2.1', [uid(id)])).to.equal('WrongKeyLifecycleState');
    expect(calls).to.equal(1);
    const after = await h.objects.get(id);
    const state = after?.attributes.find((a) => a.value.tag === Tag.State)?.value;
    expect(state).to.deep.include({ value: State.Compromised });
  });

  it('counts the use a cryptographic step reports only once the step succeeded', async () => {
    let fail = false;
    const step = defineCryptoOperation({
      operation: Operation.Encrypt,
      since: '1.2',
      mutates: true,
      request: IdPayload,
      response: IdPayload,
      usage: { use: 'protect', mask: CryptographicUsageMask.Encrypt, what: 'encrypt' },
      handle(_req, _ctx, key, count) {
        if (key === undefined) throw new Error('the pipeline resolved no key');
        count(key.obj);
        if (fail) throw new KmipError('CryptographicFailure', 'the step failed after counting');
        return { uniqueIdentifier: key.obj.id };
      },
    });
    const id = await newKey();
    await h.objects.update(id, (obj) => ({
      attributes: setStandard(
        setStandard(obj.attributes, enumeration(Tag.State, State.Active)),
        structure(Tag.UsageLimits, [
          longInteger(Tag.UsageLimitsTotal, 2n),
          longInteger(Tag.UsageLimitsCount, 2n),
          enumeration(Tag.UsageLimitsUnit, UsageLimitsUnit.Object),
        ]),
      ),
    }));
    const left = async () => {
      const obj = await h.objects.get(id);
      const limits = obj?.attributes.find((a) => a.value.tag === Tag.UsageLimits)?.value;
      const n =
        limits?.type === 'Structure' ? limits.value.find((c) => c.tag === Tag.UsageLimitsCount) : undefined;
      return n?.type === 'LongInteger' ? n.value : undefined;
    };
    const payload = structure(Tag.RequestPayload, [uid(id)]);
    await step.handle(payload, ctx('2.1'));
    expect(await left()).to.equal(1n);
    fail = true;
    let error: unknown;
    try {
      await step.handle(payload, ctx('2.1'));
    } catch (e: unknown) {
      error = e;
    }
    expect(isKmipError(error) && error.reason).to.equal('CryptographicFailure');
    expect(await left(), 'a failed step spends nothing').to.equal(1n);
  });

  it('gives every registered operation its request and response payload as data', () => {
    for (const op of OPERATIONS) {
      expect(op.request, `operation ${op.operation}`).to.be.an('object');
      expect(op.response, `operation ${op.operation}`).to.be.an('object');
    }
  });
});
