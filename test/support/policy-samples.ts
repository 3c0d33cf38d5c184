/**
 * Policy files the tests send: one whose second policy names a transform that does not exist (its
 * problem is on line 5, where that policy starts), for the API and the web UI alike.
 */
export const BROKEN_POLICY_FILE = `policies:
  - name: fine-one
    subjects: { groups: [research] }
    resources: [{ database: drug_xyz }]
  - name: broken-mask
    subjects: { groups: [research] }
    resources: [{ database: drug_xyz }]
    masks: [{ columns: [email], transform: no_such_transform }]
`;
