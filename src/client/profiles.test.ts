import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  addProfile,
  currentProfile,
  defaultProfilesPath,
  deleteProfile,
  loadProfiles,
  renameProfile,
  resolveProfile,
  saveProfiles,
  switchProfile,
} from './profiles.ts';

describe('profiles', () => {
  let dir: string;
  let path: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tide-profiles-'));
    path = join(dir, 'nested', 'config.toml');
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('reads a missing file as no profiles', async () => {
    assert.deepEqual(await loadProfiles(join(dir, 'absent.toml')), {
      version: 1,
      currentProfile: null,
      profiles: {},
    });
    assert.equal(await currentProfile(join(dir, 'absent.toml')), null);
    assert.equal(defaultProfilesPath('/home/someone'), '/home/someone/.tide/config.toml');
  });

  it('adds, switches, renames and deletes profiles, writing TOML', async () => {
    await addProfile(path, 'local', { bootstrap: ['127.0.0.1:9092'] });
    await addProfile(path, 'staging', { bootstrap: ['10.0.0.1:9092', '[::1]:9093'], clientId: 'me' });
    assert.equal((await currentProfile(path))?.name, 'local');
    const text = await readFile(path, 'utf8');
    assert.match(text, /^version = 1$/m);
    assert.match(text, /^current_profile = "local"$/m);
    assert.match(text, /^\[profiles\.staging\]$/m);
    assert.match(text, /^client_id = "me"$/m);

    await switchProfile(path, 'staging');
    assert.deepEqual(await currentProfile(path), {
      name: 'staging',
      profile: { bootstrap: ['10.0.0.1:9092', '[::1]:9093'], clientId: 'me' },
    });
    await renameProfile(path, 'staging', 'stage');
    assert.equal((await currentProfile(path))?.name, 'stage');
    assert.deepEqual((await resolveProfile(path, 'local')).profile, { bootstrap: ['127.0.0.1:9092'] });

    await deleteProfile(path, 'stage');
    const config = await loadProfiles(path);
    assert.equal(config.currentProfile, null);
    assert.deepEqual(Object.keys(config.profiles), ['local']);
    assert.deepEqual(await readdir(join(dir, 'nested')), ['config.toml']);
  });

  it('round-trips through save and load', async () => {
    const config = {
      version: 1,
      currentProfile: 'b',
      profiles: { a: { bootstrap: ['h:1'] }, b: { bootstrap: ['h:2', 'h:3'], clientId: 'x' } },
    };
    const file = join(dir, 'round.toml');
    await saveProfiles(file, config);
    assert.deepEqual(await loadProfiles(file), config);
  });

  it('refuses bad changes with clear errors', async () => {
    await assert.rejects(addProfile(path, 'local', { bootstrap: ['h:1'] }), /"local" already exists/);
    await addProfile(path, 'local', { bootstrap: ['h:1'] }, { replace: true, makeCurrent: true });
    assert.deepEqual((await currentProfile(path))?.profile.bootstrap, ['h:1']);
    await assert.rejects(addProfile(path, 'bad name', { bootstrap: ['h:1'] }), { code: 'PROFILE' });
    await assert.rejects(addProfile(path, 'x', { bootstrap: ['nohost'] }), { code: 'INVALID_ARGUMENT' });
    await assert.rejects(addProfile(path, 'x', { bootstrap: [] }), { code: 'PROFILE' });
    await assert.rejects(switchProfile(path, 'nope'), {
      code: 'PROFILE',
      message: /no profile named "nope" \(profiles: local\)/,
    });
    await assert.rejects(deleteProfile(path, 'nope'), { code: 'PROFILE' });
    await assert.rejects(renameProfile(path, 'nope', 'x'), { code: 'PROFILE' });
    await addProfile(path, 'other', { bootstrap: ['h:2'] });
    await assert.rejects(renameProfile(path, 'other', 'local'), /"local" already exists/);
  });

  it('refuses damaged or foreign files instead of guessing', async () => {
    const cases: [string, RegExp][] = [
      ['version = 1\n[profiles.a\n', /not valid TOML/],
      ['version = 2\n', /version 2; this tide reads version 1/],
      ['[profiles.a]\nbootstrap = ["h:1"]\n', /version undefined/],
      ['version = 1\ncolour = "blue"\n', /unknown key colour/],
      ['version = 1\n[profiles.a]\nbootstrap = "h:1"\n', /bootstrap must be a non-empty list/],
      ['version = 1\n[profiles.a]\nbootstrap = ["h"]\n', /profile "a": "h" is not an address/],
      ['version = 1\n[profiles.a]\nbootstrap = ["h:1"]\nport = 3\n', /unknown key port/],
      ['version = 1\ncurrent_profile = 3\n', /current_profile must be a string/],
      ['version = 1\nprofiles = 3\n', /\[profiles\] must be a table/],
    ];
    const file = join(dir, 'bad.toml');
    for (const [content, message] of cases) {
      await writeFile(file, content);
      await assert.rejects(loadProfiles(file), { code: 'PROFILE', message }, content);
    }
    await writeFile(file, 'version = 1\ncurrent_profile = "gone"\n');
    await assert.rejects(resolveProfile(file), /no profile named "gone"/);
    await assert.rejects(resolveProfile(join(dir, 'absent.toml')), /no current profile/);
  });
});
