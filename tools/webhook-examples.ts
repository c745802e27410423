/**
 * Writes the example webhook payloads in docs/examples/ from the sample incident (src/delivery/webhook-sample.ts):
 *   npx tsx tools/webhook-examples.ts
 * test/unit/webhook-formats.test.ts fails when the files differ from what the formats produce now.
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatSlack, formatTeams } from '../src/delivery/webhook-formats';
import { sampleIncidentEvent } from '../src/delivery/webhook-sample';

export const EXAMPLES_DIR = path.resolve(__dirname, '..', 'docs', 'examples');

export function webhookExamples(): Record<string, string> {
  const event = sampleIncidentEvent();
  const pretty = (body: string) => `${JSON.stringify(JSON.parse(body), null, 2)}\n`;
  return {
    'teams-card.json': pretty(formatTeams(event).body),
    'slack-message.json': pretty(formatSlack(event).body),
  };
}

if (require.main === module) {
  fs.mkdirSync(EXAMPLES_DIR, { recursive: true });
  for (const [name, text] of Object.entries(webhookExamples())) {
    fs.writeFileSync(path.join(EXAMPLES_DIR, name), text);
    console.log(`wrote docs/examples/${name}`);
  }
}
