/**
 * Runs the tidy check (tools/tidy/check.ts) over this checkout: no violation beyond the naughty
 * list, and no entry on the naughty list that is clean now.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { checkTree, compareWithNaughtyList } from './tidy/check.ts';
import { naughtyList } from './tidy/naughty-list.ts';

const root = resolve(import.meta.dirname, '..');

test('the tree is tidy', () => {
  const violations = checkTree(root);
  const { unexpected, clean } = compareWithNaughtyList(violations, naughtyList);
  assert.deepEqual(unexpected, [], 'violations (fix the code; the naughty list only shrinks)');
  assert.deepEqual(clean, [], 'naughty-list entries that are clean now');
});

test('the naughty list has no duplicates', () => {
  assert.equal(new Set(naughtyList).size, naughtyList.length);
});
