import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeXml, renderSvg } from '../bench/omb/svg.ts';

/** Checks that tags nest and close properly and attribute values are quoted: enough for our output. */
function assertWellFormed(svg: string): void {
  const body = svg.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let position = 0;
  for (let match = tag.exec(body); match !== null; match = tag.exec(body)) {
    const between = body.slice(position, match.index);
    assert.ok(
      !between.includes('<') && !/&(?!amp;|lt;|gt;|quot;|apos;)/.test(between),
      `bad text: ${between}`,
    );
    position = match.index + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (closing === '/') assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (selfClosing !== '/') stack.push(name!);
  }
  assert.equal(body.slice(position).trim(), '', 'text after the root element');
  assert.deepEqual(stack, [], 'unclosed elements');
}

describe('SVG writer', () => {
  const svg = renderSvg([
    {
      title: 'End-to-end latency <RF 1 & RF 3>',
      unit: 'µs',
      categories: ['p50', 'p99'],
      series: [
        { name: 'tide', values: [300, 1500] },
        { name: 'nats-jetstream', values: [200, 90_000] },
      ],
      logScale: true,
    },
    {
      title: 'Publish rate',
      unit: 'msg/s',
      categories: ['throughput-16p-1kb'],
      series: [
        { name: 'tide', values: [150_000] },
        { name: 'redis "streams"', values: [Number.NaN] },
      ],
    },
  ]);

  it('is a well-formed standalone SVG document', () => {
    assert.ok(
      svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'),
    );
    assertWellFormed(svg);
  });

  it('draws one bar per value, none for a missing one, and names every series', () => {
    const bars = svg.match(/<rect [^>]*><title>/g) ?? [];
    assert.equal(bars.length, 5, 'four latency bars and one throughput bar');
    for (const name of ['tide', 'nats-jetstream', 'redis &quot;streams&quot;'])
      assert.ok(svg.includes(`>${name}</text>`), name);
    assert.ok(svg.includes('tide p99: 1.5k µs'), 'bars carry their value in a tooltip');
  });

  it('escapes text', () => {
    assert.ok(svg.includes('End-to-end latency &lt;RF 1 &amp; RF 3&gt;'));
    assert.equal(escapeXml(`a<b>&"c'`), 'a&lt;b&gt;&amp;&quot;c&apos;');
  });

  it('puts taller bars for larger values on a linear scale', () => {
    const linear = renderSvg([
      { title: 't', unit: 'u', categories: ['a', 'b'], series: [{ name: 's', values: [10, 40] }] },
    ]);
    const heights = [...linear.matchAll(/<rect [^>]*height="([\d.]+)"[^>]*><title>/g)].map((match) =>
      Number(match[1]),
    );
    assert.equal(heights.length, 2);
    assert.ok(Math.abs(heights[1]! / heights[0]! - 4) < 0.01, `heights ${heights.join(', ')}`);
  });
});
