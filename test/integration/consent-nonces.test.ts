/**
 * The used consent `state` nonces stay bounded: a nonce is refused a second time while its state is valid,
 * and rows of expired states are deleted when the next consent is recorded.
 */
import { TableClient } from '@azure/data-tables';
import { TenantRegistry } from '../../src/tenants/tenant-registry';
import { storageConnectionString, uniqueSuffix } from '../helpers/world';

test('a used nonce is refused again; nonces of expired states are pruned by the next consent', async () => {
  const table = TableClient.fromConnectionString(storageConnectionString(), `nonces${uniqueSuffix()}`, {
    allowInsecureConnection: true,
  });
  let now = new Date('2026-11-27T10:00:00Z');
  const registry = new TenantRegistry(table, [], () => now);
  const tenantId = '11111111-2222-3333-4444-555555555555';

  expect(await registry.consumeNonce('n1', { tenantId, expiresAt: '2026-11-27T10:30:00.000Z' })).toBe(true);
  expect(await registry.consumeNonce('n1', { tenantId, expiresAt: '2026-11-27T10:30:00.000Z' })).toBe(false);
  expect(await registry.consumeNonce('n2', { tenantId, expiresAt: '2026-11-27T11:30:00.000Z' })).toBe(true);

  // An hour later n1's state has expired (n2's has not): the next consent removes n1's row only.
  now = new Date('2026-11-27T11:00:00Z');
  expect(await registry.consumeNonce('n3', { tenantId, expiresAt: '2026-11-27T11:30:00.000Z' })).toBe(true);
  const left: string[] = [];
  for await (const row of table.listEntities({ queryOptions: { filter: "PartitionKey eq 'consent-state'" } }))
    left.push(row.rowKey!);
  expect(left.sort()).toEqual(['n2', 'n3']);
  // n2 is still guarded.
  expect(await registry.consumeNonce('n2', { tenantId, expiresAt: '2026-11-27T11:30:00.000Z' })).toBe(false);
});
