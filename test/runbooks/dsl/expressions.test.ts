/**
 * The plain-path fast path of runbooks/dsl/expressions.ts must give exactly what JSONata gives: every case here is
 * evaluated both ways and compared, and the classification is checked so the fast path is really the one taken.
 */
import jsonata from 'jsonata';
import { evaluate, plainPathOf, resolveValue } from '../../../runbooks/dsl/expressions';

const byJsonata = async (source: string, context: object) => {
  const out = await jsonata(source).evaluate(context);
  return out === undefined || out === null || typeof out !== 'object' ? out : JSON.parse(JSON.stringify(out));
};

const context = {
  params: { instanceId: 'i-0abc', count: 3, on: false, none: null, list: ['a'], empty: [], nested: [[1], [2]] },
  steps: {
    'protect-termination': { output: { previous: true } },
    preserve: { output: { previous: { volumes: [{ id: 'vol-1', deleteOnTermination: true }], shutdown: 'stop' } } },
    arr: { output: [{ id: 1 }, { id: 2 }] },
    text: { output: 'plain' },
  },
  alert: { resource: { id: 'i-0abc', tags: { Name: 'web' } } },
};

describe('plain paths', () => {
  const plain = [
    'params',
    'params.instanceId',
    'params.count',
    'params.on',
    'params.none',
    'params.list',
    'params.empty',
    'params.nested',
    'params.missing',
    'missing.deeper.still',
    'steps.`protect-termination`.output.previous',
    'steps.preserve.output.previous.volumes',
    'steps.preserve.output.previous',
    'steps.arr.output',
    'alert.resource.tags',
    // These meet an array, null or a string before their last name: JSONata decides them.
    'steps.arr.output.id',
    'params.none.x',
    'steps.text.output.length',
    'params.constructor',
  ];

  it.each(plain)('%s is looked up as JSONata evaluates it', async (source) => {
    expect(plainPathOf(source)).not.toBeNull();
    expect(await evaluate(source, context)).toEqual(await byJsonata(source, context));
  });

  const notPlain = [
    '"firebreak: containing " & params.instanceId',
    '$exists(params.x) ? params.x : params.instanceId',
    'params.list[0]',
    'steps.arr.output[id=2]',
    'params.*',
    '$.params',
    'params.(instanceId)',
    'steps.arr.output^(id)',
    'params{instanceId: count}',
  ];

  it.each(notPlain)('%s is left to JSONata', async (source) => {
    expect(plainPathOf(source)).toBeNull();
    expect(await evaluate(source, context)).toEqual(await byJsonata(source, context));
  });

  it('resolves a with-block of plain paths and literals as the expression-by-expression walk does', async () => {
    const withBlock = {
      instanceId: { $expr: 'params.instanceId' },
      gone: { $expr: 'params.missing' },
      volumes: { $expr: 'steps.preserve.output.previous.volumes' },
      literal: 5,
      list: [{ $expr: 'params.count' }, { $expr: 'params.missing' }, 'x'],
      nested: { on: { $expr: 'params.on' } },
    };
    expect(await resolveValue(withBlock, context)).toEqual({
      instanceId: 'i-0abc',
      volumes: [{ id: 'vol-1', deleteOnTermination: true }],
      literal: 5,
      list: [3, undefined, 'x'],
      nested: { on: false },
    });
    // A block mixing a plain path and a full expression goes through JSONata for the latter only.
    expect(
      await resolveValue({ a: { $expr: 'params.instanceId' }, b: { $expr: '"id " & params.instanceId' } }, context),
    ).toEqual({ a: 'i-0abc', b: 'id i-0abc' });
  });

  it('returns a copy, never the context object itself', async () => {
    const out = (await evaluate('alert.resource.tags', context)) as Record<string, string>;
    out.Name = 'changed';
    expect(context.alert.resource.tags.Name).toBe('web');
  });
});
