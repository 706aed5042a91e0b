import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toYaml } from './yaml.ts';

describe('toYaml', () => {
  it('writes nested plain data', () => {
    const data = {
      name: 'orders',
      partitions: 3,
      internal: false,
      rack: null,
      replicas: [1, 2],
      empty: [],
      configs: [
        { name: 'retention.ms', value: '604800000' },
        { name: 'odd', value: 'yes' },
      ],
    };
    assert.equal(
      toYaml(data),
      [
        'name: orders',
        'partitions: 3',
        'internal: false',
        'rack: null',
        'replicas:',
        '  - 1',
        '  - 2',
        'empty: []',
        'configs:',
        '  - name: retention.ms',
        '    value: "604800000"',
        '  - name: odd',
        '    value: "yes"',
        '',
      ].join('\n'),
    );
  });

  it('quotes strings that would read back as something else', () => {
    assert.equal(
      toYaml(['true', '12', 'a: b', ' padded', '', 'host:9092', 'plain text']),
      '- "true"\n- "12"\n- "a: b"\n- " padded"\n- ""\n- host:9092\n- plain text\n',
    );
    assert.equal(toYaml([]), '[]\n');
    assert.equal(toYaml('x'), 'x\n');
  });
});
