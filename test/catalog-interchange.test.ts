import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** Business metadata out to, and in from, an external catalog (JSON and CSV), with classification mapping. */
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
let home: string;
let scratch: string;
const veil = (...args: string[]) => run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args, '--home', home], { cwd: ROOT });

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'veil-interchange-'));
  scratch = mkdtempSync(path.join(os.tmpdir(), 'veil-interchange-files-'));
  await veil('demo', '--rows', '100');
  writeFileSync(path.join(scratch, 'mapping.yaml'), '"PII - Email": pii.email\n"Customer Identifier": pii.id\n"Sensitive": sensitive\n');
});
after(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

test('export lists every dataset and column with tags mapped back to classification names', async () => {
  const out = path.join(scratch, 'export.json');
  await veil('catalog', 'export', '--out', out, '--mapping', path.join(scratch, 'mapping.yaml'));
  const document = JSON.parse(readFileSync(out, 'utf8')) as { format: string; assets: { asset_type: string; full_name: string; classifications: string[]; tags: string[] }[] };
  assert.equal(document.format, 'veil-metadata/1');
  const email = document.assets.find((a) => a.full_name === 'drug_xyz.trial_july2020.email');
  assert.deepEqual(email?.classifications, ['PII - Email']);
  assert.ok(email?.tags.includes('pii.email'));
  assert.ok(document.assets.some((a) => a.asset_type === 'dataset' && a.full_name === 'drug_xyz.adverse_events'));
  assert.ok(!document.assets.some((a) => a.full_name.startsWith('veil_system.')));
  const csv = path.join(scratch, 'export.csv');
  await veil('catalog', 'export', '--out', csv);
  assert.match(readFileSync(csv, 'utf8').split('\n')[0] ?? '', /^asset_type,full_name,description,owner,steward,certification,classifications,tags$/);
});

test('import applies descriptions, owners, certification and mapped classifications; reports the rest', async () => {
  const file = path.join(scratch, 'collibra.csv');
  writeFileSync(
    file,
    [
      'Asset_Type,Full_Name,Description,Owner,Steward,Certification,Classifications,Tags',
      'dataset,drug_xyz.adverse_events,"Adverse events, as reported by sites",safety-team,erin,Validated,Sensitive,',
      'column,drug_xyz.adverse_events.description,"Free text, may contain ""names""",,,,PII - Email;Unknown Class,',
      'column,drug_xyz.adverse_events.nope,x,,,,,',
      'dataset,other.thing,x,,,,,',
    ].join('\n'),
  );
  const dry = JSON.parse((await veil('catalog', 'import', file, '--by', 'erin', '--mapping', path.join(scratch, 'mapping.yaml'), '--dry-run')).stdout) as { dry_run: boolean; applied: string[] };
  assert.equal(dry.dry_run, true);
  const untouched = JSON.parse((await veil('dataset', 'describe', 'drug_xyz.adverse_events')).stdout) as { owner: string };
  assert.notEqual(untouched.owner, 'safety-team', 'a dry run changes nothing');
  const report = JSON.parse((await veil('catalog', 'import', file, '--by', 'erin', '--mapping', path.join(scratch, 'mapping.yaml'))).stdout) as {
    applied: string[];
    unknown_assets: string[];
    unmapped_classifications: string[];
  };
  assert.deepEqual(report.applied, ['drug_xyz.adverse_events', 'drug_xyz.adverse_events.description']);
  assert.deepEqual(report.unknown_assets, ['drug_xyz.adverse_events.nope', 'other.thing']);
  assert.deepEqual(report.unmapped_classifications, ['Unknown Class']);
  const described = JSON.parse((await veil('dataset', 'describe', 'drug_xyz.adverse_events')).stdout) as {
    description: string;
    owner: string;
    steward: string;
    certification: { status: string; by: string };
    tags: string[];
    columns: { name: string; description: string; tags: string[] }[];
  };
  assert.equal(described.description, 'Adverse events, as reported by sites');
  assert.equal(described.owner, 'safety-team');
  assert.equal(described.steward, 'erin');
  assert.deepEqual([described.certification.status, described.certification.by], ['validated', 'erin']);
  assert.ok(described.tags.includes('sensitive'));
  const column = described.columns.find((c) => c.name === 'description');
  assert.equal(column?.description, 'Free text, may contain "names"');
  assert.ok(column?.tags.includes('pii.email'));
});

test('documentation as YAML, the way stewards write it', async () => {
  const file = path.join(scratch, 'docs.yaml');
  writeFileSync(
    file,
    [
      'datasets:',
      '  drug_xyz.trial_july2020:',
      '    description: "**Trial of drug XYZ**, July 2020"',
      '    steward: erin',
      '    certification: validated',
      '    columns:',
      '      dose_mg: Daily dose in milligrams',
      '      email: { description: Contact address, classifications: ["PII - Email"] }',
    ].join('\n'),
  );
  const report = JSON.parse((await veil('catalog', 'import', file, '--by', 'erin', '--mapping', path.join(scratch, 'mapping.yaml'))).stdout) as { applied: string[] };
  assert.deepEqual(report.applied, ['drug_xyz.trial_july2020', 'drug_xyz.trial_july2020.dose_mg', 'drug_xyz.trial_july2020.email']);
  const described = JSON.parse((await veil('dataset', 'describe', 'drug_xyz.trial_july2020')).stdout) as { description: string; certification: { status: string }; columns: { name: string; description: string }[] };
  assert.equal(described.description, '**Trial of drug XYZ**, July 2020');
  assert.equal(described.certification.status, 'validated');
  assert.equal(described.columns.find((c) => c.name === 'dose_mg')?.description, 'Daily dose in milligrams');
});
