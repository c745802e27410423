/**
 * Storage clients, reached the way the Functions host reaches its own storage: the AzureWebJobsStorage
 * connection string locally (Azurite), identity-based service URIs with a managed identity in Azure.
 * Built once at start (composition root) and shared.
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { isLocalStorageConnection, type StorageConfig } from '../config/settings';

export interface StorageClients {
  queues: QueueServiceClient;
  /** For the incidents queue: no SDK retries, so the destination sees (and counts) every resend. */
  deliveryQueues: QueueServiceClient;
  blobs: BlobServiceClient;
  table(name: string): TableClient;
}

const NO_RETRIES = { retryOptions: { maxTries: 1 } };

export function createStorageClients(
  config: StorageConfig,
  credential: () => TokenCredential,
): StorageClients {
  if (config.connectionString) {
    const cs = config.connectionString;
    // Azurite answers over plain http; the SDKs accept it only when told so, and only for this machine
    // (loadConfig refuses DefaultEndpointsProtocol=http for a storage account elsewhere).
    const allowInsecureConnection =
      /(^|;)\s*(DefaultEndpointsProtocol=http|UseDevelopmentStorage=true)\s*(;|$)/i.test(cs) &&
      isLocalStorageConnection(cs);
    return {
      queues: QueueServiceClient.fromConnectionString(cs),
      deliveryQueues: QueueServiceClient.fromConnectionString(cs, NO_RETRIES),
      blobs: BlobServiceClient.fromConnectionString(cs),
      table: (name) => TableClient.fromConnectionString(cs, name, { allowInsecureConnection }),
    };
  }
  const { blobServiceUri, queueServiceUri, tableServiceUri } = config;
  if (!blobServiceUri || !queueServiceUri || !tableServiceUri) {
    throw new Error('identity-based storage needs the blob, queue and table service URIs');
  }
  const cred = credential();
  return {
    queues: new QueueServiceClient(queueServiceUri, cred),
    deliveryQueues: new QueueServiceClient(queueServiceUri, cred, NO_RETRIES),
    blobs: new BlobServiceClient(blobServiceUri, cred),
    table: (name) => new TableClient(tableServiceUri, name, cred),
  };
}
