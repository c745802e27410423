import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import schema from '../../schemas/incident-event.schema.json';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false });
addFormats(ajv);
const validate = ajv.compile(schema);

/** Throws with ajv's errors when `event` does not match schemas/incident-event.schema.json. */
export function expectValidIncidentEvent(event: unknown): void {
  if (!validate(event)) {
    throw new Error(`event does not match the schema: ${JSON.stringify(validate.errors, null, 2)}`);
  }
}
