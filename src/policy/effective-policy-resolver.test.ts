import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dataset } from '../catalog/index.ts';
import type { Principal } from '../identity/index.ts';
import { resolveEffectivePolicy } from './effective-policy-resolver.ts';
import { validatePolicy } from './policy-validation.ts';

const dataset: Dataset = {
  database: 'db',
  name: 'people',
  location: 'x.csv',
  format: 'csv',
  csv: {},
  description: '',
  owner: '',
  tags: ['clinical'],
  columns: [
    { name: 'id', type: 'VARCHAR', tags: ['pii.id'] },
    { name: 'email', type: 'VARCHAR', tags: ['pii.email'] },
    { name: 'score', type: 'DOUBLE', tags: [] },
    { name: 'region', type: 'VARCHAR', tags: [] },
  ],
  createdAt: '',
  updatedAt: '',
};
const now = new Date('2026-06-01T00:00:00Z');
const ann: Principal = { user: 'ann', groups: ['analysts'], attributes: { region: ['US'] } };
const grant = (extra: Record<string, unknown> = {}) => ({ name: 'grant', subjects: { groups: ['analysts'] }, resources: [{ database: 'db' }], ...extra });
const access = (policies: Record<string, unknown>[], who = ann) => {
  const effective = resolveEffectivePolicy(who, dataset, policies.map(validatePolicy), now);
  return { effective, columns: Object.fromEntries(effective.columns.map((c) => [c.column.name, c.access])) };
};

test('default deny: no policy, no access, not even existence', () => {
  const { effective } = access([]);
  assert.equal(effective.visible, false);
  assert.equal(effective.readable, false);
});

test('a grant on the database gives every column in clear', () => {
  const { effective, columns } = access([{ name: 'g', subjects: { users: ['ann'] }, resources: [{ database: 'db' }] }]);
  assert.equal(effective.readable, true);
  assert.deepEqual(columns, { id: 'clear', email: 'clear', score: 'clear', region: 'clear' });
});

test('a grant by column tag gives only the tagged columns', () => {
  const { columns } = access([{ name: 'g', subjects: { users: ['ann'] }, resources: [{ tag: 'pii.email' }] }]);
  assert.deepEqual(columns, { id: 'hidden', email: 'clear', score: 'hidden', region: 'hidden' });
});

test('deny beats grant, whatever the order', () => {
  const deny = { name: 'a-deny', effect: 'deny', subjects: { groups: ['analysts'] }, resources: [{ dataset: 'db.people' }] };
  const g = { name: 'z-grant', subjects: { groups: ['analysts'] }, resources: [{ database: 'db' }] };
  for (const order of [[deny, g], [g, deny]]) {
    const { effective } = access(order);
    assert.equal(effective.readable, false);
    assert.equal(effective.denial, 'denied by a-deny');
    assert.equal(effective.visible, true, 'a select deny leaves existence known');
  }
});

test('a deny on a column tag hides just those columns', () => {
  const { columns } = access([
    { name: 'g', subjects: { users: ['ann'] }, resources: [{ database: 'db' }] },
    { name: 'd', effect: 'deny', subjects: { users: ['ann'] }, resources: [{ tag: 'pii' }] },
  ]);
  assert.deepEqual(columns, { id: 'hidden', email: 'hidden', score: 'clear', region: 'clear' });
});

test('the strongest mask wins, conditional stronger masks layer on top', () => {
  const { effective } = access([
    { name: 'g', subjects: { users: ['ann'] }, resources: [{ database: 'db' }], masks: [{ columns: ['email'], transform: 'email_domain' }] },
    { name: 'r1', effect: 'restrict', subjects: { everyone: true }, resources: [{ database: 'db' }], masks: [{ columns: ['email'], transform: 'null', when: "region = 'DE'" }] },
    { name: 'r2', effect: 'restrict', subjects: { everyone: true }, resources: [{ database: 'db' }], masks: [{ columns: ['email'], transform: 'round(1)', when: 'score > 1' }] },
  ]);
  const email = effective.columns.find((c) => c.column.name === 'email');
  assert.deepEqual(email?.masks.map((m) => [m.transform.text, m.when ?? null, m.policy]), [
    ['null', "region = 'DE'", 'r1'],
    ['email_domain', null, 'g'],
  ]);
});

