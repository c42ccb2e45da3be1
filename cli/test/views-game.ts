/**
 * The game of the per-user views tests (views.test.ts, views-history.test.ts): `/hands/{sub}`
 * private to its owner, `/admin` to `claim:role=admin`, `/seed` to nobody; the test's own
 * (independent) projection of it; and the check that a raw body holds no marker of a hidden member
 * (values written by the tests carry `seed-`, `adm-` and `hand-<player>` markers).
 */
import assert from 'node:assert/strict';

export const PLAYERS = ['p1', 'p2', 'p3', 'p4'];
export const GAME_RULES = { views: [{ docs: 'game:*', private: { '/hands/{sub}': 'owner', '/admin': 'claim:role=admin', '/seed': 'nobody' } }] };

/** a reader of the game: who it is and whether it holds role=admin */
export interface GameReader {
  name: string;
  sub: string;
  admin: boolean;
}

/** the independent projection: what `r` may see of the whole state */
export function expected(state: any, r: GameReader): any {
  const out: any = structuredClone(state);
  delete out.seed;
  if (!r.admin) delete out.admin;
  if (out.hands !== null && typeof out.hands === 'object' && !Array.isArray(out.hands)) {
    out.hands = Object.hasOwn(state.hands, r.sub) ? { [r.sub]: state.hands[r.sub] } : {};
  }
  return out;
}

/** fails when a raw body, frame or event holds a marker of a member outside `r`'s view */
export function assertNothingHidden(text: string, r: GameReader, where: string): void {
  assert.ok(!text.includes('seed-'), `${r.name} received the seed (${where}): ${text.slice(0, 300)}`);
  if (!r.admin) assert.ok(!text.includes('adm-'), `${r.name} received /admin (${where}): ${text.slice(0, 300)}`);
  for (const p of PLAYERS) if (p !== r.sub) assert.ok(!text.includes(`hand-${p}`), `${r.name} received ${p}'s hand (${where}): ${text.slice(0, 300)}`);
}
