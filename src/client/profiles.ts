import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'smol-toml';
import { writeFileAtomic } from '../base/atomic-file.ts';
import { TideError } from '../base/errors.ts';
import { parseAddress } from './cluster-client.ts';
import { clientErrorCodes } from './errors.ts';

/**
 * Named connection profiles, so `tide` and `Tide.connect({ profile })` know where a cluster is.
 * Stored as TOML (default `~/.tide/config.toml`), replaced atomically on every change:
 *
 * ```toml
 * version = 1                    # format version; other versions are refused, not guessed at
 * current_profile = "local"      # the profile used when none is named (optional)
 *
 * [profiles.local]
 * bootstrap = ["127.0.0.1:9092"] # one or more SPU addresses, host:port
 * client_id = "tide"             # optional
 * ```
 *
 * Keys Tide does not know are refused, so a typo does not silently fall back to a default.
 */

export const profilesFormatVersion = 1;

/** One named cluster. */
export interface Profile {
  /** SPU addresses, `host:port`; any one that answers is enough. */
  readonly bootstrap: readonly string[];
  /** Client id sent in requests (optional). */
  readonly clientId?: string;
}

/** The whole profiles file. */
export interface ProfileConfig {
  readonly version: number;
  /** The profile used when none is named, or null. */
  readonly currentProfile: string | null;
  readonly profiles: Readonly<Record<string, Profile>>;
}

const profileName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** `~/.tide/config.toml`, the default location of the profiles file. */
export function defaultProfilesPath(home: string = homedir()): string {
  return join(home, '.tide', 'config.toml');
}

function profileError(message: string, cause?: unknown): TideError {
  return new TideError(clientErrorCodes.profile, message, cause === undefined ? {} : { cause });
}

/** Why `name` cannot name a profile, or undefined. */
export function profileNameProblem(name: string): string | undefined {
  return profileName.test(name)
    ? undefined
    : `profile name "${name}" must start with a letter or digit and use only letters, digits, '.', '_' and '-' (at most 64)`;
}

/** Reads the profiles file; a missing file is an empty configuration. Bad content throws PROFILE. */
export async function loadProfiles(path: string): Promise<ProfileConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { version: profilesFormatVersion, currentProfile: null, profiles: {} };
    }
    throw profileError(`cannot read profiles file ${path}: ${(error as Error).message}`, error);
  }
  let data: Record<string, unknown>;
  try {
    data = parse(text);
  } catch (error) {
    throw profileError(`profiles file ${path} is not valid TOML: ${(error as Error).message}`, error);
  }
  return fromToml(data, path);
}

function fromToml(data: Record<string, unknown>, path: string): ProfileConfig {
  const { version, current_profile: current, profiles, ...unknown } = data;
  const where = `profiles file ${path}`;
  if (version !== profilesFormatVersion) {
    throw profileError(
      `${where} has version ${String(version)}; this tide reads version ${profilesFormatVersion}`,
    );
  }
  refuseUnknownKeys(unknown, where);
  if (current !== undefined && typeof current !== 'string') {
    throw profileError(`${where}: current_profile must be a string`);
  }
  if (profiles !== undefined && !isTable(profiles))
    throw profileError(`${where}: [profiles] must be a table`);
  const parsed: Record<string, Profile> = {};
  for (const [name, value] of Object.entries(profiles ?? {})) {
    parsed[name] = profileFromToml(value, `${where}, profile "${name}"`);
  }
  return { version: profilesFormatVersion, currentProfile: current ?? null, profiles: parsed };
}

function profileFromToml(value: unknown, where: string): Profile {
  if (!isTable(value)) throw profileError(`${where} must be a table`);
  const { bootstrap, client_id: clientId, ...unknown } = value;
  refuseUnknownKeys(unknown, where);
  if (!Array.isArray(bootstrap) || bootstrap.length === 0 || !bootstrap.every((a) => typeof a === 'string')) {
    throw profileError(`${where}: bootstrap must be a non-empty list of "host:port" strings`);
  }
  for (const address of bootstrap) checkAddress(address, where);
  if (clientId !== undefined && typeof clientId !== 'string') {
    throw profileError(`${where}: client_id must be a string`);
  }
  return clientId === undefined ? { bootstrap } : { bootstrap, clientId };
}

function refuseUnknownKeys(unknown: Record<string, unknown>, where: string): void {
  const keys = Object.keys(unknown);
  if (keys.length > 0)
    throw profileError(`${where}: unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`);
}

