import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TideError } from '../base/errors.ts';
import { LocalMetadataStore, metadataErrorCodes } from './metadata-store.ts';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tide-sc-store-'));
  dirs.push(dir);
  return dir;
}

test('writes naming a stale revision are refused and change nothing', async () => {
  const store = await LocalMetadataStore.open(await tempDir());
  const first = await store.put('topics', 'a', { partitions: 1 }, 0);
  await assert.rejects(store.put('topics', 'a', { partitions: 9 }, 0), (error: unknown) => {
    return error instanceof TideError && error.code === metadataErrorCodes.staleRevision;
  });
  const second = await store.put('topics', 'a', { partitions: 2 }, first);
  assert.ok(second > first);
  await assert.rejects(store.delete('topics', 'a', first), TideError);
  // A batch with one stale write applies none of its writes.
  await assert.rejects(
    store.commit([
      { kind: 'topics', key: 'b', value: { partitions: 1 }, expectedRevision: 0 },
      { kind: 'topics', key: 'a', value: null, expectedRevision: first },
    ]),
    TideError,
  );
  assert.equal(store.get('topics', 'b'), undefined);
  assert.deepEqual(store.get('topics', 'a')?.value, { partitions: 2 });
});

test('state survives a reopen, and the file is replaced without leftovers', async () => {
  const dir = await tempDir();
  const store = await LocalMetadataStore.open(dir);
  const revision = await store.put('spus', '1', { id: 1 }, 0);
  await store.put('topics', 'orders', { partitions: 3 }, 0);
  await store.delete('topics', 'orders', store.get('topics', 'orders')!.revision);
  assert.deepEqual(await readdir(dir), ['metadata.json']);
  const reopened = await LocalMetadataStore.open(dir);
  assert.deepEqual(reopened.get('spus', '1'), { key: '1', revision, value: { id: 1 } });
  assert.equal(reopened.get('topics', 'orders'), undefined);
  assert.equal(reopened.revision, store.revision);
  // Revisions keep rising after a reopen.
  assert.ok((await reopened.put('topics', 'orders', {}, 0)) > store.revision);
  assert.match(await readFile(join(dir, 'metadata.json'), 'utf8'), /"format": 1/);
});

test('an unreadable file fails with METADATA_CORRUPT', async () => {
  const dir = await tempDir();
  await writeFile(join(dir, 'metadata.json'), '{"format": 1, "revision": ');
  await assert.rejects(LocalMetadataStore.open(dir), (error: unknown) => {
    return error instanceof TideError && error.code === metadataErrorCodes.corrupt;
  });
});
