import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseUserDocument } from '../identity/index.ts';
import { parsePolicyDocuments } from '../policy/index.ts';
import type { VeilRuntime } from '../runtime/index.ts';
import { generateTrialData } from './trial-data-generator.ts';

const DEMO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../demo');
export const DEMO_TRIAL_DIR = 'clinical-trials/drug-xyz';

export interface DemoSetupResult {
  readonly generated: boolean;
  readonly trialRows: number;
  /** The demo's users (alice … erin): the sign-in picker of the demo offers them. */
  readonly users: readonly string[];
}

/**
 * Brings a home to the demo state: deterministic synthetic data (only if the home has none),
 * registered and tagged datasets, the demo users and policies. Idempotent: restarting keeps
 * everything, including the audit trail, and re-applies users and policies from demo/.
 */
export async function setupDemo(runtime: VeilRuntime, rows: number, log: (line: string) => void = () => {}): Promise<DemoSetupResult> {
  const trialDir = path.join(runtime.home.storageRoot, DEMO_TRIAL_DIR);
  const trialFile = path.join(trialDir, 'trial-july2020', 'data.csv');
  let generated = false;
  if (!existsSync(trialFile)) {
    log(`generating ${rows.toLocaleString('en-US')} synthetic trial participants in ${trialDir} …`);
    await generateTrialData(trialDir, { rows });
    generated = true;
  }
  // Policies first: the views (and the columnar copies built on registration) then hold the masked
  // values the policies ask for from the start, rather than being copied twice.
  const users = parseUserDocument(readFileSync(path.join(DEMO_DIR, 'users.yaml'), 'utf8'));
  for (const user of users) await runtime.users.put(user);
  await runtime.policies.apply(parsePolicyDocuments(readFileSync(path.join(DEMO_DIR, 'policies.yaml'), 'utf8')));
  const existing = new Set((await runtime.catalog.datasets.list()).map((d) => `${d.database}.${d.name}`));
  if (!existing.has('drug_xyz.trial_july2020')) {
    await runtime.catalog.register({
      name: 'drug_xyz.trial_july2020',
      location: `${DEMO_TRIAL_DIR}/trial-july2020/data.csv`,
      format: 'csv',
      description: 'Phase III trial of drug XYZ, July 2020 enrolment: one row per participant with outcome and safety flags.',
      owner: 'erin',
      tags: ['clinical'],
      columnTypes: { zip: 'VARCHAR', participant_id: 'VARCHAR', site_id: 'VARCHAR' },
      columnTags: {
        participant_id: ['pii.id'],
        full_name: ['pii.name'],
        email: ['pii.email'],
        ssn: ['pii.ssn'],
        date_of_birth: ['phi.dob'],
        zip: ['phi.zip'],
      },
      columnDescriptions: {
        participant_id: 'Study participant identifier (P + 7 digits).',
        outcome_score: 'Primary endpoint score, 0–100.',
        consent_research: 'Participant consented to secondary research use of outcomes.',
      },
    });
    log('registered drug_xyz.trial_july2020');
  }
  if (!existing.has('drug_xyz.adverse_events')) {
    await runtime.catalog.register({
      name: 'drug_xyz.adverse_events',
      location: `${DEMO_TRIAL_DIR}/adverse-events/data.csv`,
      format: 'csv',
      description: 'Adverse events reported during the July 2020 trial of drug XYZ.',
      owner: 'erin',
      tags: ['clinical'],
      columnTypes: { participant_id: 'VARCHAR' },
      columnTags: { participant_id: ['pii.id'], reporter_email: ['pii.email'] },
    });
    log('registered drug_xyz.adverse_events');
  }
  const trial = await runtime.catalog.datasets.find('drug_xyz.trial_july2020');
  return { generated, trialRows: trial ? rows : 0, users: users.map((u) => u.name) };
}
