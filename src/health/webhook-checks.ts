/**
 * Deep health of one webhook destination of WEBHOOKS: the Key Vault secrets it names exist and hold
 * what the delivery needs: the URL secret an absolute https:// URL, the signing secret (when named) a
 * Standard Webhooks secret (whsec_<base64>). A failure names the destination and the secret, never the
 * secret's value. Whether the URL answers is `defender-relay webhook test <name>`'s job (it sends).
 */
import type { SecretSource } from '../auth/key-vault-secrets';
import type { WebhookDestinationConfig } from '../config/webhook-destinations';
import { signingKeys } from '../delivery/webhook-signer';

async function read(
  secrets: SecretSource | undefined,
  destination: WebhookDestinationConfig,
  name: string,
): Promise<string> {
  if (!secrets)
    throw new Error(
      `Webhook "${destination.name}": KEY_VAULT_URL is not set, so secret '${name}' cannot be read.`,
    );
  try {
    return await secrets.get(name);
  } catch (error) {
    throw new Error(
      `Webhook "${destination.name}": ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

export async function checkWebhookDestination(
  secrets: SecretSource | undefined,
  destination: WebhookDestinationConfig,
): Promise<string> {
  const url = await read(secrets, destination, destination.urlSecret);
  let https = false;
  try {
    https = new URL(url.trim()).protocol === 'https:';
  } catch {
    // not a URL: reported below
  }
  if (!https)
    throw new Error(
      `Webhook "${destination.name}": Key Vault secret '${destination.urlSecret}' does not hold an absolute https:// URL (store the endpoint's URL in it).`,
    );
  if (destination.signingSecret) {
    const signing = await read(secrets, destination, destination.signingSecret);
    try {
      signingKeys(signing);
    } catch (error) {
      throw new Error(
        `Webhook "${destination.name}": Key Vault secret '${destination.signingSecret}' is refused: ${(error as Error).message}.`,
        { cause: error },
      );
    }
  }
  return `Webhook "${destination.name}" (${destination.format}): its URL${destination.signingSecret ? ' and signing secret are' : ' is'} in Key Vault (${destination.signingSecret ? 'signed' : 'unsigned'}).`;
}