function checkAddress(address: string, where: string): void {
  try {
    parseAddress(address);
  } catch (error) {
    throw profileError(`${where}: ${(error as Error).message}`, error);
  }
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Writes the profiles file atomically (temp file, fsync, rename), creating its folder. */
export async function saveProfiles(path: string, config: ProfileConfig): Promise<void> {
  const profiles: Record<string, Record<string, unknown>> = {};
  for (const [name, profile] of Object.entries(config.profiles)) {
    profiles[name] = {
      bootstrap: [...profile.bootstrap],
      ...(profile.clientId === undefined ? {} : { client_id: profile.clientId }),
    };
  }
  const document = {
    version: profilesFormatVersion,
    ...(config.currentProfile === null ? {} : { current_profile: config.currentProfile }),
    profiles,
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${stringify(document)}\n`);
}

/** Reads, changes and writes the profiles file. */
async function update(
  path: string,
  change: (config: ProfileConfig) => ProfileConfig,
): Promise<ProfileConfig> {
  const next = change(await loadProfiles(path));
  await saveProfiles(path, next);
  return next;
}

function requireProfile(config: ProfileConfig, name: string): Profile {
  const profile = config.profiles[name];
  if (profile === undefined) {
    const known = Object.keys(config.profiles);
    throw profileError(
      `no profile named "${name}"${known.length > 0 ? ` (profiles: ${known.join(', ')})` : ' (there are no profiles yet)'}`,
    );
  }
  return profile;
}

/**
 * Adds (or with `replace`, overwrites) a profile. It becomes current when `makeCurrent` is set or
 * when no profile is current yet.
 */
export function addProfile(
  path: string,
  name: string,
  profile: Profile,
  options: { makeCurrent?: boolean; replace?: boolean } = {},
): Promise<ProfileConfig> {
  const problem = profileNameProblem(name);
  if (problem !== undefined) return Promise.reject(profileError(problem));
  if (profile.bootstrap.length === 0)
    return Promise.reject(profileError('a profile needs at least one address'));
  for (const address of profile.bootstrap) {
    try {
      parseAddress(address);
    } catch (error) {
      return Promise.reject(error);
    }
  }
  return update(path, (config) => {
    if (config.profiles[name] !== undefined && options.replace !== true) {
      throw profileError(`profile "${name}" already exists`);
    }
    const makeCurrent = options.makeCurrent === true || config.currentProfile === null;
    return {
      ...config,
      currentProfile: makeCurrent ? name : config.currentProfile,
      profiles: { ...config.profiles, [name]: profile },
    };
  });
}

/** Deletes a profile; deleting the current one leaves no profile current. */
export function deleteProfile(path: string, name: string): Promise<ProfileConfig> {
  return update(path, (config) => {
    requireProfile(config, name);
    const { [name]: _removed, ...profiles } = config.profiles;
    return {
      ...config,
      currentProfile: config.currentProfile === name ? null : config.currentProfile,
      profiles,
    };
  });
}

/** Renames a profile (and the current-profile pointer with it). */
export function renameProfile(path: string, from: string, to: string): Promise<ProfileConfig> {
  const problem = profileNameProblem(to);
  if (problem !== undefined) return Promise.reject(profileError(problem));
  return update(path, (config) => {
    const profile = requireProfile(config, from);
    if (from === to) return config;
    if (config.profiles[to] !== undefined) throw profileError(`profile "${to}" already exists`);
    const { [from]: _renamed, ...others } = config.profiles;
    return {
      ...config,
      currentProfile: config.currentProfile === from ? to : config.currentProfile,
      profiles: { ...others, [to]: profile },
    };
  });
}

/** Makes `name` the current profile. */
export function switchProfile(path: string, name: string): Promise<ProfileConfig> {
  return update(path, (config) => {
    requireProfile(config, name);
    return { ...config, currentProfile: name };
  });
}

/** The current profile, or null when none is set. */
export async function currentProfile(path: string): Promise<{ name: string; profile: Profile } | null> {
  const config = await loadProfiles(path);
  if (config.currentProfile === null) return null;
  return { name: config.currentProfile, profile: requireProfile(config, config.currentProfile) };
}

/**
 * The profile named `name`, or the current one when `name` is undefined. Throws PROFILE with a hint
 * when there is none.
 */
export async function resolveProfile(
  path: string,
  name?: string,
): Promise<{ name: string; profile: Profile }> {
  const config = await loadProfiles(path);
  const chosen = name ?? config.currentProfile;
  if (chosen === null) {
    throw profileError(
      `no current profile in ${path}: add one with \`tide profile add NAME --bootstrap HOST:PORT\`, or pass --bootstrap`,
    );
  }
  return { name: chosen, profile: requireProfile(config, chosen) };
}