test('row filters from every applicable policy are all applied', () => {
  const { effective } = access([
    grant({ row_filter: "region = user_attribute('region')" }),
    { name: 'r', effect: 'restrict', subjects: { everyone: true }, resources: [{ dataset: 'db.people' }], row_filter: 'score > 0' },
  ]);
  assert.deepEqual(effective.rowFilters.map((f) => f.policy), ['grant', 'r']);
});

test('restrict alone gives no access', () => {
  const { effective } = access([{ name: 'r', effect: 'restrict', subjects: { everyone: true }, resources: [{ database: 'db' }], row_filter: 'true' }]);
  assert.equal(effective.readable, false);
  assert.equal(effective.visible, false);
});

test('subjects: attributes, except, everyone', () => {
  const byAttribute = { name: 'g', subjects: { attributes: { region: ['US', 'CA'] } }, resources: [{ database: 'db' }] };
  assert.equal(access([byAttribute]).effective.readable, true);
  assert.equal(access([byAttribute], { ...ann, attributes: { region: ['DE'] } }).effective.readable, false);
  assert.equal(access([byAttribute], { ...ann, attributes: {} }).effective.readable, false);
  const everyoneButAnalysts = { name: 'g', subjects: { everyone: true, except: { groups: ['analysts'] } }, resources: [{ database: 'db' }] };
  assert.equal(access([everyoneButAnalysts]).effective.readable, false);
  assert.equal(access([everyoneButAnalysts], { user: 'bo', groups: [], attributes: {} }).effective.readable, true);
});

test('validity windows', () => {
  assert.equal(access([grant({ valid_until: '2026-01-01' })]).effective.readable, false);
  assert.equal(access([grant({ valid_from: '2027-01-01' })]).effective.readable, false);
  assert.equal(access([grant({ valid_from: '2026-01-01', valid_until: '2027-01-01' })]).effective.readable, true);
  assert.equal(access([grant({ enabled: false })]).effective.readable, false);
});

test('describe-only grants make a dataset visible but not readable', () => {
  const { effective } = access([{ name: 'd', actions: ['describe'], subjects: { users: ['ann'] }, resources: [{ database: 'db' }] }]);
  assert.equal(effective.visible, true);
  assert.equal(effective.readable, false);
});

test('a dataset tag is inherited by every column', () => {
  const { columns } = access([grant({ hide: { tags: ['clinical'] } })]);
  assert.deepEqual(columns, { id: 'hidden', email: 'hidden', score: 'hidden', region: 'hidden' });
});

test('policy validation rejects misspelt keys and bad transforms', () => {
  assert.throws(() => validatePolicy({ name: 'x', subjects: { everyone: true }, resources: [{ database: 'db' }], row_fliter: 'x' }), /unknown key "row_fliter"/);
  assert.throws(() => validatePolicy({ name: 'x', subjects: { everyone: true }, resources: [{ database: 'db' }], masks: [{ columns: ['a'], transform: 'bogus' }] }), /unknown transform/);
  assert.throws(() => validatePolicy({ name: 'x', subjects: {}, resources: [{ database: 'db' }] }), /subjects must name/);
  assert.throws(() => validatePolicy({ name: 'x', effect: 'deny', subjects: { everyone: true }, resources: [{ database: 'db' }], row_filter: 'true' }), /deny policy takes no/);
});

test('parameters count in mask strength: the less revealing one wins, whatever the policy names', () => {
  for (const [first, second] of [['a', 'b'], ['b', 'a']]) {
    const { effective } = access([
      grant(),
      { name: first, effect: 'restrict', subjects: { everyone: true }, resources: [{ database: 'db' }], masks: [{ columns: ['email'], transform: 'mask_show_last(4)' }, { columns: ['score'], transform: 'round(1)' }] },
      { name: second, effect: 'restrict', subjects: { everyone: true }, resources: [{ database: 'db' }], masks: [{ columns: ['email'], transform: 'mask_show_last(1)' }, { columns: ['score'], transform: 'round(0)' }] },
    ]);
    const layers = (name: string) => effective.columns.find((c) => c.column.name === name)?.masks.map((m) => m.transform.text);
    assert.deepEqual(layers('email'), ['mask_show_last(1)']);
    assert.deepEqual(layers('score'), ['round(0)']);
  }
});
