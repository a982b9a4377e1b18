/**
 * WAFv2 IP set activities against moto (which checks lock tokens), checked through GetIPSet.
 */
import {
  CreateIPSetCommand,
  GetIPSetCommand,
  ListTagsForResourceCommand,
  UpdateIPSetCommand,
} from '@aws-sdk/client-wafv2';
import { ApplicationFailure } from '@temporalio/common';
import { createAwsClients, destroyAwsClients } from '../../activities/clients';
import { blockedTagKey, createWafv2Activities } from '../../activities/wafv2';
import { emulatorConfig, stepContext, testAws, unique, type TestAws } from '../stack/aws';

let aws: TestAws;
let acts: ReturnType<typeof createWafv2Activities>;
beforeAll(() => {
  aws = testAws();
  acts = createWafv2Activities(aws.clients);
});
afterAll(() => aws.close());

interface Ref {
  ipSetName: string;
  ipSetId: string;
  scope: 'REGIONAL';
}

async function blockList(addresses: string[]): Promise<Ref & { arn: string }> {
  const name = unique('blocklist');
  const out = await aws.clients.wafv2.send(
    new CreateIPSetCommand({
      Name: name,
      Scope: 'REGIONAL',
      IPAddressVersion: 'IPV4',
      Addresses: addresses,
      Description: 'addresses seen attacking',
    }),
  );
  return { ipSetName: name, ipSetId: out.Summary!.Id!, scope: 'REGIONAL', arn: out.Summary!.ARN! };
}

async function get(ref: Ref) {
  const out = await aws.clients.wafv2.send(
    new GetIPSetCommand({ Name: ref.ipSetName, Id: ref.ipSetId, Scope: ref.scope }),
  );
  return {
    addresses: [...(out.IPSet!.Addresses ?? [])].sort(),
    description: out.IPSet!.Description,
    lock: out.LockToken!,
  };
}

async function tagKeys(arn: string): Promise<string[]> {
  const out = await aws.clients.wafv2.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
  return (out.TagInfoForResource?.TagList ?? []).map((t) => t.Key!);
}

const refOf = ({ ipSetName, ipSetId, scope }: Ref): Ref => ({ ipSetName, ipSetId, scope });

describe('wafv2.blockAddress and wafv2.unblockAddress', () => {
  it('adds the address once across a retry, keeps the rest of the set, and the rollback removes it', async () => {
    const set = await blockList(['192.0.2.1/32']);
    const ctx = stepContext('waf');

    const out = await acts['wafv2.blockAddress']({ ...refOf(set), address: '203.0.113.5', ctx });

    expect(out).toEqual({ ipSetArn: set.arn, address: '203.0.113.5/32', added: true });
    expect(await get(set)).toMatchObject({
      addresses: ['192.0.2.1/32', '203.0.113.5/32'],
      description: 'addresses seen attacking',
    });
    expect(await acts['wafv2.blockAddress']({ ...refOf(set), address: '203.0.113.5', ctx })).toEqual(out);
    expect((await get(set)).addresses).toHaveLength(2);

    const removed = await acts['wafv2.unblockAddress']({ ...refOf(set), address: out.address, added: out.added, ctx });
    expect(removed).toEqual({ ipSetArn: set.arn, address: '203.0.113.5/32', removed: true });
    expect(await get(set)).toMatchObject({ addresses: ['192.0.2.1/32'], description: 'addresses seen attacking' });
    expect(await tagKeys(set.arn)).not.toContain(blockedTagKey('203.0.113.5/32'));
    expect(await acts['wafv2.unblockAddress']({ ...refOf(set), address: out.address, added: out.added })).toEqual(
      removed,
    );
  });

  it('an address already blocked is not firebreak’s: reported not added, and the rollback leaves it', async () => {
    const set = await blockList(['192.0.2.1/32']);
    const out = await acts['wafv2.blockAddress']({ ...refOf(set), address: '192.0.2.1/32' });
    expect(out.added).toBe(false);
    expect(await acts['wafv2.unblockAddress']({ ...refOf(set), address: out.address, added: out.added })).toMatchObject(
      { removed: false },
    );
    expect((await get(set)).addresses).toEqual(['192.0.2.1/32']);
  });

  it('reads the set again and retries when another writer changed it since (WAFOptimisticLockException)', async () => {
    const set = await blockList(['192.0.2.1/32']);
    const racing = createAwsClients(emulatorConfig());
    let raced = 0;
    racing.wafv2.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateIPSetCommand' && raced++ === 0) {
          // Another writer updates the set between this action's GetIPSet and its UpdateIPSet.
          const { lock } = await get(set);
          await aws.clients.wafv2.send(
            new UpdateIPSetCommand({
              Name: set.ipSetName,
              Id: set.ipSetId,
              Scope: set.scope,
              Addresses: ['192.0.2.1/32', '198.51.100.1/32'],
              LockToken: lock,
            }),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'race' },
    );
    try {
      const out = await createWafv2Activities(racing)['wafv2.blockAddress']({ ...refOf(set), address: '203.0.113.7' });
      expect(out.added).toBe(true);
      // Two UpdateIPSet calls: the first lost to the other writer; nothing the other writer added was lost.
      expect(raced).toBe(2);
      expect((await get(set)).addresses).toEqual(['192.0.2.1/32', '198.51.100.1/32', '203.0.113.7/32']);
    } finally {
      destroyAwsClients(racing);
    }
  });

  it('dry run: reads only, lists the calls, changes nothing', async () => {
    const set = await blockList(['192.0.2.1/32']);
    const before = await get(set);
    const out = await acts['wafv2.blockAddress']({ ...refOf(set), address: '203.0.113.5', dryRun: true });
    expect(out).toMatchObject({ added: true, dryRun: true });
    expect(out.calls?.map((c) => c.operation)).toEqual(['TagResource', 'UpdateIPSet']);
    expect(out.calls?.[1].input).toMatchObject({
      Addresses: ['192.0.2.1/32', '203.0.113.5/32'],
      LockToken: before.lock,
    });
    expect(await get(set)).toEqual(before);
    expect(await tagKeys(set.arn)).toEqual([]);
  });

  it('names an unknown IP set, non-retryable', async () => {
    const err = await acts['wafv2.blockAddress']({
      ipSetName: 'nope',
      ipSetId: '00000000-0000-0000-0000-000000000000',
      scope: 'REGIONAL',
      address: '203.0.113.5',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as ApplicationFailure).message).toContain(
      'IP set nope (00000000-0000-0000-0000-000000000000, REGIONAL)',
    );
  });
});
